package io.relabel.spark.io;

import static io.relabel.spark.io.Tables.FLOATS;
import static io.relabel.spark.io.Tables.f;
import static io.relabel.spark.io.Tables.fl;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.core.config.Settings;
import io.relabel.spark.SparkTestSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("spark")
class InputValidatorTest {

  private static final InputContract DEFAULT = InputContract.from(Settings.defaults());

  private static InputContract declaring(String classes) {
    return InputContract.from(Settings.defaults().with(Map.of("relabel.input.classes", classes)));
  }

  private static String failure(Dataset<Row> table, InputContract c) {
    return assertThrows(InputValidationException.class, () -> InputValidator.validate(table, c)).getMessage();
  }

  // ------------------------------------------------------------------------------------------------ valid input

  @Test
  void integerLabelsSortNumericallyAndCountsAreExact() {
    Dataset<Row> t = Tables.standard()
        .row(0L, f(1, 2, 3), 2L).row(1L, f(1, 2, 3), 10L).row(2L, f(0, 0, 0), 2L)
        .row(3L, f(1, 1, 1), 1L).row(4L, f(2, 2, 2), null).row(5L, f(3, 3, 3), 2L).build();
    ValidatedInput v = InputValidator.validate(t, DEFAULT);
    assertEquals(List.of("1", "2", "10"), v.classes());
    assertEquals(Map.of("1", 1L, "2", 3L, "10", 1L), v.classCounts());
    assertEquals(List.of("1", "2", "10"), List.copyOf(v.classCounts().keySet()));
    assertEquals(3, v.featureDim());
    assertEquals(FeatureKind.ARRAY_FLOAT, v.featureKind());
    assertEquals(ValueKind.INTEGER, v.idKind());
    assertTrue(v.labelIsInteger());
    assertFalse(v.trustedPresent());
    assertFalse(v.splitPresent());
    assertFalse(v.trueLabelPresent());
    assertEquals(6, v.rows());
    assertEquals(5, v.labeledRows());
    assertEquals(0, v.trustedRows());
    assertEquals(0, v.heldOutRows());
    assertEquals(t, v.table());
  }

  @Test
  void stringLabelsSortLexicographicallyAndOptionalColumnsAreCounted() {
    Dataset<Row> t = Tables.of("id", DataTypes.StringType, "features", Tables.DOUBLES, "label",
            DataTypes.StringType, "trusted", DataTypes.BooleanType, "split", DataTypes.StringType, "label_true",
            DataTypes.StringType)
        .row("a", new double[] {1, 2}, "dog", true, "train", "dog")
        .row("b", new double[] {1, 2}, "cat", false, "train", "dog")
        .row("c", new double[] {1, 2}, "Zebra", null, "test", "Zebra")
        .row("d", new double[] {1, 2}, null, false, null, "cat")
        .row("e", new double[] {1, 2}, "cat", true, "test", "cat").build();
    ValidatedInput v = InputValidator.validate(t, DEFAULT);
    assertEquals(List.of("Zebra", "cat", "dog"), v.classes());
    assertEquals(ValueKind.STRING, v.labelKind());
    assertEquals(ValueKind.STRING, v.idKind());
    assertEquals(FeatureKind.ARRAY_DOUBLE, v.featureKind());
    assertEquals(2, v.featureDim());
    assertTrue(v.trustedPresent());
    assertTrue(v.splitPresent());
    assertTrue(v.trueLabelPresent());
    assertEquals("trusted", v.trustedColOrNull());
    Map<String, Long> counts = new LinkedHashMap<>();
    counts.put("rows", 5L);
    counts.put("labeledRows", 4L);
    counts.put("trustedRows", 2L);
    counts.put("heldOutRows", 2L);
    assertEquals(counts, v.counts());
  }

  @Test
  void declaredClassesKeepTheirOrderAndUnseenClassesCountZero() {
    Dataset<Row> t = Tables.standard().row(1L, f(1), 7L).row(2L, f(2), 3L).row(3L, f(3), 7L).build();
    ValidatedInput v = InputValidator.validate(t, declaring("7, 3, 05"));
    assertEquals(List.of("7", "3", "5"), v.classes());
    assertEquals(List.of(2L, 1L, 0L), List.copyOf(v.classCounts().values()));
  }

