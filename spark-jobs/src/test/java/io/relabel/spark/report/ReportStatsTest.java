package io.relabel.spark.report;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.core.util.RowSeeds;
import io.relabel.spark.SparkTestSession;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The figures of a hand-made table of ten rows, against values worked out by hand (see the comments per row). */
@Tag("spark")
class ReportStatsTest {

  static final List<String> CLASSES = List.of("a", "b", "c");
  static final List<String> METHODS = List.of("model", "consensus", "cl");
  static final ReportStats.Columns COLS = new ReportStats.Columns("id", "y", "corr", "conf", "trusted", "holdout",
      "quality", "reasons");
  static final StructType REASON = new StructType().add("method", DataTypes.StringType)
      .add("label", DataTypes.StringType).add("confidence", DataTypes.DoubleType);
  static final StructType SCHEMA = new StructType()
      .add("id", DataTypes.LongType)
      .add("y", DataTypes.IntegerType)
      .add("corr", DataTypes.IntegerType)
      .add("conf", DataTypes.DoubleType)
      .add("trusted", DataTypes.BooleanType)
      .add("holdout", DataTypes.BooleanType)
      .add("quality", DataTypes.DoubleType)
      .add("reasons", DataTypes.createArrayType(REASON));

  static Dataset<Row> table;
  static final long SEED = 11;

  static Row why(String method, String label, Double confidence) {
    return RowFactory.create(method, label, confidence);
  }

  @BeforeAll
  static void build() {
    List<Row> rows = List.of(
        // kept
        RowFactory.create(1L, 0, 0, 0.9, false, false, 0.8, List.of().toArray()),
        // changed a->b: model and consensus followed, cl named c
        RowFactory.create(2L, 0, 1, 0.75, false, false, 0.1,
            new Row[] {why("model", "b", 0.75), why("consensus", "b", 0.6), why("cl", "c", 0.5)}),
        // changed b->c: model and cl followed
        RowFactory.create(3L, 1, 2, 0.55, false, false, 0.2, new Row[] {why("model", "c", 0.55), why("cl", "c", 0.4)}),
        // kept although consensus named a
        RowFactory.create(4L, 1, 1, 0.95, false, false, 0.9, new Row[] {why("consensus", "a", 0.5)}),
        // trusted: counted in the matrix, not in histograms or agreement
        RowFactory.create(5L, 2, 2, 0.99, true, false, null, new Row[] {why("model", "a", 0.6)}),
        // held out
        RowFactory.create(6L, 2, 2, 1.0, false, true, null, new Row[0]),
        // unlabeled, filled with a
        RowFactory.create(7L, null, 0, 0.45, false, false, null, new Row[] {why("model", "a", 0.45)}),
        // unlabeled held out: not filled
        RowFactory.create(8L, null, null, null, false, true, null, new Row[0]),
        // changed c->a: all three followed; hdl is not a method of this run
        RowFactory.create(9L, 2, 0, 0.35, false, false, 0.05, new Row[] {why("model", "a", 0.35),
            why("consensus", "a", 0.5), why("cl", "a", 0.3), why("hdl", "b", 0.9)}),
        // kept, no confidence; cl named c
        RowFactory.create(10L, 0, 0, null, false, false, 0.6, new Row[] {why("cl", "c", null)}));
    table = SparkTestSession.get().createDataFrame(rows, SCHEMA).cache();
  }

  static ReportStats.Stats compute(Dataset<Row> t, int samples, long seed) {
    return ReportStats.compute(t, COLS, CLASSES, METHODS, samples, seed, null, null);
  }

  static long[] bins(int... at) {
    long[] h = new long[ReportStats.BINS];
    for (int b : at) {
      h[b]++;
    }
    return h;
  }

