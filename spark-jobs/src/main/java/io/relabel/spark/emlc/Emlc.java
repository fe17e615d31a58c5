package io.relabel.spark.emlc;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.not;

import io.relabel.core.emlc.EmlcSpec;
import io.relabel.core.emlc.EmlcTrainer;
import io.relabel.core.emlc.MetaTrainer;
import io.relabel.core.util.RowSeeds;
import io.relabel.spark.cli.RelabelException;
import io.relabel.spark.io.Batches;
import io.relabel.spark.train.Features;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The EMLC stage on Spark (methods.md section 3, distributed as the design card asks): the driver coordinates
 * parameter averaging of teacher and student together.
 *
 * <ol>
 *   <li>One split, by row: noisy rows are the labeled, trainable, untrusted ones; trusted rows are divided by a
 *       seeded hash of their key into teacher-training and validation rows. No row is in two of the three sets.</li>
 *   <li>Per-dimension standardisation from a distributed sum.</li>
 *   <li>Each partition's noisy rows become one cached {@link Shard}; the trusted rows (bounded by
 *       relabel.emlc.maxTrusted) are broadcast.</li>
 *   <li>A round: the state (both networks and their velocities) is broadcast, every partition runs
 *       relabel.emlc.averagingFrequency meta-steps on its shard, and treeAggregate brings back the mean state.</li>
 *   <li>After every epoch the driver scores the student on the validation rows and keeps the best epoch.</li>
 * </ol>
 *
 * With one partition and averaging after every group the rounds are the single-process trainer cut into pieces, and
 * the result is the same to the bit (a test checks it). Partitions are the canonical ones (a hash of the row id over a
 * configured number of workers), so a cluster and local mode give the same model.
 */
public final class Emlc {

  private static final Logger LOG = LoggerFactory.getLogger(Emlc.class);

  /** The output column: the teacher's soft label of every row (array&lt;float&gt;, one entry per class). */
  public static final String SOFT_LABEL = "emlc_soft_label";

  /** Which columns of the working table the stage reads. */
  public record Columns(String key, String x, String label, String trusted, String trainable) implements Serializable {}

  /** The trained teacher and student, ready to score rows, and what the run measured. */
  public static final class Trained implements Serializable {
    private static final long serialVersionUID = 1L;
    final EmlcSpec spec;
    final int dim;
    final int classes;
    final Standardizer standardizer;
    final double[] best;
    final Map<String, Object> metrics;

    Trained(EmlcSpec spec, int dim, int classes, Standardizer standardizer, double[] best,
        Map<String, Object> metrics) {
      this.spec = spec;
      this.dim = dim;
      this.classes = classes;
      this.standardizer = standardizer;
      this.best = best;
      this.metrics = metrics;
    }

    public Map<String, Object> metrics() {
      return metrics;
    }

    public double[] state() {
      return best.clone();
    }

    public EmlcSpec spec() {
      return spec;
    }
  }

  private static final long VALIDATION = RowSeeds.stageKey("emlc.validation");

  private Emlc() {}

  /** Whether a trusted row (by its ordering key) validates rather than trains the teacher. */
  static boolean validates(long seed, long key, double share) {
    long bits = RowSeeds.mix(RowSeeds.mix(seed ^ VALIDATION) ^ key);
    return (bits >>> 11) * 0x1.0p-53 < share;
  }

  /** The split, standardised and laid out for training: what {@link #train} needs. */
  static final class Prepared {
    final Standardizer standardizer;
    final Standardizer.Sums sums;
    final MetaTrainer.Rows trustedTrain;
    final MetaTrainer.Rows validation;
    final JavaRDD<Shard> shards;
    final List<Integer> sizes;

    Prepared(Standardizer standardizer, Standardizer.Sums sums, MetaTrainer.Rows trustedTrain,
        MetaTrainer.Rows validation, JavaRDD<Shard> shards, List<Integer> sizes) {
      this.standardizer = standardizer;
      this.sums = sums;
      this.trustedTrain = trustedTrain;
      this.validation = validation;
      this.shards = shards;
      this.sizes = sizes;
    }

    void release() {
      shards.unpersist(false);
    }
  }

  /**
   * Trains teacher and student on {@code work} (canonical partitions, embedding column {@code x} of width
   * {@code dim}). With relabel.emlc.checkpointDir set, every epoch is checkpointed there and a run whose settings
   * and rows match a checkpoint resumes from it.
   */
  public static Trained fit(Dataset<Row> work, Columns c, int dim, int classes, EmlcSpec spec, long seed) {
    Prepared p = prepare(work, c, dim, spec, seed);
    try {
      return train(p, JavaSparkContext.fromSparkContext(work.sparkSession().sparkContext()), dim, classes, spec, seed);
    } finally {
      p.release();
    }
  }

