package io.relabel.spark.io;

import static io.relabel.spark.io.Tables.f;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("spark")
class FeatureColumnsTest {

  private static final double[] A = {1.5, -2, 0};
  private static final double[] B = {0, 4, 0};

  private static Dataset<Row> table(Object a, Object b, org.apache.spark.sql.types.DataType type) {
    return Tables.of("id", DataTypes.LongType, "features", type).row(1L, a).row(2L, b).row(3L, null).build();
  }

  private static List<Dataset<Row>> allKinds() {
    return List.of(
        table(f(1.5f, -2f, 0f), f(0f, 4f, 0f), Tables.FLOATS),
        table(A, B, Tables.DOUBLES),
        table(Vectors.dense(A), Vectors.sparse(3, new int[] {1}, new double[] {4}), Tables.VECTOR));
  }

  @Test
  void everyKindBecomesADenseVector() {
    for (Dataset<Row> t : allKinds()) {
      Dataset<Row> out = FeatureColumns.toMlVector(t, "features", "vec");
      assertEquals(Tables.VECTOR, out.schema().apply("vec").dataType());
      List<Row> rows = out.orderBy("id").select("vec").collectAsList();
      Vector b = rows.get(1).getAs(0);
      assertTrue(b instanceof DenseVector, "dense: " + b);
      assertArrayEquals(A, ((Vector) rows.get(0).getAs(0)).toArray(), 0.0);
      assertArrayEquals(B, b.toArray(), 0.0);
      assertNull(rows.get(2).get(0));
    }
  }

  @Test
  void everyKindBecomesAFloatArray() {
    for (Dataset<Row> t : allKinds()) {
      Dataset<Row> out = FeatureColumns.toFloatArray(t, "features", "features");
      assertEquals(Tables.FLOATS, out.schema().apply("features").dataType());
      assertEquals(List.of("id", "features"), List.of(out.schema().fieldNames()));
      List<Row> rows = out.orderBy("id").collectAsList();
      assertEquals(List.of(1.5f, -2f, 0f), rows.get(0).getList(1));
      assertEquals(List.of(0f, 4f, 0f), rows.get(1).getList(1));
      assertNull(rows.get(2).get(1));
    }
  }

  @Test
  void otherTypesAreRefused() {
    Dataset<Row> t = Tables.of("id", DataTypes.LongType, "features", DataTypes.BooleanType).row(1L, true).build();
    InputValidationException e = assertThrows(InputValidationException.class,
        () -> FeatureColumns.toMlVector(t, "features", "vec"));
    assertEquals("column 'features' has type boolean; accepted: array<float>, array<double>, an MLlib vector or"
        + " string (text)", e.getMessage());
  }

  @Test
  void textNeedsATextEncoderBeforeItCanBeNumbers() {
    Dataset<Row> t = Tables.of("id", DataTypes.LongType, "features", DataTypes.StringType).row(1L, "x").build();
    String expected = "column 'features' holds text (string), but numeric features are needed here: array<float>,"
        + " array<double> or an MLlib vector";
    assertEquals(expected, assertThrows(InputValidationException.class,
        () -> FeatureColumns.toMlVector(t, "features", "vec")).getMessage());
    assertEquals(expected, assertThrows(InputValidationException.class,
        () -> FeatureColumns.toFloatArray(t, "features", "vec")).getMessage());
  }
}
