package io.relabel.spark.io;

import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

/**
 * The physical forms a feature column may take. Producers write what they have (an encoder emits float arrays,
 * an MLlib pipeline emits vectors), so relabel accepts all three numeric forms and converts where a consumer needs
 * one form. A string column is TEXT: it has no width of its own until a text encoder embeds it, so it is kept apart
 * from the numeric kinds ({@link #numeric()}) and every numeric consumer refuses it.
 */
public enum FeatureKind {
  ARRAY_FLOAT,
  ARRAY_DOUBLE,
  VECTOR,
  TEXT;

  /** Whether values of this kind are numbers (a vector of fixed length), as opposed to text. */
  public boolean numeric() {
    return this != TEXT;
  }

  /** The kind of {@code type}, or null when it is not an accepted feature type. */
  public static FeatureKind of(DataType type) {
    if (type instanceof ArrayType a) {
      if (a.elementType().equals(DataTypes.FloatType)) {
        return ARRAY_FLOAT;
      }
      if (a.elementType().equals(DataTypes.DoubleType)) {
        return ARRAY_DOUBLE;
      }
      return null;
    }
    if (type.equals(DataTypes.StringType)) {
      return TEXT;
    }
    return type instanceof VectorUDT ? VECTOR : null;
  }
}