  static Prepared prepare(Dataset<Row> work, Columns c, int dim, EmlcSpec spec, long seed) {
    String mode = spec.mode().name().toLowerCase(java.util.Locale.ROOT);
    Column noisyRows = col(c.trainable()).and(not(col(c.trusted()))).and(col(c.label()).isNotNull());
    Column trustedRows = col(c.trainable()).and(col(c.trusted())).and(col(c.label()).isNotNull());

    // the standardiser (and a cheap identity of the rows) from every row the networks train on
    Standardizer.Sums sums = work.filter(noisyRows.or(trustedRows)).select(c.key(), c.x()).toJavaRDD()
        .treeAggregate(new Standardizer.Sums(dim), (s, r) -> s.add(Features.floats(r, 1, dim), r.getLong(0)),
            Standardizer.Sums::merge);
    Standardizer std = Standardizer.of(sums);

    // the trusted rows, to the driver: a small set by contract (relabel.emlc.maxTrusted), in key order
    long trustedCount = work.filter(trustedRows).count();
    if (trustedCount > spec.maxTrusted()) {
      throw new RelabelException("relabel.emlc.mode=" + mode + ": column " + c.trusted() + " marks " + trustedCount
          + " trainable rows, more than relabel.emlc.maxTrusted=" + spec.maxTrusted() + " (they are broadcast to"
          + " every partition); raise it or mark fewer rows trusted");
    }
    List<Row> trusted = work.filter(trustedRows).select(c.key(), c.x(), c.label()).orderBy(c.key())
        .collectAsList();
    List<float[]> tx = new ArrayList<>();
    List<Integer> ty = new ArrayList<>();
    List<float[]> vx = new ArrayList<>();
    List<Integer> vy = new ArrayList<>();
    for (Row r : trusted) {
      float[] z = new float[dim];
      std.apply(Features.floats(r, 1, dim), z, 0);
      boolean val = validates(seed, r.getLong(0), spec.validationShare());
      (val ? vx : tx).add(z);
      (val ? vy : ty).add(r.getInt(2));
    }
    if (tx.isEmpty() || vx.isEmpty()) {
      throw new RelabelException("relabel.emlc.mode=" + mode + " needs trusted rows (column " + c.trusted()
          + " = true, labeled, outside the held-out split) both to train the teacher and to pick its best epoch;"
          + " found " + trustedCount + ", of which " + tx.size() + " train and " + vx.size() + " validate"
          + " (relabel.emlc.validationShare=" + spec.validationShare() + ")");
    }

    // one shard per canonical partition, cached for all rounds
    JavaRDD<Shard> shards = work.filter(noisyRows).select(c.x(), c.label()).toJavaRDD()
        .mapPartitionsWithIndex((idx, it) -> Collections.singletonList(shard(idx, it, dim, std)).iterator(), true)
        .persist(StorageLevel.MEMORY_AND_DISK());
    List<Integer> sizes = shards.map(s -> s.rows).collect();
    if (sizes.stream().mapToInt(Integer::intValue).sum() == 0) {
      shards.unpersist(false);
      throw new RelabelException("relabel.emlc.mode=" + mode + " found no untrusted labeled rows to correct"
          + " (column " + c.label() + ")");
    }
    return new Prepared(std, sums, rows(tx, ty, dim), rows(vx, vy, dim), shards, sizes);
  }

