package io.relabel.spark.embed;

import static org.apache.spark.sql.functions.array_max;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.core.model.CnnModel;
import io.relabel.core.model.CnnSpec;
import io.relabel.core.model.Predictions;
import io.relabel.core.util.RowSeeds;
import io.relabel.spark.io.FeatureColumns;
import io.relabel.spark.train.Features;
import io.relabel.spark.train.MlpTrainer;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The image encoder: a small CNN ({@link CnnSpec}) trained inside the job on the labeled rows, trusted and noisy
 * alike, whose penultimate layer is the embedding. Pixels carry little that a nearest-neighbour or linear method can
 * use; a network trained on the task's own classes learns features that do, even from noisy labels, provided it stops
 * before it memorises them (Arpit et al., ICML 2017: networks fit the clean pattern first). So training runs one epoch
 * at a time and is scored after each on a hold-out; it stops after {@code patience} epochs without a better hold-out
 * accuracy and keeps the best epoch's parameters.
 *
 * <p>The hold-out is a seeded share of the trusted rows when there are at least {@code minHoldout} of them: their
 * labels are right, so their accuracy falls exactly when the network starts fitting wrong labels. Otherwise it is a
 * seeded share of all labeled rows; under symmetric noise their accuracy still rises and falls with the true one, but
 * it is noisier, and a warning says so. Hold-out rows are never trained on.
 *
 * <p>Training uses dl4j-spark's parameter averaging exactly like the base classifier
 * ({@link MlpTrainer#trainingMaster}), so the same reproducibility rules hold: the rows must arrive in canonical
 * partitions (as the job lays them out), and the same seed and input give the same encoder. Scoring the hold-out is
 * distributed (each partition counts its correct rows; the driver adds integers); nothing but the model and counts
 * reaches the driver.
 *
 * <p>The fitted encoder carries its model in its own serialised form (a {@link CnnModel}: configuration JSON and a
 * float[] of parameters, about 0.4 MB for 28x28 images with the defaults), not a Spark broadcast: it must also
 * encode on the driver and outlive any one SparkContext, and a task of that size ships without Spark's large-task
 * warning (1 MB). Each executor JVM keeps the first copy it deserialises (keyed by the model's content hash), so the
 * networks are built once per JVM and shared, thread-safely, by its tasks.
 */
public final class CnnImageEncoder implements Encoder {

  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(CnnImageEncoder.class);
  private static final String NAME = "cnn";
  /** Internal columns of a fit: the pixels as array&lt;float&gt; and the class index as int. */
  private static final String X = "_cnn_x";
  private static final String Y = "_cnn_y";
  /** Hold-out rows scored per forward pass on an executor. */
  private static final int SCORE_BATCH = 512;
  /** Models kept per JVM; a run fits one encoder, tests a few, so the oldest beyond this are dropped. */
  private static final int CACHED_MODELS = 4;
  private static final Map<String, CnnModel> MODELS = new LinkedHashMap<>(8, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, CnnModel> eldest) {
      return size() > CACHED_MODELS;
    }
  };

  private final CnnModel model;
  private final FitReport report;

  /**
   * How a fit went.
   *
   * @param epochs          epochs trained, the ones after the best included
   * @param bestEpoch       the epoch whose parameters were kept (1-based)
   * @param holdoutAccuracy hold-out accuracy of the kept parameters
   * @param holdoutRows     rows held out to decide when to stop
   * @param trustedHoldout  whether they were trusted rows (else a share of all labeled rows, see the class comment)
   */
  public record FitReport(int epochs, int bestEpoch, double holdoutAccuracy, long holdoutRows, boolean trustedHoldout)
      implements Serializable {}

  private CnnImageEncoder(CnnModel model, FitReport report) {
    this.model = model;
    this.report = report;
  }

  /**
   * Trains the CNN and returns the fitted encoder.
   *
   * @param table       rows in canonical partitions (see the class comment)
   * @param featuresCol pixel values, {@code inputDim} per row: array&lt;float&gt;, array&lt;double&gt; or an MLlib
   *                    vector, laid out as {@code relabel.embed.cnn.imageShape} says
   * @param labelIdxCol the class index of the given label, an integer in [0, classes); null means unlabeled
   * @param fitCol      boolean: rows that may be trained on (or held out); others are never read
   * @param trustedCol  boolean: rows whose label is verified; may be null when there are none
   * @param uniformCol  a seeded uniform double in [0, 1) per row; the hold-out draws are derived from it
   * @param seed        seed of the weights, the training master's splits and the hold-out draws
   */
  public static CnnImageEncoder fit(Dataset<Row> table, String featuresCol, int inputDim, String labelIdxCol,
      String fitCol, String trustedCol, String uniformCol, Settings settings, long seed) {
    int[] shape = CnnSpec.imageShape(settings);
    if (inputDim != shape[0] * shape[1] * shape[2]) {
      throw new IllegalArgumentException("features of length " + inputDim + " are not " + shape[0] + "x" + shape[1]
          + "x" + shape[2] + " images (" + shape[0] * shape[1] * shape[2] + " values); set "
          + RelabelParams.CNN_IMAGE_SHAPE.key() + " to the images' shape");
    }
    Column labeled = coalesce(col(fitCol), lit(false)).and(col(labelIdxCol).isNotNull());
    Dataset<Row> rows = FeatureColumns.toFloatArray(table.filter(labeled), featuresCol, X)
        .withColumn(Y, col(labelIdxCol).cast(DataTypes.IntegerType));
    Plan plan = Plan.of(rows, trustedCol, uniformCol, settings, seed);

    CnnSpec spec = plan.spec();
    int nClasses = plan.nClasses();
    JavaRDD<DataSet> train = rows.filter(not(plan.holdout())).select(X, Y).toJavaRDD()
        .mapPartitions(it -> new Batches(it, spec, nClasses))
        .persist(StorageLevel.MEMORY_ONLY());
    Dataset<Row> holdRows = rows.filter(plan.holdout()).select(X, Y).persist(StorageLevel.MEMORY_ONLY());
    try {
      JavaSparkContext jsc = JavaSparkContext.fromSparkContext(table.sparkSession().sparkContext());
      SparkDl4jMultiLayer net = new SparkDl4jMultiLayer(jsc, spec.configuration(nClasses, seed),
          MlpTrainer.trainingMaster(settings.get(RelabelParams.TRAIN_WORKERS), spec.batchSize(),
              settings.get(RelabelParams.TRAIN_AVERAGING), seed));
      return trainWithEarlyStopping(net, train, holdRows, plan);
    } finally {
      train.unpersist(false);
      holdRows.unpersist(false);
    }
  }

  /**
   * What one fit works with: the spec (its pixel scale decided from the data), the number of classes and which rows
   * are held out, all from one aggregate over the labeled rows.
   */
  private record Plan(CnnSpec spec, int nClasses, Column holdout, long holdoutRows, long trainRows,
      boolean onTrusted) {

    static Plan of(Dataset<Row> rows, String trustedCol, String uniformCol, Settings settings, long seed) {
      int minHoldout = settings.get(RelabelParams.CNN_MIN_HOLDOUT);
      double noisyShare = settings.get(RelabelParams.CNN_NOISY_HOLDOUT_SHARE);
      Column draw = coalesce(holdoutDraw(seed).apply(col(uniformCol)), lit(1.0));
      Column trusted = trustedCol == null ? lit(false) : coalesce(col(trustedCol), lit(false));
      Column trustedHold = trusted.and(draw.lt(settings.get(RelabelParams.CNN_HOLDOUT_SHARE)));
      Column noisyHold = draw.lt(noisyShare);
      Row stats = rows.agg(max(col(Y)), countWhere(trustedHold), countWhere(noisyHold), countWhere(lit(true)),
          max(array_max(col(X)))).first();
      if (stats.isNullAt(0)) {
        throw new IllegalStateException("no labeled rows to train the image encoder on");
      }
      double maxPixel = ((Number) stats.get(4)).doubleValue();
      CnnSpec spec = CnnSpec.from(settings, maxPixel);
      checkScale(maxPixel, spec.pixelScale());
      long trustedCount = stats.getLong(1);
      long labeledCount = stats.getLong(3);
      boolean onTrusted = trustedCount >= minHoldout;
      long holdCount = onTrusted ? trustedCount : stats.getLong(2);
      if (!onTrusted) {
        LOG.warn("image encoder: {} trusted hold-out rows, fewer than {} = {}; holding out a seeded {} of the"
            + " labeled rows instead ({} rows). Their labels are as noisy as the rest, so the early-stopping signal"
            + " is noisy.", trustedCount, RelabelParams.CNN_MIN_HOLDOUT.key(), minHoldout, noisyShare, holdCount);
      }
      if (holdCount == 0 || holdCount == labeledCount) {
        throw new IllegalStateException("image encoder: " + labeledCount + " labeled rows are too few to hold out "
            + holdCount + " for early stopping and train on the rest");
      }
      return new Plan(spec, stats.getInt(0) + 1, onTrusted ? trustedHold : noisyHold, holdCount,
          labeledCount - holdCount, onTrusted);
    }
  }

  /** One epoch at a time until {@code patience} epochs bring no better hold-out accuracy; the best epoch wins. */
  private static CnnImageEncoder trainWithEarlyStopping(SparkDl4jMultiLayer net, JavaRDD<DataSet> train,
      Dataset<Row> holdRows, Plan plan) {
    CnnSpec spec = plan.spec();
    CnnModel best = null;
    double bestAccuracy = -1;
    int bestEpoch = 0;
    int epoch = 0;
    long start = System.nanoTime();
    while (epoch < spec.maxEpochs() && epoch - bestEpoch < spec.patience()) {
      epoch++;
      long t0 = System.nanoTime();
      net.fit(train);
      CnnModel current = CnnModel.of(net.getNetwork(), spec, plan.nClasses());
      double accuracy = accuracy(holdRows, current);
      LOG.info("image encoder epoch {}: {} training rows, hold-out accuracy {} on {} {} rows, {} s", epoch,
          plan.trainRows(), String.format("%.4f", accuracy), plan.holdoutRows(),
          plan.onTrusted() ? "trusted" : "labeled", String.format("%.1f", (System.nanoTime() - t0) / 1e9));
      // Strictly better only: on a tie the earlier epoch, which has seen the noise less often, is kept.
      if (accuracy > bestAccuracy) {
        best = current;
        bestAccuracy = accuracy;
        bestEpoch = epoch;
      }
    }
    LOG.info("image encoder: {} after {} epochs in {} s; keeping epoch {} (hold-out accuracy {})",
        epoch - bestEpoch >= spec.patience() ? "stopped early" : "reached " + RelabelParams.CNN_MAX_EPOCHS.key(),
        epoch, String.format("%.1f", (System.nanoTime() - start) / 1e9), bestEpoch,
        String.format("%.4f", bestAccuracy));
    return new CnnImageEncoder(best, new FitReport(epoch, bestEpoch, bestAccuracy, plan.holdoutRows(),
        plan.onTrusted()));
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public int dim() {
    return model.embeddingDim();
  }

  /** Embeds a batch of pixel rows ({@code float[]} each, raw values as in the table). */
  @Override
  public float[][] encode(List<Object> values) {
    float[][] rows = new float[values.size()][];
    for (int i = 0; i < rows.length; i++) {
      if (!(values.get(i) instanceof float[] f)) {
        Object v = values.get(i);
        throw new IllegalArgumentException("the " + NAME + " encoder takes float[] pixel rows, got "
            + (v == null ? "null" : v.getClass().getSimpleName()) + " at position " + i);
      }
      rows[i] = f;
    }
    return shared().embed(rows);
  }

  /** The trained network (for class probabilities or inspection). */
  public CnnModel model() {
    return model;
  }

  /** How the training went: what the job logs, and what a run manifest may record. */
  public FitReport report() {
    return report;
  }

  /** This JVM's shared copy of the model: the first one deserialised here, so networks are built once per JVM. */
  private CnnModel shared() {
    synchronized (MODELS) {
      return MODELS.computeIfAbsent(model.contentHash(), h -> model);
    }
  }

  private static Column countWhere(Column condition) {
    return sum(when(condition, 1L).otherwise(0L));
  }

  /**
   * A uniform draw per row for the hold-out, derived from the row's seeded uniform and this fit's seed: the same
   * uniform column drives other samples (e.g. the PCA fitting sample), and re-mixing keeps the hold-out independent
   * of them.
   */
  private static UserDefinedFunction holdoutDraw(long seed) {
    long salt = RowSeeds.mix(seed ^ RowSeeds.stageKey("cnn-holdout"));
    return udf((UDF1<Double, Double>) u -> u == null ? null
        : (RowSeeds.mix(Double.doubleToLongBits(u) ^ salt) >>> 11) * 0x1.0p-53, DataTypes.DoubleType);
  }

  /** Logs the pixel scale, and warns when an explicitly set one does not fit the data. */
  private static void checkScale(double maxPixel, double pixelScale) {
    LOG.info("image encoder: largest training pixel {}, pixels divided by {}", maxPixel, pixelScale);
    if (maxPixel / pixelScale > 1.0 + 1e-6) {
      LOG.warn("image encoder: pixel values reach {} after dividing by {} = {}; expected at most 1",
          maxPixel / pixelScale, RelabelParams.CNN_PIXEL_SCALE.key(), pixelScale);
    } else if (pixelScale > 1 && maxPixel <= 1.0) {
      LOG.warn("image encoder: raw pixel values are at most {}, which looks already scaled to [0, 1]; dividing them"
          + " by {} = {} leaves the network little to see and slows learning (set it to 0 or 1)", maxPixel,
          RelabelParams.CNN_PIXEL_SCALE.key(), pixelScale);
    }
  }

  /** Hold-out accuracy of {@code model}: each partition counts its correct rows, the driver adds the integers. */
  private static double accuracy(Dataset<Row> holdRows, CnnModel model) {
    int dim = model.spec().pixels();
    long[] counts = holdRows.toJavaRDD().mapPartitions(it -> {
      long correct = 0;
      long total = 0;
      List<Row> buf = new ArrayList<>(SCORE_BATCH);
      while (it.hasNext() || !buf.isEmpty()) {
        if (it.hasNext() && buf.size() < SCORE_BATCH) {
          buf.add(it.next());
          continue;
        }
        float[][] pixels = new float[buf.size()][];
        for (int i = 0; i < pixels.length; i++) {
          pixels[i] = Features.floats(buf.get(i), 0, dim);
        }
        float[][] p = model.predictProba(pixels);
        for (int i = 0; i < p.length; i++) {
          if (Predictions.argmax(p[i]) == buf.get(i).getInt(1)) {
            correct++;
          }
        }
        total += p.length;
        buf.clear();
      }
      return List.of(new long[] {correct, total}).iterator();
    }).reduce((a, b) -> new long[] {a[0] + b[0], a[1] + b[1]});
    return counts[1] == 0 ? 0 : (double) counts[0] / counts[1];
  }

  /** A partition's rows (pixels, class index) as minibatches of network input, built as Spark pulls them. */
  private static final class Batches implements Iterator<DataSet> {
    private final Iterator<Row> rows;
    private final CnnSpec spec;
    private final int nClasses;

    Batches(Iterator<Row> rows, CnnSpec spec, int nClasses) {
      this.rows = rows;
      this.spec = spec;
      this.nClasses = nClasses;
    }

    @Override
    public boolean hasNext() {
      return rows.hasNext();
    }

    @Override
    public DataSet next() {
      if (!rows.hasNext()) {
        throw new NoSuchElementException();
      }
      List<float[]> x = new ArrayList<>(spec.batchSize());
      List<Integer> y = new ArrayList<>(spec.batchSize());
      while (rows.hasNext() && x.size() < spec.batchSize()) {
        Row r = rows.next();
        x.add(Features.floats(r, 0, spec.pixels()));
        y.add(r.getInt(1));
      }
      float[][] oneHot = new float[y.size()][nClasses];
      for (int i = 0; i < oneHot.length; i++) {
        oneHot[i][y.get(i)] = 1f;
      }
      return new DataSet(spec.images(x.toArray(new float[0][])), Nd4j.createFromArray(oneHot));
    }
  }
}
