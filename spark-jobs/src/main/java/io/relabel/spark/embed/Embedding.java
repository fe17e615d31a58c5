package io.relabel.spark.embed;

import static org.apache.spark.sql.functions.col;

import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.spark.io.FeatureColumns;
import io.relabel.spark.io.RunManifest;
import io.relabel.spark.io.ValidatedInput;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.UnaryOperator;
import org.apache.spark.ml.feature.PCA;
import org.apache.spark.ml.feature.PCAModel;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.feature.StandardScalerModel;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embed stage: features to embeddings, by the {@link Encoder} that {@code relabel.embed.encoder} selects
 * ({@link EncoderFactory}), run per partition on the executors ({@link EncoderRunner}); or, with
 * {@code relabel.embed.reuse}, embeddings stored by {@code relabel embed}, joined by row id
 * ({@link EmbeddingStore}). The output column is array&lt;float&gt;, the one embedding type every later stage reads.
 *
 * <p>The numeric encoders of the first version live here too: pass-through, optionally standardised (MLlib
 * StandardScaler) and reduced (MLlib PCA). Both are fitted on the rows that may be trained on, never on held-out
 * rows, and applied to every row.
 */
public final class Embedding {

  private static final Logger LOG = LoggerFactory.getLogger(Embedding.class);

  /** Rows per call of the numeric encoders in {@link #apply(Dataset, String, int, String, String, Spec, String)}. */
  private static final int VECTOR_BATCH = 1024;

  /** Settings of the numeric (vectors, pca) encoders. */
  public record Spec(boolean standardize, int pcaDims, int fitRows) {
    public static Spec from(Settings s) {
      return new Spec(s.get(RelabelParams.EMBED_STANDARDIZE), s.get(RelabelParams.EMBED_PCA_DIMS),
          s.get(RelabelParams.EMBED_FIT_ROWS));
    }
  }

  /** The embedded table and its width. */
  public record Result(Dataset<Row> table, int dim) {}

  /**
   * What the embed stage made, and by what.
   *
   * @param modelHash the encoder's {@link ModelIdentity#modelHash()}, or empty where it cannot name its model
   * @param fitted    the encoder that ran, or null where stored embeddings were joined instead
   */
  public record Outcome(Dataset<Row> table, int dim, String encoder, String modelHash, Encoder fitted) {}

  /**
   * How the embed stage reads and returns the run's table.
   *
   * @param fit      columns an encoder may be fitted on
   * @param keep     columns of the input carried into the result (besides {@code out}); the features are dropped
   * @param out      the embedding column to add
   * @param relayout restores the run's partitioning and row order after the join of stored embeddings (a join
   *                 shuffles by id); the identity where order does not matter
   */
  public record StageColumns(EncoderFactory.FitColumns fit, List<String> keep, String out,
      UnaryOperator<Dataset<Row>> relayout) {
    public StageColumns {
      keep = List.copyOf(keep);
    }
  }

  /**
   * One timed pass of an encoder over a table.
   *
   * @param table   the result, persisted and materialised
   * @param seconds wall time of the pass
   * @param cores   the cores it could use: the session's default parallelism, capped by the table's partitions
   */
  public record Pass(Dataset<Row> table, long rows, double seconds, int cores) {
    /** rows / (seconds x cores): what one core embeds per second, comparable across machines and layouts. */
    public double rowsPerSecondPerCore() {
      return rows / Math.max(seconds * cores, 1e-9);
    }
  }

  private Embedding() {}

  // ------------------------------------------------------------------------------------------------ the stage

  /**
   * The embed stage of a run. The result is persisted (memory and disk) and materialised here, so the stage's time
   * is the embedding's; the caller unpersists it. Records {@code embed.*} metrics in {@code manifest} (may be null):
   * encoder, dim, model hash, rows, fit and encode seconds, cores, rows per second per core.
   *
   * @param table the canonical table: the contract's id and features columns, the fit columns and {@code keep}
   * @param in    what validation learnt about the input (feature kind and width)
   */
  public static Result apply(Dataset<Row> table, ValidatedInput in, StageColumns cols, Settings settings, long seed,
      RunManifest manifest) {
    Outcome o = embed(table, in, cols, settings, seed, manifest);
    return new Result(o.table(), o.dim());
  }

