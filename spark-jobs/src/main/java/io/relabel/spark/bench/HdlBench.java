package io.relabel.spark.bench;

import static io.relabel.spark.stage.RelabelJob.HOLDOUT;
import static io.relabel.spark.stage.RelabelJob.KEY;
import static io.relabel.spark.stage.RelabelJob.TRAINABLE;
import static io.relabel.spark.stage.RelabelJob.TRUTH;
import static io.relabel.spark.stage.RelabelJob.X;
import static io.relabel.spark.stage.RelabelJob.Y;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.core.hdl.HdlSpec;
import io.relabel.core.model.MlpModel;
import io.relabel.core.model.MlpSpec;
import io.relabel.spark.baseline.FlatKnn;
import io.relabel.spark.embed.Embedding;
import io.relabel.spark.embed.EncoderFactory;
import io.relabel.spark.hdl.Hdl;
import io.relabel.spark.io.InputContract;
import io.relabel.spark.io.InputReader;
import io.relabel.spark.io.InputValidator;
import io.relabel.spark.io.ValidatedInput;
import io.relabel.spark.stage.RelabelJob;
import io.relabel.spark.train.MlpTrainer;
import io.relabel.spark.train.Scoring;
import io.relabel.spark.train.Scoring.Chooser;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One HDL benchmark case on a prepared table (labels partly null, or noisy; {@code label_true} kept; a held-out test
 * split): HDL against the baselines its users would pick instead, on the same embeddings in the same run.
 * <ul>
 *   <li>fill (semi-supervised): pseudo-labels for the unlabeled training rows from HDL, from flat kNN with a fixed
 *       k, and from a classifier trained on the labeled rows keeping predictions of confidence ≥ a threshold
 *       (FixMatch-style 0.95); their accuracy and coverage; then the test accuracy of the same MLP trained on the
 *       labeled rows plus each method's pseudo-labels (and on the labeled rows alone).</li>
 *   <li>noise: labels of the noisy training rows from HDL (noise mode) and from flat kNN (leave-one-out, fixed k);
 *       their accuracy, change precision and recall; the test accuracy of the MLP trained on each method's labels
 *       and on the noisy labels as they are.</li>
 * </ul>
 */
public final class HdlBench {

  private static final Logger LOG = LoggerFactory.getLogger(HdlBench.class);

  private static final String VOTE = "_b_vote";
  private static final String KNN = "_b_knn";
  private static final String KNN_CONF = "_b_knn_conf";
  private static final String CLF = "_b_clf";
  private static final String P = "_b_p";

  private HdlBench() {}