  @Test
  void denseAndSparseVectorsAreAccepted() {
    Dataset<Row> t = Tables.of("id", DataTypes.IntegerType, "features", Tables.VECTOR, "label", DataTypes.IntegerType)
        .row(1, Vectors.dense(1, 2, 3, 4), 0)
        .row(2, Vectors.sparse(4, new int[] {1}, new double[] {5}), 1).build();
    ValidatedInput v = InputValidator.validate(t, DEFAULT);
    assertEquals(FeatureKind.VECTOR, v.featureKind());
    assertEquals(4, v.featureDim());
    assertEquals(List.of("0", "1"), v.classes());
  }

  @Test
  void textFeaturesAreAcceptedWithoutAWidth() {
    Dataset<Row> t = Tables.of("id", DataTypes.LongType, "features", DataTypes.StringType, "label",
            DataTypes.StringType)
        .row(1L, "a small dog", "animal").row(2L, "x", "letter").row(3L, "  padded  ", "animal").build();
    ValidatedInput v = InputValidator.validate(t, DEFAULT);
    assertEquals(FeatureKind.TEXT, v.featureKind());
    assertEquals(0, v.featureDim());
    assertEquals(List.of("animal", "letter"), v.classes());
    assertEquals(3, v.rows());
  }

  @Test
  void absentOptionalColumnsAreIgnoredEvenWhenNamed() {
    InputContract c = InputContract.from(Settings.defaults().with(Map.of("relabel.input.trustedCol", "verified")));
    Dataset<Row> t = Tables.standard().row(1L, f(1), 1L).build();
    ValidatedInput v = InputValidator.validate(t, c);
    assertFalse(v.trustedPresent());
    assertEquals(0, v.trustedRows());
  }

  // ------------------------------------------------------------------------------------------------ schema errors

  @Test
  void missingColumnListsTheColumnsPresent() {
    Dataset<Row> t = Tables.of("id", DataTypes.LongType, "features", FLOATS, "y", DataTypes.LongType)
        .row(1L, f(1), 1L).build();
    assertEquals("column 'label' (relabel.input.labelCol) is missing; the table has columns: id, features, y",
        failure(t, DEFAULT));
  }

  @Test
  void wrongIdTypeNamesActualAndAcceptedTypes() {
    Dataset<Row> t = Tables.of("id", DataTypes.DoubleType, "features", FLOATS, "label", DataTypes.LongType)
        .row(1.0, f(1), 1L).build();
    assertEquals("column 'id' (relabel.input.idCol) has type double; accepted: tinyint, smallint, int or bigint"
        + " or string", failure(t, DEFAULT));
  }

  @Test
  void wrongFeaturesType() {
    Dataset<Row> t = Tables.of("id", DataTypes.LongType, "features", DataTypes.BooleanType, "label",
        DataTypes.LongType).row(1L, true, 1L).build();
    assertEquals("column 'features' (relabel.input.featuresCol) has type boolean; accepted: array<float>,"
        + " array<double>, an MLlib vector or string (text)", failure(t, DEFAULT));
    Dataset<Row> ints = Tables.of("id", DataTypes.LongType, "features",
        DataTypes.createArrayType(DataTypes.IntegerType), "label", DataTypes.LongType).row(1L, new int[] {1}, 1L)
        .build();
    assertEquals("column 'features' (relabel.input.featuresCol) has type array<int>; accepted: array<float>,"
        + " array<double>, an MLlib vector or string (text)", failure(ints, DEFAULT));
  }

  @Test
  void wrongLabelType() {
    Dataset<Row> t = Tables.of("id", DataTypes.LongType, "features", FLOATS, "label", DataTypes.FloatType)
        .row(1L, f(1), 1f).build();
    assertEquals("column 'label' (relabel.input.labelCol) has type float; accepted: tinyint, smallint, int or"
        + " bigint or string", failure(t, DEFAULT));
  }

  @Test
  void presentOptionalColumnsOfTheWrongTypeAreErrors() {
    Dataset<Row> trusted = Tables.of("id", DataTypes.LongType, "features", FLOATS, "label", DataTypes.LongType,
        "trusted", DataTypes.StringType).row(1L, f(1), 1L, "yes").build();
    assertEquals("column 'trusted' (relabel.input.trustedCol) has type string; accepted: boolean",
        failure(trusted, DEFAULT));
    Dataset<Row> split = Tables.of("id", DataTypes.LongType, "features", FLOATS, "label", DataTypes.LongType,
        "split", DataTypes.IntegerType).row(1L, f(1), 1L, 0).build();
    assertEquals("column 'split' (relabel.input.splitCol) has type int; accepted: string",
        failure(split, DEFAULT));
    Dataset<Row> trueLabel = Tables.of("id", DataTypes.LongType, "features", FLOATS, "label", DataTypes.LongType,
        "label_true", DataTypes.StringType).row(1L, f(1), 1L, "1").build();
    assertEquals("column 'label_true' (relabel.input.trueLabelCol) has type string; accepted: tinyint, smallint,"
        + " int or bigint, the kind of column 'label'", failure(trueLabel, DEFAULT));
  }

