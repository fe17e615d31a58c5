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

/** Small in-memory tables for the io and command-line tests. */
public final class Tables {

  public static final DataType FLOATS = DataTypes.createArrayType(DataTypes.FloatType);
  public static final DataType DOUBLES = DataTypes.createArrayType(DataTypes.DoubleType);
  public static final DataType VECTOR = SQLDataTypes.VectorType();

  private final List<StructField> fields = new ArrayList<>();
  private final List<Row> rows = new ArrayList<>();

  public static Tables of(Object... namesAndTypes) {
    Tables t = new Tables();
    for (int i = 0; i < namesAndTypes.length; i += 2) {
      t.fields.add(DataTypes.createStructField((String) namesAndTypes[i], (DataType) namesAndTypes[i + 1], true));
    }
    return t;
  }

  /** The usual id bigint, features array&lt;float&gt;, label bigint. */
  public static Tables standard() {
    return of("id", DataTypes.LongType, "features", FLOATS, "label", DataTypes.LongType);
  }

  public Tables row(Object... values) {
    rows.add(RowFactory.create(values));
    return this;
  }

  public Dataset<Row> build() {
    return SparkTestSession.get().createDataFrame(rows, new StructType(fields.toArray(new StructField[0])));
  }

  public static float[] f(float... v) {
    return v;
  }

  public static List<Float> fl(Float... v) {
    return Arrays.asList(v);
  }
}