  static Trained train(Prepared p, JavaSparkContext jsc, int dim, int classes, EmlcSpec spec, long seed) {
    MetaTrainer trainer = new MetaTrainer(spec, dim, classes, DataType.FLOAT);
    int groups = 0;
    int noisy = 0;
    for (int n : p.sizes) {
      noisy += n;
      groups = n == 0 ? groups : Math.max(groups, trainer.groupsPerEpoch(n));
    }
    Broadcast<float[]> trustedX = jsc.broadcast(p.trustedTrain.x().data().asFloat());
    Broadcast<int[]> trustedY = jsc.broadcast(p.trustedTrain.y());
    EmlcTrainer.Rounds rounds = rounds(jsc, p.shards, trustedX, trustedY, spec, dim, classes, seed);
    EmlcCheckpoint checkpoint = spec.checkpointDir().isEmpty() ? null : new EmlcCheckpoint(spec.checkpointDir(),
        jsc.hadoopConfiguration(), fingerprint(spec, seed, dim, classes, p.sums), trainer);
    EmlcTrainer.Progress from = checkpoint == null ? null : checkpoint.resume().orElse(null);
    if (from != null) {
      LOG.info("{}: resuming from the checkpoint in {} after epoch {}", spec.mode(), spec.checkpointDir(),
          from.epochsDone());
    } else {
      from = EmlcTrainer.Progress.start(trainer.init(seed));
    }
    int startEpoch = from.epochsDone();
    long t0 = System.nanoTime();
    EmlcTrainer.Progress done = EmlcTrainer.fit(trainer, from, rounds, groups, p.validation, checkpoint);
    double seconds = (System.nanoTime() - t0) / 1e9;
    trustedX.destroy(false);
    trustedY.destroy(false);

    Map<String, Object> m = new LinkedHashMap<>();
    m.put("mode", spec.mode().name().toLowerCase(java.util.Locale.ROOT));
    m.put("noisyRows", noisy);
    m.put("trustedTrainRows", p.trustedTrain.size());
    m.put("validationRows", p.validation.size());
    m.put("partitions", p.sizes.size());
    m.put("groupsPerEpoch", groups);
    m.put("averagingFrequency", spec.averagingFrequency());
    m.put("epochs", done.epochsDone());
    m.put("resumedAtEpoch", startEpoch);
    m.put("bestEpoch", done.bestEpoch() + 1);
    m.put("validationAccuracy", done.history().get(done.bestEpoch()).validationAccuracy());
    int ran = done.epochsDone() - startEpoch;
    if (ran > 0) {
      // per epoch: the meta-step epochs of this run alone (warm-up passes and scoring excluded)
      double epochSeconds = 0;
      for (EmlcTrainer.Epoch e : done.history().subList(startEpoch, done.epochsDone())) {
        epochSeconds += e.seconds();
      }
      m.put("trainSeconds", seconds);
      m.put("secondsPerEpoch", epochSeconds / ran);
      m.put("warmUpSeconds", startEpoch == 0 ? seconds - epochSeconds : 0.0);
    }
    List<Double> curve = new ArrayList<>();
    for (EmlcTrainer.Epoch e : done.history()) {
      curve.add(e.validationAccuracy());
    }
    m.put("validationCurve", curve);
    return new Trained(spec, dim, classes, p.standardizer, done.best(), m);
  }

  /** What a checkpoint must match to be resumed: settings, seed, shapes and the rows trained on. */
  static String fingerprint(EmlcSpec spec, long seed, int dim, int classes, Standardizer.Sums sums) {
    // the checkpoint's own place and the epoch count may change between runs: more epochs extend a finished run
    String settings = spec.toString().replace("checkpointDir=" + spec.checkpointDir(), "")
        .replace("epochs=" + spec.epochs() + ",", "");
    return settings + "|seed=" + seed + "|dim=" + dim + "|classes=" + classes + "|rows=" + sums.count + "|keys="
        + Long.toHexString(sums.keyHash);
  }

  /**
   * The distributed round: broadcast the state, run {@code count} groups on every partition's shard, and average
   * the resulting states (a partition without rows sits the round out).
   */
  static EmlcTrainer.Rounds rounds(JavaSparkContext jsc, JavaRDD<Shard> shards, Broadcast<float[]> trustedX,
      Broadcast<int[]> trustedY, EmlcSpec spec, int dim, int classes, long seed) {
    return (state, epoch, first, count) -> {
      Broadcast<double[]> b = jsc.broadcast(state);
      try {
        double[][] sum = shards.mapPartitions((Iterator<Shard> it) -> {
          List<double[][]> out = new ArrayList<>();
          while (it.hasNext()) {
            Shard s = it.next();
            if (s.rows == 0) {
              continue;
            }
            MetaTrainer t = new MetaTrainer(spec, dim, classes, DataType.FLOAT);
            MetaTrainer.Live live = t.live(b.value());
            int[] ty = trustedY.value();
            MetaTrainer.Rows trusted = new MetaTrainer.Rows(
                Nd4j.create(trustedX.value(), new long[] {ty.length, dim}, 'c'), ty);
            t.run(live, s.toRows(), trusted, seed, epoch, s.partition, first, count);
            out.add(new double[][] {t.state(live), {1.0}});
          }
          return out.iterator();
        }).treeAggregate(null, Emlc::addStates, Emlc::addStates);
        double n = sum[1][0];
        double[] mean = sum[0];
        // the networks train in float: round the mean as the next round's float networks will, so the state (and
        // a checkpoint of it) holds exactly what is trained on
        for (int i = 0; i < mean.length; i++) {
          mean[i] = (float) (mean[i] / n);
        }
        return mean;
      } finally {
        b.destroy(false);
      }
    };
  }

