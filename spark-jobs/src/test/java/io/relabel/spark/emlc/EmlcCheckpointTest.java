package io.relabel.spark.emlc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.core.emlc.EmlcSpec;
import io.relabel.core.emlc.EmlcTrainer;
import io.relabel.core.emlc.MetaGradient;
import io.relabel.core.emlc.MetaTrainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Checkpoints on the local file system of a tiny seeded run: what is read back is bit for bit what training had, and
 * training on from it ends where an uninterrupted run ends.
 */
class EmlcCheckpointTest {

  private static final int D = 5;
  private static final int C = 3;
  private static final long SEED = 17;

  private final Configuration conf = new Configuration();

  @TempDir
  Path tmp;

  /** Random rows with random labels (FLOAT); the checkpoint does not care whether training learns anything. */
  private static MetaTrainer.Rows rows(int n, long seed) {
    Random rng = new Random(seed);
    double[] x = new double[n * D];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = rng.nextInt(C);
      for (int j = 0; j < D; j++) {
        x[i * D + j] = rng.nextGaussian() + (j == y[i] ? 1.5 : 0.0);
      }
    }
    return new MetaTrainer.Rows(Nd4j.create(x, new long[] {n, D}, 'c').castTo(DataType.FLOAT), y);
  }

  private static final MetaTrainer.Rows NOISY = rows(60, 1);
  private static final MetaTrainer.Rows TRUSTED = rows(20, 2);
  private static final MetaTrainer.Rows VALIDATION = rows(30, 3);

  private static MetaTrainer trainer(EmlcSpec.Mode mode, int epochs) {
    EmlcSpec spec = new EmlcSpec(mode, 6, 8, 1, 3, 4, 2, 10, 10, epochs, 0.1, 0.1, 0.9, 5e-4, 1.0, true,
        MetaGradient.Mode.EXACT, 2, 0.2, 1000, "", 0);
    return new MetaTrainer(spec, D, C, DataType.FLOAT);
  }

  private static EmlcTrainer.Progress fit(MetaTrainer t, EmlcTrainer.Progress from, EmlcTrainer.Listener listener) {
    return EmlcTrainer.fit(t, from, EmlcTrainer.local(t, NOISY, TRUSTED, SEED), t.groupsPerEpoch(NOISY.size()),
        VALIDATION, listener);
  }

  private static EmlcTrainer.Progress fresh(MetaTrainer t) {
    return EmlcTrainer.Progress.start(t.init(SEED));
  }

  private static void assertBits(double[] expected, double[] actual, String what) {
    assertEquals(expected.length, actual.length, what + " length");
    for (int i = 0; i < expected.length; i++) {
      if (Double.doubleToRawLongBits(expected[i]) != Double.doubleToRawLongBits(actual[i])) {
        throw new AssertionError(what + " differs at " + i + ": " + expected[i] + " vs " + actual[i]);
      }
    }
  }

  private static void assertSameProgress(EmlcTrainer.Progress expected, EmlcTrainer.Progress actual) {
    assertEquals(expected.epochsDone(), actual.epochsDone());
    assertEquals(expected.bestEpoch(), actual.bestEpoch());
    assertEquals(expected.history(), actual.history());
    assertBits(expected.state(), actual.state(), "state");
    assertBits(expected.best(), actual.best(), "best");
  }

  private static void assertSameTraining(EmlcTrainer.Progress expected, EmlcTrainer.Progress actual) {
    assertEquals(expected.epochsDone(), actual.epochsDone());
    assertEquals(expected.bestEpoch(), actual.bestEpoch());
    assertEquals(expected.history().size(), actual.history().size());
    for (int e = 0; e < expected.history().size(); e++) {
      assertEquals(expected.history().get(e).validationAccuracy(), actual.history().get(e).validationAccuracy());
      assertEquals(expected.history().get(e).validationLoss(), actual.history().get(e).validationLoss());
    }
    assertBits(expected.state(), actual.state(), "state");
    assertBits(expected.best(), actual.best(), "best");
  }

  @Test
  void resumingGivesBackWhatFitReturnedAndTrainsOnAsIfNeverStopped() throws IOException {
    String dir = tmp.resolve("ckpt").toString();
    MetaTrainer two = trainer(EmlcSpec.Mode.EMLC, 2);
    assertTrue(new EmlcCheckpoint(dir, conf, "run-a", two).resume().isEmpty(), "no directory, no checkpoint");

    EmlcTrainer.Progress fitted = fit(two, fresh(two), new EmlcCheckpoint(dir, conf, "run-a", two));
    EmlcTrainer.Progress resumed = new EmlcCheckpoint(dir, conf, "run-a", two).resume().orElseThrow();
    assertSameProgress(fitted, resumed);

    MetaTrainer three = trainer(EmlcSpec.Mode.EMLC, 3);
    EmlcTrainer.Progress continued = fit(three, resumed, null);
    EmlcTrainer.Progress uninterrupted = fit(three, fresh(three), null);
    assertSameTraining(uninterrupted, continued);

    // the saved student is an ordinary DL4J network that predicts what the trainer's student predicts
    MultiLayerNetwork student = ModelSerializer.restoreMultiLayerNetwork(
        tmp.resolve("ckpt").resolve(EmlcCheckpoint.LATEST).resolve(EmlcCheckpoint.STUDENT).toFile(), false);
    INDArray expected = two.studentProba(two.live(fitted.state()), VALIDATION.x());
    double err = expected.sub(student.output(VALIDATION.x())).amaxNumber().doubleValue();
    assertTrue(err < 1e-5, "saved student's probabilities differ by " + err);
  }

  @Test
  void anMlcRunComesBackExactly() {
    String dir = tmp.resolve("mlc").toString();
    MetaTrainer t = trainer(EmlcSpec.Mode.MLC, 2);
    EmlcTrainer.Progress fitted = fit(t, fresh(t), new EmlcCheckpoint(dir, conf, "run-m", t));
    assertSameProgress(fitted, new EmlcCheckpoint(dir, conf, "run-m", t).resume().orElseThrow());
  }

  @Test
  void aCheckpointOfOtherSettingsIsRefusedWithWhatToDo() {
    String dir = tmp.resolve("other").toString();
    MetaTrainer t = trainer(EmlcSpec.Mode.EMLC, 1);
    fit(t, fresh(t), new EmlcCheckpoint(dir, conf, "run-a", t));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> new EmlcCheckpoint(dir, conf, "run-b", t).resume());
    assertEquals("EMLC checkpoint in " + dir + " was written for other settings or input; delete it or set "
        + "relabel.emlc.checkpointDir elsewhere", e.getMessage());
  }

  @Test
  void onlyACompleteCheckpointCounts() throws IOException {
    String dir = tmp.resolve("steps").toString();
    MetaTrainer t = trainer(EmlcSpec.Mode.EMLC, 2);
    EmlcTrainer.Progress fitted = fit(t, fresh(t), new EmlcCheckpoint(dir, conf, "run-a", t));
    EmlcCheckpoint checkpoint = new EmlcCheckpoint(dir, conf, "run-a", t);
    FileSystem fs = new org.apache.hadoop.fs.Path(dir).getFileSystem(conf);
    org.apache.hadoop.fs.Path root = new org.apache.hadoop.fs.Path(dir);
    org.apache.hadoop.fs.Path latest = new org.apache.hadoop.fs.Path(root, EmlcCheckpoint.LATEST);
    org.apache.hadoop.fs.Path previous = new org.apache.hadoop.fs.Path(root, EmlcCheckpoint.PREVIOUS);
    // two epochs written: the second replaced the first, and no staging directory is left
    assertEquals(List.of(EmlcCheckpoint.LATEST), names(fs, root));

    // a crash between moving the old checkpoint aside and renaming the new one into place
    assertTrue(fs.rename(latest, previous));
    assertSameProgress(fitted, checkpoint.resume().orElseThrow());
    // ... or while an object store was still copying the new one: latest is there but not complete
    Files.createDirectories(tmp.resolve("steps").resolve(EmlcCheckpoint.LATEST));
    Files.writeString(tmp.resolve("steps").resolve(EmlcCheckpoint.LATEST).resolve(EmlcCheckpoint.PROGRESS), "{}");
    assertSameProgress(fitted, checkpoint.resume().orElseThrow());
    assertTrue(fs.delete(previous, true));
    assertTrue(checkpoint.resume().isEmpty(), "an incomplete checkpoint is no checkpoint");

    // the next epoch's checkpoint replaces the incomplete one
    checkpoint.epochDone(fitted);
    assertEquals(List.of(EmlcCheckpoint.LATEST), names(fs, root));
    assertSameProgress(fitted, checkpoint.resume().orElseThrow());
    assertTrue(fs.delete(latest, true));
    assertTrue(checkpoint.resume().isEmpty(), "an empty directory holds no checkpoint");
  }

  private static List<String> names(FileSystem fs, org.apache.hadoop.fs.Path dir) throws IOException {
    List<String> out = new ArrayList<>();
    for (FileStatus s : fs.listStatus(dir)) {
      out.add(s.getPath().getName());
    }
    return out;
  }
}