  /** Runs one case; returns its figures (flat, dotted keys) for the JSON and the table. */
  public static Map<String, Object> run(SparkSession spark, Settings settings, String input, String mode, int flatK,
      double threshold) {
    Map<String, Object> m = new LinkedHashMap<>();
    long seed = settings.get(RelabelParams.SEED);
    int workers = settings.get(RelabelParams.TRAIN_WORKERS);
    long t0 = System.nanoTime();
    Embedded e = embed(spark, settings, input);
    int nClasses = e.classes();
    int dim = e.dim();
    Dataset<Row> work = e.table().withColumn(VOTE, when(col(TRAINABLE), col(Y)))
        .persist(StorageLevel.MEMORY_AND_DISK());
    m.put("rows", work.count());
    m.put("seconds.embed", seconds(t0));

    // HDL
    Settings hs = settings.with(Map.of("relabel.hdl.mode", mode));
    t0 = System.nanoTime();
    Hdl.Result h = Hdl.apply(work, KEY, X, VOTE, nClasses, HdlSpec.from(hs), seed, workers);
    // back to the canonical layout the trainer expects (HDL's join shuffled the rows)
    Dataset<Row> t = h.table().repartition(workers, col(KEY)).sortWithinPartitions(KEY)
        .persist(StorageLevel.MEMORY_AND_DISK());
    t.count();
    m.put("seconds.hdl", seconds(t0));
    h.release();
    work.unpersist(false);
    h.metrics().forEach(m::put);

    // flat kNN with a fixed k (a labeled row is voted on by the others: leave-one-out)
    t0 = System.nanoTime();
    Dataset<Row> k = FlatKnn.apply(t, KEY, X, VOTE, flatK, KNN, KNN_CONF).persist(StorageLevel.MEMORY_AND_DISK());
    k.count();
    m.put("seconds.flatKnn", seconds(t0));
    t.unpersist(false);

    MlpSpec mlp = MlpSpec.from(settings);
    int averaging = settings.get(RelabelParams.TRAIN_AVERAGING);
    MlpTrainer trainer = new MlpTrainer(mlp.withEpochs(settings.get(RelabelParams.CONSENSUS_RETRAIN_EPOCHS)), workers,
        averaging);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Column unlabeled = not(col(HOLDOUT)).and(col(Y).isNull()).and(col(TRUTH).isNotNull());
    Column labeled = col(TRAINABLE).and(col(TRUTH).isNotNull());
    Dataset<Row> all = k;
    if (mode.equals("fill")) {
      // confidence-thresholded pseudo-labels from a classifier trained on the labeled rows
      t0 = System.nanoTime();
      MlpModel clf = trainer.fit(k.filter(col(TRAINABLE)), X, Y, dim, nClasses, seed, "labeled rows only");
      Dataset<Row> s = Scoring.score(k, X, jsc.broadcast(new MlpModel[] {clf}), Chooser.always(0), null, P);
      s = s.withColumn(CLF, when(maxOf(col(P)).geq(threshold), RelabelJob.argmax(col(P))))
          .persist(StorageLevel.MEMORY_AND_DISK());
      m.put("seconds.threshold", seconds(t0));
      all = s;
      pseudo(m, all, unlabeled, "hdl", col(Hdl.LABEL));
      pseudo(m, all, unlabeled, "flatKnn", col(KNN));
      pseudo(m, all, unlabeled, "threshold", col(CLF));
      // HDL and kNN restricted to their most confident rows, at (at least) the classifier's coverage
      double c = (double) m.get("pseudo.threshold.coverage");
      pseudo(m, all, unlabeled, "hdlMatched", atCoverage(all.filter(unlabeled), col(Hdl.LABEL), Hdl.CONFIDENCE, c));
      pseudo(m, all, unlabeled, "flatKnnMatched", atCoverage(all.filter(unlabeled), col(KNN), KNN_CONF, c));
      m.put("test.labeledOnly", testAccuracy(all, col(TRAINABLE), col(Y), trainer, dim, nClasses, seed, jsc));
      Column train = not(col(HOLDOUT));
      m.put("test.hdl", testAccuracy(all, train, coalesce(col(VOTE), col(Hdl.LABEL)), trainer, dim, nClasses, seed,
          jsc));
      m.put("test.flatKnn", testAccuracy(all, train, coalesce(col(VOTE), col(KNN)), trainer, dim, nClasses, seed,
          jsc));
      m.put("test.threshold", testAccuracy(all, train, coalesce(col(VOTE), col(CLF)), trainer, dim, nClasses, seed,
          jsc));
      m.put("test.ceiling", testAccuracy(all, train, col(TRUTH), trainer, dim, nClasses, seed, jsc));
    } else {
      corrected(m, all, labeled, "given", col(Y));
      corrected(m, all, labeled, "hdl", col(Hdl.LABEL));
      corrected(m, all, labeled, "flatKnn", coalesce(col(KNN), col(Y)));
      Column train = col(TRAINABLE);
      m.put("test.noisy", testAccuracy(all, train, col(Y), trainer, dim, nClasses, seed, jsc));
      m.put("test.hdl", testAccuracy(all, train, coalesce(col(Hdl.LABEL), col(Y)), trainer, dim, nClasses, seed,
          jsc));
      m.put("test.flatKnn", testAccuracy(all, train, coalesce(col(KNN), col(Y)), trainer, dim, nClasses, seed, jsc));
      m.put("test.ceiling", testAccuracy(all, train, col(TRUTH), trainer, dim, nClasses, seed, jsc));
    }
    // HDL's own labels on the held-out rows (they never vote), against their true labels
    Column test = col(HOLDOUT).and(col(TRUTH).isNotNull());
    Row a = all.agg(count(test), count(test.and(col(Hdl.LABEL).equalTo(col(TRUTH)))),
        count(test.and(col(KNN).equalTo(col(TRUTH))))).first();
    if (a.getLong(0) > 0) {
      m.put("heldOut.hdlAccuracy", (double) a.getLong(1) / a.getLong(0));
      m.put("heldOut.flatKnnAccuracy", (double) a.getLong(2) / a.getLong(0));
    }
    all.unpersist(false);
    k.unpersist(false);
    LOG.info("bench case {}: {}", input, m);
    return m;
  }

  /** Column with the row id as a long (numeric ids only), for benchmarks that derive rows from these. */
  public static final String RANK = "_b_rank";

  /** An embedded benchmark table (canonical internal columns plus {@link #RANK}), its class count and width. */
  public record Embedded(Dataset<Row> table, int classes, int dim, long rows) {}