  @Test
  void countsMatricesHistogramsAndAgreementMatchTheHandCount() {
    ReportStats.Stats s = compute(table.repartition(3), 25, SEED);
    assertEquals(List.of(10L, 8L, 2L, 1L, 1L, 6L, 3L, 1L), List.of(s.rows(), s.labeled(), s.unlabeled(),
        s.trusted(), s.heldOut(), s.changeable(), s.changed(), s.filled()));
    assertArrayEquals(new long[][] {{2, 1, 0}, {0, 1, 1}, {1, 0, 2}}, s.changes());
    assertArrayEquals(new long[] {1, 0, 0}, s.filledInto());
    assertArrayEquals(bins(15, 11, 7), s.confidence()[0], "changed: 0.75, 0.55, 0.35");
    assertArrayEquals(bins(18, 19), s.confidence()[1], "kept: 0.9, 0.95 (row 10 has no confidence)");
    assertArrayEquals(bins(9), s.confidence()[2], "filled: 0.45");
    assertArrayEquals(bins(2, 4, 1), s.quality()[0]);
    assertArrayEquals(bins(16, 18, 12), s.quality()[1]);
    assertEquals(6, Arrays.stream(s.confidence()).flatMapToLong(Arrays::stream).sum());
    assertArrayEquals(new long[] {3, 3, 4}, s.flagged());
    assertArrayEquals(new long[] {3, 2, 2}, s.followed());
    assertArrayEquals(new long[][] {{3, 2, 2}, {2, 3, 1}, {2, 1, 4}}, s.overlap());
  }

  @Test
  void theSampleHoldsOnlyChangedRowsInSeededKeyOrderWhateverThePartitioning() {
    List<Long> changed = new ArrayList<>(List.of(2L, 3L, 9L));
    changed.sort(Comparator.comparingLong(id -> RowSeeds.bits(SEED, "report-sample", id, 0)));
    ReportStats.Stats all = compute(table.repartition(4), 25, SEED);
    assertEquals(changed.stream().map(String::valueOf).toList(),
        all.samples().stream().map(ReportStats.Sample::id).toList());
    for (int parts : new int[] {1, 2, 5}) {
      ReportStats.Stats two = compute(table.repartition(parts), 2, SEED);
      assertEquals(changed.subList(0, 2).stream().map(String::valueOf).toList(),
          two.samples().stream().map(ReportStats.Sample::id).toList(), parts + " partitions");
    }
    assertEquals(List.of(), compute(table, 0, SEED).samples());

    ReportStats.Sample row2 = all.samples().stream().filter(r -> r.id().equals("2")).findFirst().orElseThrow();
    assertEquals("a", row2.given());
    assertEquals("b", row2.corrected());
    assertEquals(0.75, row2.confidence());
    assertEquals(List.of(new ReportStats.Reason("model", "b", 0.75), new ReportStats.Reason("consensus", "b", 0.6),
        new ReportStats.Reason("cl", "c", 0.5)), row2.reasons());
    assertNull(row2.preview());
  }

  @Test
  void textFeaturesOfTheSampledRowsArePreviewedCut() {
    String longText = "word ".repeat(60) + "end";
    Dataset<Row> texts = SparkTestSession.get().createDataFrame(List.of(
            RowFactory.create(2L, "  short\n\ttext  "), RowFactory.create(3L, longText), RowFactory.create(9L, null),
            RowFactory.create(1L, "not sampled")),
        new StructType().add("id", DataTypes.LongType).add("text", DataTypes.StringType));
    ReportStats.Stats s = ReportStats.compute(table, COLS, CLASSES, METHODS, 25, SEED, texts, "text");
    java.util.Map<String, String> previews = new java.util.HashMap<>();
    s.samples().forEach(r -> previews.put(r.id(), r.preview()));
    assertEquals("short text", previews.get("2"));
    assertEquals(("word ".repeat(32)).substring(0, ReportStats.PREVIEW_CHARS) + "…", previews.get("3"));
    assertNull(previews.get("9"));
    assertEquals(3, previews.size());
  }

  @Test
  void withoutAQualityColumnThereIsNoQualityHistogram() {
    ReportStats.Columns c = new ReportStats.Columns("id", "y", "corr", "conf", "trusted", "holdout", null,
        "reasons");
    ReportStats.Stats s = ReportStats.compute(table, c, CLASSES, METHODS, 25, SEED, null, null);
    assertNull(s.quality());
    assertEquals(3, s.changed());
    assertTrue(s.samples().size() == 3);
  }
}
