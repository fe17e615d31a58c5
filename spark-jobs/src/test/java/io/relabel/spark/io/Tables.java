package io.relabel.spark.io;

import io.relabel.spark.SparkTestSession;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/** Small in-memory tables for the io tests. */
final class Tables {

  static final DataType FLOATS = DataTypes.createArrayType(DataTypes.FloatType);
  static final DataType DOUBLES = DataTypes.createArrayType(DataTypes.DoubleType);
  static final DataType VECTOR = SQLDataTypes.VectorType();

  private final List<StructField> fields = new ArrayList<>();
  private final List<Row> rows = new ArrayList<>();

  static Tables of(Object... namesAndTypes) {
    Tables t = new Tables();
    for (int i = 0; i < namesAndTypes.length; i += 2) {
      t.fields.add(DataTypes.createStructField((String) namesAndTypes[i], (DataType) namesAndTypes[i + 1], true));
    }
    return t;
  }

  /** The usual id bigint, features array&lt;float&gt;, label bigint. */
  static Tables standard() {
    return of("id", DataTypes.LongType, "features", FLOATS, "label", DataTypes.LongType);
  }

  Tables row(Object... values) {
    rows.add(RowFactory.create(values));
    return this;
  }

  Dataset<Row> build() {
    return SparkTestSession.get().createDataFrame(rows, new StructType(fields.toArray(new StructField[0])));
  }

  static float[] f(float... v) {
    return v;
  }

  static List<Float> fl(Float... v) {
    return Arrays.asList(v);
  }
}