  /** Validates, lays out and embeds a table exactly as a relabel run does (same settings, same encoder). */
  public static Embedded embed(SparkSession spark, Settings settings, String input) {
    long seed = settings.get(RelabelParams.SEED);
    int workers = settings.get(RelabelParams.TRAIN_WORKERS);
    ValidatedInput in = InputValidator.validate(InputReader.read(spark, input), InputContract.from(settings));
    List<String> classes = in.classes();
    Dataset<Row> canonical = RelabelJob.canonicalize(in, classes, seed, workers, settings);
    String featuresCol = in.contract().featuresCol();
    Embedding.StageColumns cols = new Embedding.StageColumns(
        new EncoderFactory.FitColumns(Y, TRAINABLE, RelabelJob.TRUSTED, RelabelJob.UNIFORM),
        List.of(KEY, Y, TRUTH, RelabelJob.TRUSTED, HOLDOUT, TRAINABLE, RelabelJob.UNIFORM, RANK), X,
        t -> t.repartition(workers, col(KEY)).sortWithinPartitions(KEY));
    Embedding.Result e = Embedding.apply(canonical.select(col(KEY), col(Y), col(TRUTH), col(RelabelJob.TRUSTED),
        col(HOLDOUT), col(TRAINABLE), col(RelabelJob.UNIFORM), col(in.contract().idCol()),
        col(in.contract().idCol()).cast(DataTypes.LongType).as(RANK), col(featuresCol)), in, cols, settings, seed,
        null);
    return new Embedded(e.table(), classes.size(), e.dim(), in.rows());
  }

  /**
   * A method's labels kept only where its confidence is at least the (1 - coverage) quantile of its confidence on
   * {@code rows}: its most confident share, ties included (so the coverage reached may be higher).
   */
  private static Column atCoverage(Dataset<Row> rows, Column label, String confidenceCol, double coverage) {
    if (coverage >= 1.0) {
      return label;
    }
    double q = rows.filter(col(confidenceCol).isNotNull()).stat()
        .approxQuantile(confidenceCol, new double[] {1.0 - coverage}, 0.0)[0];
    return when(col(confidenceCol).geq(q), label);
  }

  /** Coverage and accuracy of one method's pseudo-labels on the unlabeled training rows. */
  private static void pseudo(Map<String, Object> m, Dataset<Row> t, Column unlabeled, String name, Column label) {
    Row a = t.agg(count(unlabeled), count(unlabeled.and(label.isNotNull())),
        count(unlabeled.and(label.equalTo(col(TRUTH))))).first();
    long n = a.getLong(0);
    long covered = a.getLong(1);
    m.put("pseudo." + name + ".coverage", n == 0 ? 0.0 : (double) covered / n);
    m.put("pseudo." + name + ".accuracy", covered == 0 ? 0.0 : (double) a.getLong(2) / covered);
  }

  /** Accuracy of a method's labels on the labeled (noisy) training rows, and its changes' precision and recall. */
  private static void corrected(Map<String, Object> m, Dataset<Row> t, Column labeled, String name, Column label) {
    Column changed = label.isNotNull().and(label.notEqual(col(Y)));
    Row a = t.agg(count(labeled), count(labeled.and(label.equalTo(col(TRUTH)))), count(labeled.and(changed)),
        count(labeled.and(changed).and(label.equalTo(col(TRUTH)))),
        count(labeled.and(col(Y).notEqual(col(TRUTH))))).first();
    m.put("labels." + name + ".accuracy", (double) a.getLong(1) / Math.max(1, a.getLong(0)));
    m.put("labels." + name + ".changePrecision", a.getLong(2) == 0 ? 0.0 : (double) a.getLong(3) / a.getLong(2));
    m.put("labels." + name + ".changeRecall", a.getLong(4) == 0 ? 0.0 : (double) a.getLong(3) / a.getLong(4));
  }

  /** Test accuracy of the MLP (the pipeline's final recipe) trained on {@code rows} with {@code label}. */
  private static double testAccuracy(Dataset<Row> t, Column rows, Column label, MlpTrainer trainer, int dim,
      int nClasses, long seed, JavaSparkContext jsc) {
    Dataset<Row> train = t.filter(rows.and(label.isNotNull())).select(col(KEY), col(X), label.as("_b_train_y"));
    MlpModel model = trainer.fit(train, X, "_b_train_y", dim, nClasses, seed, "bench model");
    Dataset<Row> s = Scoring.score(t.filter(col(HOLDOUT).and(col(TRUTH).isNotNull())).select(col(X), col(TRUTH)), X,
        jsc.broadcast(new MlpModel[] {model}), Chooser.always(0), null, "_b_test_p");
    Row a = s.agg(count(lit(true)), count(RelabelJob.argmax(col("_b_test_p")).equalTo(col(TRUTH)))).first();
    return a.getLong(0) == 0 ? 0.0 : (double) a.getLong(1) / a.getLong(0);
  }

  private static Column maxOf(Column probs) {
    return org.apache.spark.sql.functions.udf((UDF1<scala.collection.Seq<Float>, Float>) p -> {
      float best = Float.NEGATIVE_INFINITY;
      for (int i = 0; i < p.length(); i++) {
        best = Math.max(best, p.apply(i));
      }
      return best;
    }, DataTypes.FloatType).apply(probs);
  }

  private static Column count(Column condition) {
    return sum(when(condition, 1L).otherwise(0L));
  }

  private static double seconds(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }
}