  /** {@link #apply(Dataset, ValidatedInput, StageColumns, Settings, long, RunManifest)}, naming the encoder too. */
  public static Outcome embed(Dataset<Row> table, ValidatedInput in, StageColumns cols, Settings settings,
      long seed, RunManifest manifest) {
    String featuresCol = in.contract().featuresCol();
    String name = EncoderFactory.resolve(settings, in.featureKind(), in.featureDim(), featuresCol);
    String reuse = settings.get(RelabelParams.EMBED_REUSE);
    if (!reuse.isEmpty()) {
      EmbeddingStore.Info info = EmbeddingStore.readInfo(table.sparkSession(), reuse);
      EmbeddingStore.checkCompatible(reuse, info, name, settings, in.featureDim());
      Dataset<Row> joined = EmbeddingStore.join(table.drop(featuresCol), in.contract().idCol(), reuse, info,
          cols.out());
      // Checked on the join itself, where the id still is (the result may drop it): one more pass over the stored
      // table, which is what an exact error message naming the row costs.
      EmbeddingStore.checkJoined(joined, in.contract().idCol(), cols.out(), in.rows(), reuse, info);
      Dataset<Row> t = cols.relayout().apply(joined).select(columns(cols)).persist(StorageLevel.MEMORY_AND_DISK());
      t.count();
      LOG.info("embed: reused {} embeddings of {} ({} dims, model {}) from {}", in.rows(), info.encoder(),
          info.dim(), info.modelHash(), reuse);
      if (manifest != null) {
        manifest.putMetric("embed.encoder", info.encoder());
        manifest.putMetric("embed.dim", info.dim());
        manifest.putMetric("embed.modelHash", info.modelHash());
        manifest.putMetric("embed.reusedFrom", reuse);
      }
      return new Outcome(t, info.dim(), info.encoder(), info.modelHash(), null);
    }
    // Materialises the canonical layout first, so that neither the fit nor the encode pass below times the shuffle.
    table.count();
    long t0 = System.nanoTime();
    Encoder enc = EncoderFactory.fitted(name, table, featuresCol, in.featureDim(), cols.fit(), settings, seed);
    double fitSeconds = (System.nanoTime() - t0) / 1e9;
    int batch = settings.get(RelabelParams.EMBED_BATCH);
    Pass p = encode(table, featuresCol, enc, batch, cols.out(), cols.keep());
    LOG.info("embed: {} rows by {} ({} dims) in {} s on {} cores: {} rows/s per core (fitting: {} s)", p.rows(),
        enc.name(), enc.dim(), fmt(p.seconds()), p.cores(), fmt(p.rowsPerSecondPerCore()), fmt(fitSeconds));
    String hash = enc instanceof ModelIdentity m ? m.modelHash() : "";
    if (manifest != null) {
      manifest.putMetric("embed.encoder", enc.name());
      manifest.putMetric("embed.dim", enc.dim());
      manifest.putMetric("embed.modelHash", hash);
      manifest.putMetric("embed.rows", p.rows());
      manifest.putMetric("embed.batchSize", batch);
      manifest.putMetric("embed.fitSeconds", fitSeconds);
      manifest.putMetric("embed.encodeSeconds", p.seconds());
      manifest.putMetric("embed.cores", p.cores());
      manifest.putMetric("embed.rowsPerSecondPerCore", p.rowsPerSecondPerCore());
    }
    return new Outcome(p.table(), enc.dim(), enc.name(), hash, enc);
  }

  /**
   * Runs {@code enc} over {@code table} and keeps {@code keep} plus {@code outCol}, persisted (memory and disk) and
   * counted: the count is what makes Spark compute it, so the pass is timed from start to end.
   */
  public static Pass encode(Dataset<Row> table, String featuresCol, Encoder enc, int batchSize, String outCol,
      List<String> keep) {
    int cores = Math.min(table.sparkSession().sparkContext().defaultParallelism(),
        table.javaRDD().getNumPartitions());
    List<Column> out = new ArrayList<>();
    keep.forEach(c -> out.add(col(c)));
    out.add(col(outCol));
    long t0 = System.nanoTime();
    Dataset<Row> t = EncoderRunner.apply(table, featuresCol, enc, batchSize, outCol)
        .select(out.toArray(new Column[0])).persist(StorageLevel.MEMORY_AND_DISK());
    long rows = t.count();
    return new Pass(t, rows, (System.nanoTime() - t0) / 1e9, cores);
  }

  private static Column[] columns(StageColumns cols) {
    List<Column> out = new ArrayList<>();
    cols.keep().forEach(c -> out.add(col(c)));
    out.add(col(cols.out()));
    return out.toArray(new Column[0]);
  }

