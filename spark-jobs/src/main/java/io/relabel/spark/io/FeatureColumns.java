package io.relabel.spark.io;

import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import scala.collection.Seq;

/**
 * Converts a features column of any accepted kind to the one form a consumer needs: MLlib estimators (PCA,
 * StandardScaler, BisectingKMeans) take dense vectors, while relabel's own per-partition code prefers compact float
 * arrays. Conversions are column expressions evaluated row by row on the executors; nulls stay null.
 */
public final class FeatureColumns {

  private static final UserDefinedFunction ARRAY_TO_VECTOR = functions.udf(
      (UDF1<Seq<Object>, Vector>) FeatureColumns::arrayToDense, SQLDataTypes.VectorType());
  private static final UserDefinedFunction VECTOR_TO_DENSE = functions.udf(
      (UDF1<Vector, Vector>) v -> v == null ? null : v.toDense(), SQLDataTypes.VectorType());
  private static final UserDefinedFunction VECTOR_TO_FLOATS = functions.udf(
      (UDF1<Vector, float[]>) FeatureColumns::vectorToFloats, DataTypes.createArrayType(DataTypes.FloatType));

  private FeatureColumns() {}

  /** The feature kind of {@code col} in {@code table}; an {@link InputValidationException} if not accepted. */
  public static FeatureKind kindOf(Dataset<Row> table, String col) {
    FeatureKind kind = FeatureKind.of(table.schema().apply(col).dataType());
    if (kind == null) {
      throw new InputValidationException("column '" + col + "' has type "
          + table.schema().apply(col).dataType().simpleString() + "; accepted: " + InputValidator.FEATURE_TYPES);
    }
    return kind;
  }

  /** The conversions below need numbers; a text column must go through a text encoder first. */
  private static InputValidationException textRefused(String col) {
    return new InputValidationException("column '" + col + "' holds text (string), but numeric features are needed"
        + " here: " + InputValidator.NUMERIC_FEATURE_TYPES);
  }

  /** {@code table} with {@code outCol} holding {@code col} as a dense MLlib vector (replaced if it exists). */
  public static Dataset<Row> toMlVector(Dataset<Row> table, String col, String outCol) {
    Column in = functions.col(col);
    Column out = switch (kindOf(table, col)) {
      case ARRAY_FLOAT, ARRAY_DOUBLE -> ARRAY_TO_VECTOR.apply(in);
      case VECTOR -> VECTOR_TO_DENSE.apply(in);
      case TEXT -> throw textRefused(col);
    };
    return table.withColumn(outCol, out);
  }

  /** {@code table} with {@code outCol} holding {@code col} as array&lt;float&gt; (replaced if it exists). */
  public static Dataset<Row> toFloatArray(Dataset<Row> table, String col, String outCol) {
    Column in = functions.col(col);
    Column out = switch (kindOf(table, col)) {
      case ARRAY_FLOAT -> in;
      case ARRAY_DOUBLE -> in.cast(DataTypes.createArrayType(DataTypes.FloatType));
      case VECTOR -> VECTOR_TO_FLOATS.apply(in);
      case TEXT -> throw textRefused(col);
    };
    return table.withColumn(outCol, out);
  }

  private static Vector arrayToDense(Seq<Object> values) {
    if (values == null) {
      return null;
    }
    double[] d = new double[values.length()];
    for (int i = 0; i < d.length; i++) {
      Object e = values.apply(i);
      d[i] = e == null ? Double.NaN : ((Number) e).doubleValue();
    }
    return Vectors.dense(d);
  }

  private static float[] vectorToFloats(Vector v) {
    if (v == null) {
      return null;
    }
    double[] d = v.toArray();
    float[] f = new float[d.length];
    for (int i = 0; i < d.length; i++) {
      f[i] = (float) d[i];
    }
    return f;
  }
}
