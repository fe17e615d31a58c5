package io.relabel.spark.io;

import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

/**
 * Whether an id or label column holds integers or strings. Integer labels sort numerically (class 10 after class 2)
 * and string labels lexicographically, so the kind decides the class order, hence the model's output layout.
 */
public enum ValueKind {
  INTEGER,
  STRING;

  /** The kind of {@code type}, or null when it is neither an integer type nor string. */
  public static ValueKind of(DataType type) {
    if (type.equals(DataTypes.ByteType) || type.equals(DataTypes.ShortType) || type.equals(DataTypes.IntegerType)
        || type.equals(DataTypes.LongType)) {
      return INTEGER;
    }
    return type.equals(DataTypes.StringType) ? STRING : null;
  }

  /** A cell value as relabel keys it: integers as {@link Long}, strings as {@link String}; null stays null. */
  Object normalize(Object cell) {
    if (cell == null) {
      return null;
    }
    return this == INTEGER ? (Object) ((Number) cell).longValue() : cell.toString();
  }
}