  private static String fmt(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  // ------------------------------------------------------------------------------------------------ vectors, pca

  /**
   * The first version's numeric embedding, kept for callers that want exactly it: the features as array&lt;float&gt;,
   * standardised if {@code spec.standardize()}, reduced by PCA if {@code spec.pcaDims()} is below their width.
   *
   * @param fitCol    boolean column: rows the scaler and PCA may be fitted on
   * @param uniform   double column, uniform in [0, 1) per row and seeded: draws the fitting sample
   * @param inputDim  the features' length (validated upstream)
   * @return {@code table} plus {@code outCol} (array&lt;float&gt;) and the embedding width
   */
  public static Result apply(Dataset<Row> table, String featuresCol, int inputDim, String fitCol, String uniform,
      Spec spec, String outCol) {
    boolean pca = spec.pcaDims() > 0 && spec.pcaDims() < inputDim;
    if (spec.pcaDims() >= inputDim) {
      LOG.info("PCA to {} dims skipped: the features have only {}", spec.pcaDims(), inputDim);
    }
    VectorEncoder enc = fitVectors(table, featuresCol, inputDim, fitCol, uniform, spec, pca);
    return new Result(EncoderRunner.apply(table, featuresCol, enc, VECTOR_BATCH, outCol), enc.dim());
  }

  /**
   * Fits the "vectors" (standardised if {@code spec.standardize()}) or "pca" encoder with MLlib on a bounded,
   * seeded sample of the rows {@code fitCol} admits; the fitted parameters then travel in a {@link VectorEncoder}.
   *
   * @param pca whether to reduce to {@code spec.pcaDims()} principal components (which must be below inputDim)
   */
  static VectorEncoder fitVectors(Dataset<Row> table, String featuresCol, int inputDim, String fitCol,
      String uniform, Spec spec, boolean pca) {
    if (!spec.standardize() && !pca) {
      return VectorEncoder.identity(inputDim);
    }
    String vec = "_embed_vec";
    Dataset<Row> fit = FeatureColumns.toMlVector(table.filter(col(fitCol)), featuresCol, vec);
    if (spec.fitRows() > 0) {
      long n = fit.count();
      if (n > spec.fitRows()) {
        // A seeded Bernoulli sample of the expected size: no global sort, the same rows on any layout.
        fit = fit.filter(col(uniform).lt((double) spec.fitRows() / n));
        LOG.info("fitting on a sample of about {} of {} rows", spec.fitRows(), n);
      }
    }
    // One partition, merged in a fixed order. MLlib's column statistics merge partial means with
    // mean += (mean_b - mean_a) * n_b / (n_a + n_b), which is not bit-for-bit commutative, and the driver merges
    // partition results in the order the tasks finish; with several partitions the fitted components (and so every
    // later stage) could differ between two runs of the same input. The sample is bounded by fitRows, so fitting it
    // in one task does not grow with the table.
    fit = fit.select(vec).coalesce(1).cache();
    String current = vec;
    double[] shift = null;
    double[] scale = null;
    if (spec.standardize()) {
      StandardScalerModel scaler = new StandardScaler().setInputCol(current).setOutputCol("_embed_std")
          .setWithMean(true).setWithStd(true).fit(fit);
      shift = scaler.mean().toArray();
      double[] std = scaler.std().toArray();
      scale = new double[std.length];
      for (int i = 0; i < std.length; i++) {
        scale[i] = std[i] == 0 ? 0 : 1 / std[i]; // as MLlib's transform: a constant feature becomes 0
      }
      Dataset<Row> scaled = scaler.transform(fit).select("_embed_std").cache();
      fit.unpersist(false);
      fit = scaled;
      current = "_embed_std";
    }
    double[] components = null;
    if (pca) {
      PCAModel model = new PCA().setInputCol(current).setOutputCol("_embed_pca").setK(spec.pcaDims()).fit(fit);
      double explained = 0;
      for (double v : model.explainedVariance().toArray()) {
        explained += v;
      }
      LOG.info("PCA {} -> {} dims keeps {}% of the variance", inputDim, spec.pcaDims(),
          String.format("%.1f", 100 * explained));
      components = model.pc().toArray(); // column-major inputDim x k
    }
    fit.unpersist(false);
    return VectorEncoder.of(table.sparkSession(), inputDim, shift, scale, components, spec.pcaDims());
  }
}
