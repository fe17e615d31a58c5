package io.relabel.spark.embed;

import static org.apache.spark.sql.functions.col;

import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.spark.io.FeatureColumns;
import org.apache.spark.ml.feature.PCA;
import org.apache.spark.ml.feature.PCAModel;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.feature.StandardScalerModel;
import org.apache.spark.ml.functions;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Features to embeddings, the first version: pass-through, optionally standardised (MLlib StandardScaler) and
 * reduced (MLlib PCA). Both are fitted on the rows that may be trained on, never on held-out rows, and applied to
 * every row. The output column is array&lt;float&gt;, the one embedding type every later stage reads.
 */
public final class Embedding {

  private static final Logger LOG = LoggerFactory.getLogger(Embedding.class);

  /** Settings of this stage. */
  public record Spec(boolean standardize, int pcaDims, int fitRows) {
    public static Spec from(Settings s) {
      return new Spec(s.get(RelabelParams.EMBED_STANDARDIZE), s.get(RelabelParams.EMBED_PCA_DIMS),
          s.get(RelabelParams.EMBED_FIT_ROWS));
    }
  }

  private Embedding() {}

  /**
   * @param fitCol    boolean column: rows the scaler and PCA may be fitted on
   * @param uniform   double column, uniform in [0, 1) per row and seeded: draws the fitting sample
   * @param inputDim  the features' length (validated upstream)
   * @return {@code table} plus {@code outCol} (array&lt;float&gt;) and the embedding width
   */
  public static Result apply(Dataset<Row> table, String featuresCol, int inputDim, String fitCol, String uniform,
      Spec spec, String outCol) {
    if (!spec.standardize() && (spec.pcaDims() == 0 || spec.pcaDims() >= inputDim)) {
      if (spec.pcaDims() >= inputDim) {
        LOG.info("PCA to {} dims skipped: the features have only {}", spec.pcaDims(), inputDim);
      }
      return new Result(FeatureColumns.toFloatArray(table, featuresCol, outCol), inputDim);
    }
    String vec = "_embed_vec";
    Dataset<Row> t = FeatureColumns.toMlVector(table, featuresCol, vec);
    Dataset<Row> fit = t.filter(col(fitCol));
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
    if (spec.standardize()) {
      StandardScalerModel scaler = new StandardScaler().setInputCol(current).setOutputCol("_embed_std")
          .setWithMean(true).setWithStd(true).fit(fit);
      t = scaler.transform(t).drop(current);
      Dataset<Row> scaled = scaler.transform(fit).select("_embed_std").cache();
      fit.unpersist(false);
      fit = scaled;
      current = "_embed_std";
    }
    int dim = inputDim;
    if (spec.pcaDims() > 0 && spec.pcaDims() < inputDim) {
      PCAModel pca = new PCA().setInputCol(current).setOutputCol("_embed_pca").setK(spec.pcaDims())
          .fit(fit);
      double explained = 0;
      for (double v : pca.explainedVariance().toArray()) {
        explained += v;
      }
      LOG.info("PCA {} -> {} dims keeps {}% of the variance", inputDim, spec.pcaDims(),
          String.format("%.1f", 100 * explained));
      t = pca.transform(t).drop(current);
      current = "_embed_pca";
      dim = spec.pcaDims();
    }
    fit.unpersist(false);
    t = t.withColumn(outCol, functions.vector_to_array(col(current), "float32")).drop(current);
    return new Result(t, dim);
  }

  /** The embedded table and its width. */
  public record Result(Dataset<Row> table, int dim) {}
}