  @Test
  void declaredClassesMustBeIntegersForIntegerLabels() {
    Dataset<Row> t = Tables.standard().row(1L, f(1), 1L).build();
    assertEquals("relabel.input.classes lists 'cat', but column 'label' holds integers (bigint)",
        failure(t, declaring("1,cat")));
    assertEquals("relabel.input.classes lists the same integer class twice: 1, 01",
        failure(t, declaring("1,01")));
  }

  // ------------------------------------------------------------------------------------------------ row errors

  @Test
  void emptyTable() {
    assertEquals("the input table has no rows", failure(Tables.standard().build(), DEFAULT));
  }

  @Test
  void nullIdGivesThePositionOfTheFirst() {
    Dataset<Row> t = Tables.standard().row(1L, f(1), 1L).row(null, f(1), 1L).row(3L, f(1), 1L)
        .row(null, f(1), 1L).build().coalesce(1);
    assertEquals("column 'id' (the row id) is null in 2 rows; the first is row 1 of input partition 0",
        failure(t, DEFAULT));
  }

  @Test
  void nullIdInAParquetInputNamesTheFile(@TempDir Path dir) throws Exception {
    String path = dir.resolve("in").toString();
    Tables.standard().row(1L, f(1), 1L).row(null, f(1), 1L).build().coalesce(1).write().parquet(path);
    String file;
    try (Stream<Path> s = Files.list(Path.of(path))) {
      file = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".parquet")).findFirst().orElseThrow();
    }
    Dataset<Row> t = SparkTestSession.get().read().parquet(path);
    assertEquals("column 'id' (the row id) is null in 1 row; the first is row 1 of input partition 0 (file file://"
        + path + "/" + file + ")", failure(t, DEFAULT));
  }

  @Test
  void duplicateIdsNameTheSmallestAndHowOftenItOccurs() {
    Dataset<Row> t = Tables.standard().row(9L, f(1), 1L).row(5L, f(1), 1L).row(3L, f(1), 1L).row(5L, f(1), 1L)
        .row(9L, f(1), 1L).row(9L, f(1), 1L).row(1L, f(1), 1L).build();
    assertEquals("column 'id' must be unique, but 2 ids occur more than once (5 rows in all); the first is id 5,"
        + " which occurs 2 times", failure(t, DEFAULT));
  }

  @Test
  void duplicateStringIdIsQuoted() {
    Dataset<Row> t = Tables.of("id", DataTypes.StringType, "features", FLOATS, "label", DataTypes.LongType)
        .row("x", f(1), 1L).row("x", f(1), 1L).row("y", f(1), 1L).build();
    assertEquals("column 'id' must be unique, but 1 id occurs more than once (2 rows in all); the first is id 'x',"
        + " which occurs 2 times", failure(t, DEFAULT));
  }

  @Test
  void nullFeatures() {
    Dataset<Row> t = Tables.standard().row(1L, f(1), 1L).row(8L, null, 1L).row(4L, null, 1L).build();
    assertEquals("column 'features' is null in 2 rows; the first is row id 4", failure(t, DEFAULT));
  }

  @Test
  void inconsistentLengthsNameTheRowItsLengthAndTheExpectedOne() {
    Tables b = Tables.standard();
    for (long id = 0; id < 5; id++) {
      b.row(id + 10, f(1, 2, 3), 1L);
    }
    Dataset<Row> t = b.row(7L, f(1, 2), 1L).row(4L, f(1, 2, 3, 4), 1L).build();
    assertEquals("column 'features' has inconsistent lengths: 2 rows differ from the expected length 3 (the length"
        + " of 5 of 7 rows); the first is row id 4 with length 4", failure(t, DEFAULT));
  }

  @Test
  void emptyFeatureVectors() {
    Dataset<Row> t = Tables.standard().row(1L, f(), 1L).row(2L, f(), 1L).build();
    assertEquals("column 'features' has length 0 in every row; at least one feature is needed",
        failure(t, DEFAULT));
  }

  @Test
  void nonFiniteFeatureNamesRowElementAndValue() {
    Dataset<Row> t = Tables.standard().row(1L, f(1, 2), 1L).row(8L, f(Float.POSITIVE_INFINITY, 1), 1L)
        .row(5L, f(0, Float.NaN), 1L).build();
    assertEquals("column 'features' has NaN, infinite or null elements in 2 rows; the first is row id 5,"
        + " element 1 = NaN", failure(t, DEFAULT));
  }

  @Test
  void nullFeatureElement() {
    Dataset<Row> t = Tables.standard().row(1L, fl(1f, 2f), 1L).row(2L, fl(1f, null), 1L).build();
    assertEquals("column 'features' has NaN, infinite or null elements in 1 row; the first is row id 2,"
        + " element 1 = null", failure(t, DEFAULT));
  }

  @Test
  void infiniteValueInASparseVectorNamesItsIndex() {
    Dataset<Row> t = Tables.of("id", DataTypes.LongType, "features", Tables.VECTOR, "label", DataTypes.LongType)
        .row(1L, Vectors.dense(1, 2, 3, 4, 5, 6, 7, 8), 1L)
        .row(2L, Vectors.sparse(8, new int[] {2, 6}, new double[] {1, Double.NEGATIVE_INFINITY}), 1L).build();
    assertEquals("column 'features' has NaN, infinite or null elements in 1 row; the first is row id 2,"
        + " element 6 = -Infinity", failure(t, DEFAULT));
  }

  @Test
  void blankTextNamesTheRowAndShowsItsValue() {
    Dataset<Row> t = Tables.of("id", DataTypes.StringType, "features", DataTypes.StringType, "label",
            DataTypes.LongType)
        .row("r9", "", 1L).row("r1", "fine", 1L).row("r5", " \t\n", 1L).row("r7", "   ", 0L).build();
    assertEquals("column 'features' has blank text in 3 rows; the first is row id 'r5' with value ' \\t\\n';"
        + " a text encoder needs some text", failure(t, DEFAULT));
  }

  @Test
  void nullTextIsANullFeature() {
    Dataset<Row> t = Tables.of("id", DataTypes.LongType, "features", DataTypes.StringType, "label",
            DataTypes.LongType)
        .row(3L, "a text", 1L).row(12L, null, 1L).row(10L, null, 0L).build();
    assertEquals("column 'features' is null in 2 rows; the first is row id 10", failure(t, DEFAULT));
  }

  @Test
  void labelOutsideTheDeclaredClasses() {
    Dataset<Row> t = Tables.of("id", DataTypes.LongType, "features", FLOATS, "label", DataTypes.StringType)
        .row(1L, f(1), "cat").row(7L, f(1), "fish").row(3L, f(1), "bird").row(4L, f(1), "dog")
        .row(5L, f(1), null).build();
    assertEquals("column 'label' has values outside relabel.input.classes in 2 rows; the first is row id 3 with"
        + " label 'bird'; declared classes: cat, dog", failure(t, declaring("cat,dog")));
  }

  @Test
  void trustedRowWithoutALabel() {
    Dataset<Row> t = Tables.of("id", DataTypes.LongType, "features", FLOATS, "label", DataTypes.LongType,
            "trusted", DataTypes.BooleanType)
        .row(1L, f(1), 1L, true).row(2L, f(1), null, false).row(6L, f(1), null, true).row(3L, f(1), null, true)
        .build();
    assertEquals("column 'label' is null in 2 rows that column 'trusted' marks as trusted; the first is row id 3",
        failure(t, DEFAULT));
  }

  @Test
  void noLabelsAtAll() {
    Dataset<Row> t = Tables.standard().row(1L, f(1), null).row(2L, f(1), null).build();
    assertEquals("column 'label' is null in all 2 rows; at least one labeled row is needed", failure(t, DEFAULT));
  }

  @Test
  void theSmallestOffendingIdIsReportedWhateverThePartitioning() {
    Tables b = Tables.standard();
    for (long id = 0; id < 400; id++) {
      boolean bad = id % 37 == 11; // 11, 48, 85, ...
      b.row(id, bad ? f(Float.NaN) : f(1), id % 3);
    }
    Dataset<Row> t = b.build();
    String expected = "column 'features' has NaN, infinite or null elements in 11 rows; the first is row id 11,"
        + " element 0 = NaN";
    for (int parts : new int[] {1, 3, 7}) {
      Dataset<Row> shuffled = t.repartition(parts, functions.rand(7));
      assertEquals(expected, failure(shuffled, DEFAULT), "partitions: " + parts);
    }
  }
}
