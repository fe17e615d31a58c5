package io.relabel.spark.emlc;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.relabel.core.config.RelabelParams;
import io.relabel.core.emlc.Dl4jNetworks;
import io.relabel.core.emlc.EmlcTrainer;
import io.relabel.core.emlc.MetaTrainer;
import io.relabel.core.emlc.Params;
import io.relabel.core.model.ModelZips;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checkpoints of a teacher-stage training run, so that a run stopped after some epochs (a lost driver, a killed job)
 * goes on from the last finished epoch instead of from scratch, and ends exactly where an uninterrupted run would.
 *
 * <p>The networks are saved in DL4J's own format ({@link ModelSerializer} zips of the {@link Dl4jNetworks} forms,
 * without updater state), so a user can load a checkpoint's student or teacher with DL4J alone; the SGD velocities,
 * which DL4J's networks have no place for, go to {@code velocity.bin}. The layout, inside the directory:
 *
 * <pre>  latest/teacher.zip, student.zip            the state after the last finished epoch
 *  latest/best-teacher.zip, best-student.zip  the state of the best epoch so far (model selection)
 *  latest/velocity.bin                        velocities of both states
 *  latest/progress.json                       epochs done, best epoch, per-epoch figures, fingerprint</pre>
 *
 * <p>The best state's velocities are stored too, though nothing trains on from them: without them the best state
 * read back would not be the one {@link EmlcTrainer#fit} returned, and resuming would not be exact.
 *
 * <p>Every epoch writes a complete checkpoint into a fresh staging directory, {@code progress.json} last, and only
 * then replaces {@code latest}: the old one is moved to {@code previous}, the new one renamed to {@code latest}, and
 * {@code previous} deleted. A crash at any point leaves a complete {@code latest} or a complete {@code previous},
 * which {@link #resume()} takes. That holds where rename is atomic (local file systems, HDFS); object stores (S3,
 * GCS) rename by copying file after file, so a crash during the replacement can leave {@code latest} partly
 * copied. {@link #resume()} counts a checkpoint only when all six files are there, but on an object store it may then
 * find none and the run starts over.
 *
 * <p>The fingerprint stands for the settings and input a run trains on; a checkpoint is only resumed by a run with the
 * same one, because continuing another run's weights on other data would silently give a model of neither.
 *
 * <p>A checkpoint that cannot be written fails the run (as an {@link UncheckedIOException}) rather than letting it
 * train on without the protection it was asked for; the previous checkpoint stays intact.
 */
public final class EmlcCheckpoint implements EmlcTrainer.Listener {

  private static final Logger LOG = LoggerFactory.getLogger(EmlcCheckpoint.class);

  /** The version of this layout, in {@code progress.json}; another one is not read. */
  public static final int FORMAT = 1;

  static final String LATEST = "latest";
  static final String PREVIOUS = "previous";
  static final String STAGING_PREFIX = "_staging-";

  static final String TEACHER = "teacher.zip";
  static final String STUDENT = "student.zip";
  static final String BEST_TEACHER = "best-teacher.zip";
  static final String BEST_STUDENT = "best-student.zip";
  static final String VELOCITY = "velocity.bin";
  static final String PROGRESS = "progress.json";
  private static final List<String> FILES = List.of(TEACHER, STUDENT, BEST_TEACHER, BEST_STUDENT, VELOCITY, PROGRESS);

  /** "RLV1": the first four bytes of {@code velocity.bin}. */
  private static final int VELOCITY_MAGIC = 0x524c5631;

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  /** What {@code progress.json} holds. */
  record ProgressFile(int format, String fingerprint, String mode, int epochsDone, int bestEpoch,
      List<EmlcTrainer.Epoch> history) {}

  private final String dir;
  private final Path root;
  private final FileSystem fs;
  private final String fingerprint;
  private final MetaTrainer trainer;

  public EmlcCheckpoint(String dir, Configuration conf, String fingerprint, MetaTrainer trainer) {
    this.dir = dir;
    this.fingerprint = fingerprint;
    this.trainer = trainer;
    try {
      Path p = new Path(dir);
      this.fs = p.getFileSystem(conf);
      this.root = fs.makeQualified(p);
    } catch (IOException e) {
      throw new UncheckedIOException("EMLC checkpoint directory " + dir + " cannot be opened", e);
    }
  }

  @Override
  public void epochDone(EmlcTrainer.Progress progress) {
    try {
      write(progress);
    } catch (IOException e) {
      throw new UncheckedIOException("EMLC checkpoint after epoch " + progress.epochsDone() + " could not be written"
          + " to " + dir, e);
    }
  }

  /**
   * The progress of the checkpoint in the directory, if it holds a complete one; empty for a missing or empty
   * directory.
   *
   * @throws IllegalStateException if the checkpoint was written for another fingerprint or in another format
   */
  public Optional<EmlcTrainer.Progress> resume() {
    try {
      Path from = complete(new Path(root, LATEST)) ? new Path(root, LATEST)
          : complete(new Path(root, PREVIOUS)) ? new Path(root, PREVIOUS) : null;
      if (from == null) {
        return Optional.empty();
      }
      EmlcTrainer.Progress p = read(from);
      LOG.info("{}: resuming after epoch {} of {} from checkpoint {}", trainer.spec().mode(), p.epochsDone(),
          trainer.spec().epochs(), from);
      return Optional.of(p);
    } catch (IOException e) {
      throw new UncheckedIOException("EMLC checkpoint in " + dir + " cannot be read", e);
    }
  }

  /** Why a checkpoint cannot be resumed, and the two ways on. */
  private static String refusal(String dir, String why) {
    return "EMLC checkpoint in " + dir + " " + why + "; delete it or set " + RelabelParams.EMLC_CHECKPOINT_DIR.key()
        + " elsewhere";
  }

  private void write(EmlcTrainer.Progress progress) throws IOException {
    removeStaleStaging();
    Path staging = new Path(root, STAGING_PREFIX + UUID.randomUUID());
    try {
      MetaTrainer.Live now = trainer.live(progress.state());
      MetaTrainer.Live best = trainer.live(progress.best());
      writeModel(new Path(staging, TEACHER), Dl4jNetworks.teacher(trainer.teacher(), now.teacher()));
      writeModel(new Path(staging, STUDENT), Dl4jNetworks.student(trainer.student(), now.student()));
      writeModel(new Path(staging, BEST_TEACHER), Dl4jNetworks.teacher(trainer.teacher(), best.teacher()));
      writeModel(new Path(staging, BEST_STUDENT), Dl4jNetworks.student(trainer.student(), best.student()));
      try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(
          fs.create(new Path(staging, VELOCITY), false)))) {
        out.writeInt(VELOCITY_MAGIC);
        for (Params v : List.of(now.teacherVelocity(), now.studentVelocity(), best.teacherVelocity(),
            best.studentVelocity())) {
          writeParams(out, v);
        }
      }
      try (OutputStream out = fs.create(new Path(staging, PROGRESS), false)) {
        JSON.writeValue(out, new ProgressFile(FORMAT, fingerprint, trainer.spec().mode().name(),
            progress.epochsDone(), progress.bestEpoch(), progress.history()));
      }
      replaceLatest(staging);
    } finally {
      if (fs.exists(staging)) {
        fs.delete(staging, true);
      }
    }
    LOG.debug("EMLC checkpoint after epoch {} written to {}", progress.epochsDone(), root);
  }

  /** Moves a complete staging directory into place; see the class comment for why in these steps. */
  private void replaceLatest(Path staging) throws IOException {
    Path latest = new Path(root, LATEST);
    Path previous = new Path(root, PREVIOUS);
    if (complete(latest)) {
      if (fs.exists(previous)) {
        fs.delete(previous, true);
      }
      if (!fs.rename(latest, previous)) {
        throw new IOException("could not move " + latest + " aside to " + previous);
      }
    } else if (fs.exists(latest)) {
      // the remains of a replacement an object store did not finish; previous, if there, is the one to keep
      fs.delete(latest, true);
    }
    if (!fs.rename(staging, latest)) {
      throw new IOException("could not rename " + staging + " to " + latest);
    }
    if (fs.exists(previous) && !fs.delete(previous, true)) {
      LOG.warn("EMLC checkpoint: could not delete the replaced checkpoint {}", previous);
    }
  }

  /** Staging directories of a writer that died; only one run writes into a checkpoint directory at a time. */
  private void removeStaleStaging() throws IOException {
    if (!fs.exists(root)) {
      return;
    }
    for (FileStatus s : fs.listStatus(root)) {
      if (s.isDirectory() && s.getPath().getName().startsWith(STAGING_PREFIX)) {
        fs.delete(s.getPath(), true);
      }
    }
  }

  private boolean complete(Path checkpoint) throws IOException {
    for (String f : FILES) {
      if (!fs.exists(new Path(checkpoint, f))) {
        return false;
      }
    }
    return true;
  }

  private EmlcTrainer.Progress read(Path from) throws IOException {
    ProgressFile pf;
    try (InputStream in = fs.open(new Path(from, PROGRESS))) {
      pf = JSON.readValue(in, ProgressFile.class);
    }
    if (pf.format() != FORMAT) {
      throw new IllegalStateException(refusal(dir, "has format " + pf.format() + ", this relabel reads format "
          + FORMAT));
    }
    if (!fingerprint.equals(pf.fingerprint())) {
      throw new IllegalStateException(refusal(dir, "was written for other settings or input"));
    }
    List<Params> velocities = new ArrayList<>(4);
    try (DataInputStream in = new DataInputStream(new BufferedInputStream(fs.open(new Path(from, VELOCITY))))) {
      if (in.readInt() != VELOCITY_MAGIC) {
        throw new IOException(new Path(from, VELOCITY) + " is not a velocity file");
      }
      for (int i = 0; i < 4; i++) {
        velocities.add(readParams(in));
      }
    }
    double[] state = state(from, TEACHER, STUDENT, velocities.get(0), velocities.get(1));
    double[] best = state(from, BEST_TEACHER, BEST_STUDENT, velocities.get(2), velocities.get(3));
    return new EmlcTrainer.Progress(pf.epochsDone(), state, best, pf.bestEpoch(), List.copyOf(pf.history()));
  }

  /** One flat state from two saved networks and their velocities, checked against the trainer's shapes. */
  private double[] state(Path from, String teacherFile, String studentFile, Params teacherVelocity,
      Params studentVelocity) throws IOException {
    Params teacher = Dl4jNetworks.teacherParams(trainer.teacher(), readGraph(new Path(from, teacherFile)));
    Params student = Dl4jNetworks.studentParams(trainer.student(), readNetwork(new Path(from, studentFile)));
    checkSameShapes(teacher, teacherVelocity, new Path(from, VELOCITY));
    checkSameShapes(student, studentVelocity, new Path(from, VELOCITY));
    return trainer.state(MetaTrainer.Live.of(teacher, teacherVelocity, student, studentVelocity));
  }

  private static void checkSameShapes(Params weights, Params velocity, Path file) throws IOException {
    boolean same = weights.count() == velocity.count();
    for (int i = 0; same && i < weights.count(); i++) {
      same = Arrays.equals(weights.get(i).shape(), velocity.get(i).shape());
    }
    if (!same) {
      throw new IOException(file + " holds velocities of other shapes than the saved networks");
    }
  }

  private void writeModel(Path file, Model model) throws IOException {
    try (OutputStream out = fs.create(file, false)) {
      ModelSerializer.writeModel(model, out, false);
    }
  }

  private ComputationGraph readGraph(Path file) throws IOException {
    try (InputStream in = fs.open(file)) {
      return ModelZips.restoreGraph(in.readAllBytes(), file.toString());
    }
  }

  private MultiLayerNetwork readNetwork(Path file) throws IOException {
    try (InputStream in = fs.open(file)) {
      return ModelZips.restoreNetwork(in.readAllBytes(), file.toString());
    }
  }

  /** Matrix count, then per matrix rows, columns and the values in row-major order as doubles (exact for FLOAT). */
  private static void writeParams(DataOutputStream out, Params p) throws IOException {
    out.writeInt(p.count());
    for (int i = 0; i < p.count(); i++) {
      INDArray a = p.get(i);
      out.writeInt((int) a.rows());
      out.writeInt((int) a.columns());
      for (double v : a.dup('c').data().asDouble()) {
        out.writeDouble(v);
      }
    }
  }

  private Params readParams(DataInputStream in) throws IOException {
    int count = in.readInt();
    List<INDArray> arrays = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      int rows = in.readInt();
      int cols = in.readInt();
      double[] v = new double[rows * cols];
      for (int j = 0; j < v.length; j++) {
        v[j] = in.readDouble();
      }
      arrays.add(Nd4j.create(v, new long[] {rows, cols}, 'c').castTo(trainer.dataType()));
    }
    return new Params(arrays);
  }
}
