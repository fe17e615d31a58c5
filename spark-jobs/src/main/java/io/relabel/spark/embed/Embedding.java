package io.relabel.spark.embed;

import static org.apache.spark.sql.functions.col;

import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import org.apache.spark.ml.feature.PCA;
import org.apache.spark.ml.feature.PCAModel;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.feature.StandardScalerModel;
import org.apache.spark.ml.functions;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
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
  public record Spec(boolean standardize, int pcaDims) {
    public static Spec from(Settings s) {
      return new Spec(s.get(RelabelParams.EMBED_STANDARDIZE), s.get(RelabelParams.EMBED_PCA_DIMS));
    }
  }

  private Embedding() {}

  /**
   * @param fitRows   boolean column: rows the scaler and PCA are fitted on
   * @param inputDim  the features' length (validated upstream)
   * @return {@code table} plus {@code outCol} (array&lt;float&gt;) and the embedding width
   */
  public static Result apply(Dataset<Row> table, String featuresCol, int inputDim, String fitRows, Spec spec,
      String outCol) {
    if (!spec.standardize() && (spec.pcaDims() == 0 || spec.pcaDims() >= inputDim)) {
      if (spec.pcaDims() >= inputDim) {
        LOG.info("PCA to {} dims skipped: the features have only {}", spec.pcaDims(), inputDim);
      }
      return new Result(table.withColumn(outCol, asFloatArray(table, featuresCol)), inputDim);
    }
    String vec = "_embed_vec";
    Dataset<Row> t = table.withColumn(vec, asVector(table, featuresCol));
    String current = vec;
    if (spec.standardize()) {
      StandardScalerModel scaler = new StandardScaler().setInputCol(current).setOutputCol("_embed_std")
          .setWithMean(true).setWithStd(true).fit(t.filter(col(fitRows)));
      t = scaler.transform(t).drop(current);
      current = "_embed_std";
    }
    int dim = inputDim;
    if (spec.pcaDims() > 0 && spec.pcaDims() < inputDim) {
      PCAModel pca = new PCA().setInputCol(current).setOutputCol("_embed_pca").setK(spec.pcaDims())
          .fit(t.filter(col(fitRows)));
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
    t = t.withColumn(outCol, functions.vector_to_array(col(current), "float32")).drop(current);
    return new Result(t, dim);
  }

  /** The embedded table and its width. */
  public record Result(Dataset<Row> table, int dim) {}

  static Column asVector(Dataset<Row> t, String c) {
    DataType type = t.schema().apply(c).dataType();
    if (type.equals(SQLDataTypes.VectorType())) {
      return col(c);
    }
    return functions.array_to_vector(col(c));
  }

  static Column asFloatArray(Dataset<Row> t, String c) {
    DataType type = t.schema().apply(c).dataType();
    if (type.equals(SQLDataTypes.VectorType())) {
      return functions.vector_to_array(col(c), "float32");
    }
    if (type instanceof ArrayType a && a.elementType().equals(DataTypes.FloatType)) {
      return col(c);
    }
    return col(c).cast(DataTypes.createArrayType(DataTypes.FloatType));
  }
}