  private static double[][] addStates(double[][] a, double[][] b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    double[][] out = new double[][] {a[0].clone(), {a[1][0] + b[1][0]}};
    for (int i = 0; i < out[0].length; i++) {
      out[0][i] += b[0][i];
    }
    return out;
  }

  private static Shard shard(int partition, Iterator<Row> it, int dim, Standardizer std) {
    List<Row> rows = new ArrayList<>();
    it.forEachRemaining(rows::add);
    float[] x = new float[rows.size() * dim];
    int[] y = new int[rows.size()];
    for (int i = 0; i < rows.size(); i++) {
      std.apply(Features.floats(rows.get(i), 0, dim), x, i * dim);
      y[i] = rows.get(i).getInt(1);
    }
    return new Shard(partition, rows.size(), dim, x, y);
  }

  private static MetaTrainer.Rows rows(List<float[]> x, List<Integer> y, int dim) {
    int[] labels = y.stream().mapToInt(Integer::intValue).toArray();
    return new MetaTrainer.Rows(Nd4j.create(flatten(x, dim), new long[] {labels.length, dim}, 'c'), labels);
  }

  private static float[] flatten(List<float[]> rows, int dim) {
    float[] out = new float[rows.size() * dim];
    for (int i = 0; i < rows.size(); i++) {
      System.arraycopy(rows.get(i), 0, out, i * dim, dim);
    }
    return out;
  }

  /**
   * Adds {@code softCol} (the teacher's soft label; for a row without a label, see
   * {@link MetaTrainer#softLabels}) and {@code probCol} (the student's class probabilities) to every row, in batches
   * per partition.
   */
  public static Dataset<Row> score(Dataset<Row> table, Columns c, Trained t, String softCol, String probCol) {
    StructType schema = table.schema();
    StructType out = schema.add(softCol, DataTypes.createArrayType(DataTypes.FloatType), true)
        .add(probCol, DataTypes.createArrayType(DataTypes.FloatType), true);
    int xIdx = schema.fieldIndex(c.x());
    int yIdx = schema.fieldIndex(c.label());
    int dim = t.dim;
    Broadcast<double[]> state = JavaSparkContext.fromSparkContext(table.sparkSession().sparkContext())
        .broadcast(t.best);
    EmlcSpec spec = t.spec;
    int classes = t.classes;
    Standardizer std = t.standardizer;
    return table.mapPartitions((org.apache.spark.api.java.function.MapPartitionsFunction<Row, Row>) it -> {
      MetaTrainer trainer = new MetaTrainer(spec, dim, classes, DataType.FLOAT);
      MetaTrainer.Live live = trainer.live(state.value());
      return new Batches<Row, Row>(it, 1024, buf -> {
        float[] x = new float[buf.size() * dim];
        int[] given = new int[buf.size()];
        for (int i = 0; i < buf.size(); i++) {
          Row r = buf.get(i);
          std.apply(Features.floats(r, xIdx, dim), x, i * dim);
          given[i] = r.isNullAt(yIdx) ? -1 : r.getInt(yIdx);
        }
        float[][] soft;
        float[][] probs;
        try (org.nd4j.linalg.api.memory.MemoryWorkspace ws = Nd4j.getWorkspaceManager()
            .getAndActivateWorkspace(MetaTrainer.GROUP_WORKSPACE, "relabel-emlc-score")) {
          INDArray m = Nd4j.create(x, new long[] {buf.size(), dim}, 'c');
          soft = trainer.softLabels(live, m, given).toFloatMatrix();
          probs = trainer.studentProba(live, m).toFloatMatrix();
        }
        List<Row> rows = new ArrayList<>(buf.size());
        for (int i = 0; i < buf.size(); i++) {
          Row r = buf.get(i);
          Object[] v = new Object[r.length() + 2];
          for (int j = 0; j < r.length(); j++) {
            v[j] = r.get(j);
          }
          v[r.length()] = Features.seq(soft[i]);
          v[r.length() + 1] = Features.seq(probs[i]);
          rows.add(RowFactory.create(v));
        }
        return rows;
      });
    }, Encoders.row(out));
  }
}
