package io.relabel.spark.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.core.config.Settings;
import io.relabel.spark.SparkTestSession;
import io.relabel.spark.cli.RelabelException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("spark")
class NoiseInjectionTest {

  private static SparkSession spark;

  @BeforeAll
  static void session() {
    spark = SparkTestSession.get();
  }

  private static final StructType SCHEMA = new StructType()
      .add("id", DataTypes.LongType, false)
      .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)
      .add("label", DataTypes.IntegerType, true)
      .add("split", DataTypes.StringType, true);

  /** The label of row k (not a function of k mod 5, so every class is in both splits). */
  static int labelOf(long k) {
    return (int) ((k * 7 + k / 5) % 5);
  }

  /** n rows with ids 10k+3: label labelOf(k), every fifth row in split 'test'; optionally some unlabeled rows. */
  static Dataset<Row> table(int n, int partitions, boolean someUnlabeled) {
    List<Row> rows = new ArrayList<>();
    for (long id = 0; id < n; id++) {
      Integer label = someUnlabeled && id % 11 == 3 ? null : labelOf(id);
      rows.add(RowFactory.create(id * 10 + 3, new float[] {id, -id}, label, id % 5 == 0 ? "test" : "train"));
    }
    return spark.createDataFrame(rows, SCHEMA).repartition(partitions);
  }

  private static Settings settings(String... kv) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return Settings.defaults().with(m);
  }

  private static Map<Long, Row> byId(Dataset<Row> t) {
    Map<Long, Row> m = new HashMap<>();
    for (Row r : t.collectAsList()) {
      m.put(r.getLong(0), r);
    }
    return m;
  }

  @Test
  void symmetricNoiseIsExactAndOnlyTouchesTheNoisySplit() {
    Dataset<Row> in = table(1000, 3, false);
    NoiseInjection.Result res = NoiseInjection.injectWithReport(in, settings("relabel.noise.rate", "0.3",
        "relabel.noise.trustedSize", "50"), 16);
    Dataset<Row> out = res.table();
    assertEquals("struct<id:bigint,features:array<float>,label:int,split:string,label_true:int,trusted:boolean>",
        out.schema().simpleString());
    assertTrue(!out.schema().apply("trusted").nullable());

    long trusted = 0;
    long flipped = 0;
    for (Row r : out.collectAsList()) {
      int label = r.getInt(2);
      int truth = r.getInt(4);
      boolean isTrusted = r.getBoolean(5);
      boolean test = r.getString(3).equals("test");
      assertEquals(labelOf((r.getLong(0) - 3) / 10), truth, "label_true is the input label");
      if (test) {
        assertEquals(truth, label, "test rows keep their label");
        assertTrue(!isTrusted, "test rows are never trusted");
      }
      if (isTrusted) {
        trusted++;
        assertEquals(truth, label, "trusted rows keep their label");
      }
      if (label != truth) {
        flipped++;
        assertTrue(label >= 0 && label < 5);
      }
    }
    assertEquals(50, trusted);
    assertEquals(Math.round(0.3 * 750), flipped);
    assertEquals(225, res.report().stats().flipped());
    assertEquals(0.3, res.report().stats().realErrorRate(), 1e-12);
    assertEquals(List.of("rows: 1000 (test 200, train 800)",
        "noisy split 'train': 800 labeled rows, 50 trusted, 750 noisy",
        "flipped 225 of 750 noisy rows (symmetric noise, rate 0.3): real error rate 0.300000"),
        res.report().lines());
  }

  @Test
  void theOutputDoesNotDependOnPartitioningOrOnTheCandidateLimit() {
    Settings s = settings("relabel.noise.rate", "0.4", "relabel.noise.trustedSize", "37", "relabel.seed", "5");
    Map<Long, Row> one = byId(NoiseInjection.injectWithReport(table(1200, 1, true), s, 8).table());
    Map<Long, Row> four = byId(NoiseInjection.injectWithReport(table(1200, 4, true), s, 8).table());
    Map<Long, Row> big = byId(NoiseInjection.injectWithReport(table(1200, 4, true), s, 100000).table());
    assertEquals(1200, one.size());
    for (long id : one.keySet()) {
      assertEquals(one.get(id).toString(), four.get(id).toString(), "row " + id);
      assertEquals(one.get(id).toString(), big.get(id).toString(), "row " + id);
    }
    Map<Long, Row> otherSeed = byId(NoiseInjection.injectWithReport(table(1200, 4, true),
        s.with(Map.of("relabel.seed", "6")), 8).table());
    assertNotEquals(one.toString(), otherSeed.toString());
  }

  @Test
  void trustedNoisyAndTestRowsAreDisjoint() {
    Dataset<Row> out = NoiseInjection.inject(table(600, 2, false), settings("relabel.noise.rate", "1.0",
        "relabel.noise.trustedSize", "40"));
    // with rate 1 every noisy row is flipped: flipped = noisy set exactly
    Row counts = out.selectExpr(
        "sum(if(trusted, 1, 0))",
        "sum(if(label != label_true, 1, 0))",
        "sum(if(trusted and label != label_true, 1, 0))",
        "sum(if(split = 'test' and (trusted or label != label_true), 1, 0))",
        "sum(if(split = 'train' and not trusted and label = label_true, 1, 0))").first();
    assertEquals(40L, counts.getLong(0));
    assertEquals(480L - 40L, counts.getLong(1));
    assertEquals(0L, counts.getLong(2));
    assertEquals(0L, counts.getLong(3));
    assertEquals(0L, counts.getLong(4));
  }

  @Test
  void unlabeledRowsAreLeftAlone() {
    NoiseInjection.Result res = NoiseInjection.injectWithReport(table(1100, 2, true),
        settings("relabel.noise.rate", "0.5", "relabel.noise.trustedSize", "10"));
    Row c = res.table().selectExpr("sum(if(label is null, 1, 0))", "sum(if(label_true is null, 1, 0))",
        "sum(if(label is null and trusted, 1, 0))", "sum(if(label != label_true, 1, 0))").first();
    assertEquals(100L, c.getLong(0));
    assertEquals(100L, c.getLong(1));
    assertEquals(0L, c.getLong(2));
    long unlabeledTrain = res.report().unlabeled();
    assertEquals(80, unlabeledTrain);
    long eligible = 880 - unlabeledTrain;
    assertEquals(eligible, res.report().stats().eligible());
    assertEquals(Math.round(0.5 * (eligible - 10)), c.getLong(3));
  }

  @Test
  void pairNoiseMovesExactlyRoundRateTimesNcOfEachMappedClass() {
    NoiseInjection.Result res = NoiseInjection.injectWithReport(table(2000, 3, false),
        settings("relabel.noise.type", "pair", "relabel.noise.pairs", "0:1,1:0,3:4", "relabel.noise.rate", "0.25",
            "relabel.noise.trustedSize", "100"), 16);
    List<Row> moves = res.table().where("label != label_true").groupBy("label_true", "label").count()
        .orderBy("label_true").collectAsList();
    List<Row> perClass = res.table().where("split = 'train' and not trusted").groupBy("label_true").count()
        .orderBy("label_true").collectAsList();
    Map<Integer, Long> n = new HashMap<>();
    for (Row r : perClass) {
      n.put(r.getInt(0), r.getLong(1));
    }
    assertEquals(3, moves.size());
    assertEquals(List.of(0, 1), List.of(moves.get(0).getInt(0), moves.get(0).getInt(1)));
    assertEquals(Math.round(0.25 * n.get(0)), moves.get(0).getLong(2));
    assertEquals(List.of(1, 0), List.of(moves.get(1).getInt(0), moves.get(1).getInt(1)));
    assertEquals(Math.round(0.25 * n.get(1)), moves.get(1).getLong(2));
    assertEquals(List.of(3, 4), List.of(moves.get(2).getInt(0), moves.get(2).getInt(1)));
    assertEquals(Math.round(0.25 * n.get(3)), moves.get(2).getLong(2));
    long flipped = moves.stream().mapToLong(r -> r.getLong(2)).sum();
    assertEquals(flipped, res.report().stats().flipped());
    assertEquals((double) flipped / 1500, res.report().stats().realErrorRate(), 1e-12);
    List<String> lines = res.report().lines();
    assertEquals("  class 0 -> 1: " + moves.get(0).getLong(2) + " of " + n.get(0) + " rows", lines.get(2));
    assertEquals(String.format(java.util.Locale.ROOT,
        "flipped %d of 1500 noisy rows (pair noise, rate 0.25): real error rate %.6f", flipped, flipped / 1500.0),
        lines.get(lines.size() - 1));
  }

  @Test
  void stringLabelsAndIdsWithoutASplitColumn() {
    StructType schema = new StructType().add("key", DataTypes.StringType).add("animal", DataTypes.StringType);
    List<Row> rows = new ArrayList<>();
    String[] animals = {"cat", "dog", "owl"};
    for (int i = 0; i < 300; i++) {
      rows.add(RowFactory.create("k" + i, animals[i % 3]));
    }
    Dataset<Row> in = spark.createDataFrame(rows, schema).repartition(3);
    NoiseInjection.Result res = NoiseInjection.injectWithReport(in, settings("relabel.input.idCol", "key",
        "relabel.input.labelCol", "animal", "relabel.noise.rate", "0.2", "relabel.noise.trustedSize", "30"), 4);
    Dataset<Row> out = res.table();
    assertEquals("struct<key:string,animal:string,label_true:string,trusted:boolean>", out.schema().simpleString());
    Row c = out.selectExpr("sum(if(trusted, 1, 0))", "sum(if(animal != label_true, 1, 0))",
        "sum(if(animal not in ('cat', 'dog', 'owl'), 1, 0))").first();
    assertEquals(30L, c.getLong(0));
    assertEquals(54L, c.getLong(1));
    assertEquals(0L, c.getLong(2));
    assertEquals(List.of("cat", "dog", "owl"), res.report().classes());
    assertEquals("rows: 300 ((all) 300)", res.report().lines().get(0));
  }

  @Test
  void theInputDatasetIsNotChanged() {
    Dataset<Row> in = table(300, 2, false);
    List<String> before = in.orderBy("id").collectAsList().stream().map(Row::toString).toList();
    NoiseInjection.inject(in, settings("relabel.noise.rate", "0.5")).count();
    assertEquals(before, in.orderBy("id").collectAsList().stream().map(Row::toString).toList());
    assertEquals(4, in.columns().length);
  }

  // ---- long tail and labeled share

  /** Rows per value of {@code label_true} among the rows {@code where} selects, by class 0..4. */
  private static long[] perTrueClass(Dataset<Row> t, String where) {
    long[] out = new long[5];
    for (Row r : t.where(where).groupBy("label_true").count().collectAsList()) {
      out[r.getInt(0)] = r.getLong(1);
    }
    return out;
  }

  @Test
  void aLabeledShareKeepsExactlyThatManyLabelsStratifiedAndTheRateIsExactAmongThem() {
    NoiseInjection.Result res = NoiseInjection.injectWithReport(table(2000, 3, false), settings(
        "relabel.noise.rate", "0.4", "relabel.noise.trustedSize", "20", "relabel.noise.labeledShare", "0.05"), 16);
    Dataset<Row> out = res.table().cache();
    assertEquals(2000, out.count());
    Row c = out.selectExpr(
        "sum(if(split = 'train' and not trusted and label is not null, 1, 0))",
        "sum(if(split = 'train' and not trusted and label is null, 1, 0))",
        "sum(if(trusted and (label is null or label != label_true), 1, 0))",
        "sum(if(split = 'test' and (label is null or label != label_true or trusted), 1, 0))",
        "sum(if(label != label_true, 1, 0))",
        "sum(if(label_true is null, 1, 0))",
        "sum(if(trusted, 1, 0))").first();
    // 1600 training rows, 20 trusted: round(0.05 * 1580) = 79 keep a label, round(0.4 * 79) = 32 are wrong
    assertEquals(79L, c.getLong(0));
    assertEquals(1580L - 79L, c.getLong(1));
    assertEquals(0L, c.getLong(2), "trusted rows keep their true label");
    assertEquals(0L, c.getLong(3), "test rows are untouched");
    assertEquals(32L, c.getLong(4));
    assertEquals(0L, c.getLong(5), "label_true keeps every truth");
    assertEquals(20L, c.getLong(6));
    long[] nonTrusted = perTrueClass(out, "split = 'train' and not trusted");
    long[] labeled = perTrueClass(out, "split = 'train' and not trusted and label is not null");
    assertArrayEquals(io.relabel.core.noise.ClassQuotas.stratified(79, nonTrusted), labeled);
    assertArrayEquals(labeled, res.report().stats().noisyPerClass());
    assertEquals(List.of("rows: 2000 (test 400, train 1600)",
        "noisy split 'train': 1600 labeled rows, 20 trusted, 79 noisy, 1501 made unlabeled (labeled share 0.05)",
        "rows that keep a label, per class (of the non-trusted rows):",
        "  class 0: " + labeled[0] + " of " + nonTrusted[0],
        "  class 1: " + labeled[1] + " of " + nonTrusted[1],
        "  class 2: " + labeled[2] + " of " + nonTrusted[2],
        "  class 3: " + labeled[3] + " of " + nonTrusted[3],
        "  class 4: " + labeled[4] + " of " + nonTrusted[4],
        "flipped 32 of 79 noisy rows (symmetric noise, rate 0.4): real error rate 0.405063",
        "labeled rows of split 'train': 99 (20 trusted); real error rate among them 0.323232"),
        res.report().lines());
    out.unpersist();
  }

  @Test
  void aLongTailKeepsExactClassSizesInTheNoisySplitAndTheTestSplitWhole() {
    Dataset<Row> in = table(5000, 4, false);
    NoiseInjection.Result res = NoiseInjection.injectWithReport(in, settings("relabel.noise.rate", "0.0",
        "relabel.noise.longTailRatio", "10"), 16);
    Dataset<Row> out = res.table().cache();
    // 800 training rows per class; class c keeps round(800 * 10^(-c/4))
    long[] expected = {800, 450, 253, 142, 80};
    assertArrayEquals(expected, perTrueClass(out, "split = 'train'"));
    assertArrayEquals(expected, res.report().longTail().kept());
    assertArrayEquals(new long[] {800, 800, 800, 800, 800}, res.report().longTail().before());
    assertEquals(1000 + 1725, out.count());
    assertEquals(0L, out.where("label != label_true or trusted").count(), "rate 0: no noise");
    List<String> testIn = in.where("split = 'test'").orderBy("id").collectAsList().stream().map(Row::toString)
        .toList();
    List<String> testOut = out.where("split = 'test'").select("id", "features", "label", "split").orderBy("id")
        .collectAsList().stream().map(Row::toString).toList();
    assertEquals(testIn, testOut, "the test split is written whole and unchanged");
    assertEquals(0L, out.join(in, out.col("id").equalTo(in.col("id")), "left_anti").count(),
        "every output row is an input row");
    assertEquals(List.of("rows: 5000 (test 1000, train 4000)",
        "long tail (ratio 10.0) in split 'train': kept 1725 of 4000 labeled rows (2725 rows written in all); rows"
            + " per class kept:",
        "  class 0: 800 of 800", "  class 1: 450 of 800", "  class 2: 253 of 800", "  class 3: 142 of 800",
        "  class 4: 80 of 800",
        "noisy split 'train': 1725 labeled rows, 0 trusted, 1725 noisy",
        "flipped 0 of 1725 noisy rows (symmetric noise, rate 0.0): real error rate 0.000000",
        "labeled rows of split 'train': 1725 (0 trusted); real error rate among them 0.000000"),
        res.report().lines());
    out.unpersist();
  }

  @Test
  void longTailLabeledShareAndNoiseTogetherAreExactAndDoNotDependOnPartitioning() {
    Settings s = settings("relabel.noise.rate", "0.3", "relabel.noise.trustedSize", "25",
        "relabel.noise.longTailRatio", "10", "relabel.noise.labeledShare", "0.1", "relabel.seed", "4");
    NoiseInjection.Result one = NoiseInjection.injectWithReport(table(5000, 1, false), s, 8);
    Map<Long, Row> a = byId(one.table());
    Map<Long, Row> b = byId(NoiseInjection.injectWithReport(table(5000, 4, false), s, 100000).table());
    assertEquals(a.size(), b.size());
    for (long id : a.keySet()) {
      assertEquals(a.get(id).toString(), b.get(id).toString(), "row " + id);
    }
    assertEquals(1000 + 1725, a.size());
    long trusted = 0;
    long labeled = 0;
    long wrong = 0;
    for (Row r : a.values()) {
      if (r.getString(3).equals("train")) {
        trusted += r.getBoolean(5) ? 1 : 0;
        labeled += !r.getBoolean(5) && !r.isNullAt(2) ? 1 : 0;
        wrong += !r.isNullAt(2) && r.getInt(2) != r.getInt(4) ? 1 : 0;
      }
    }
    assertEquals(25, trusted);
    assertEquals(170, labeled, "round(0.1 * (1725 - 25))");
    assertEquals(51, wrong, "round(0.3 * 170)");
    assertEquals(51, one.report().stats().flipped());
    Map<Long, Row> otherSeed = byId(NoiseInjection.injectWithReport(table(5000, 4, false),
        s.with(Map.of("relabel.seed", "5")), 8).table());
    assertNotEquals(new java.util.TreeSet<>(a.keySet()), new java.util.TreeSet<>(otherSeed.keySet()),
        "another seed keeps other rows");
  }

  @Test
  void theReportJsonHasTheLongTailAndTheLabeledRows() {
    String json = NoiseInjection.injectWithReport(table(5000, 2, false), settings("relabel.noise.rate", "0.5",
        "relabel.noise.longTailRatio", "10", "relabel.noise.labeledShare", "0.2"), 16).report().json();
    assertTrue(json.contains("\"rowsPerClassKept\" : {\n      \"0\" : 800,\n      \"1\" : 450,"), json);
    assertTrue(json.contains("\"labeledRows\" : 345,"), json);
    assertTrue(json.contains("\"rowsWritten\" : 2725"), json);
    assertTrue(json.contains("\"labeledRealErrorRate\" : 0.5014492753623189,"), json);
  }

  // ---- refusals, exact messages

  private static String refusal(Dataset<Row> in, String... kv) {
    Exception e = assertThrows(RuntimeException.class, () -> NoiseInjection.inject(in, settings(kv)));
    assertTrue(e instanceof RelabelException || e instanceof IllegalArgumentException, e.toString());
    return e.getMessage();
  }

  @Test
  void refusesATableThatAlreadyHasTrueLabels() {
    assertEquals("input already has a column 'label_true' (relabel.input.trueLabelCol); inject-noise needs a table"
        + " without true labels or trusted marks (was noise injected already?)",
        refusal(table(20, 1, false).withColumn("label_true", org.apache.spark.sql.functions.col("label"))));
  }

  @Test
  void refusesATableThatAlreadyHasTrustedMarks() {
    assertEquals("input already has a column 'Trusted' (relabel.input.trustedCol); inject-noise needs a table"
        + " without true labels or trusted marks (was noise injected already?)",
        refusal(table(20, 1, false).withColumn("Trusted", org.apache.spark.sql.functions.lit(false))));
  }

  @Test
  void refusesAMissingLabelColumn() {
    assertEquals("input has no column 'y' (relabel.input.labelCol); its columns: id, features, label, split",
        refusal(table(20, 1, false), "relabel.input.labelCol", "y"));
  }

  @Test
  void refusesATrustedSizeLargerThanTheEligibleRows() {
    assertEquals("relabel.noise.trustedSize is 17, but split 'train' has only 16 labeled rows",
        refusal(table(20, 1, false), "relabel.noise.trustedSize", "17"));
  }

  @Test
  void refusesAPairMapWithAnUnknownClass() {
    assertEquals("relabel.noise.pairs names class '7', which is not a label in column 'label' (classes: 0, 1, 2, 3,"
        + " 4)", refusal(table(20, 1, false), "relabel.noise.type", "pair", "relabel.noise.pairs", "0:7"));
  }

  @Test
  void refusesARateOutsideZeroToOne() {
    assertEquals("invalid value for relabel.noise.rate: '1.5'; accepted: a number in [0.0, 1.0]",
        refusal(table(20, 1, false), "relabel.noise.rate", "1.5"));
  }

  @Test
  void refusesDuplicateIds() {
    Dataset<Row> in = table(20, 1, false);
    assertEquals("column 'id' (relabel.input.idCol) has the value 13 in 2 rows; row ids must be unique",
        refusal(in.union(in.where("id = 13"))));
  }

  @Test
  void refusesNullIds() {
    StructType schema = new StructType().add("id", DataTypes.LongType).add("label", DataTypes.IntegerType);
    Dataset<Row> in = spark.createDataFrame(List.of(RowFactory.create(1L, 0), RowFactory.create(null, 1),
        RowFactory.create(null, 0)), schema);
    assertEquals("column 'id' (relabel.input.idCol) is null in 2 rows; every row needs a unique id", refusal(in));
  }

  @Test
  void refusesANoisySplitThatIsNotThere() {
    assertEquals("relabel.noise.split is 'training', but column 'split' has no such rows (values: test, train)",
        refusal(table(20, 1, false), "relabel.noise.split", "training"));
  }

  @Test
  void refusesNoiseOnTheHeldOutSplit() {
    assertEquals("relabel.noise.split and relabel.input.holdoutSplit are both 'test'; noise must not touch the"
        + " held-out rows", refusal(table(20, 1, false), "relabel.noise.split", "test"));
  }

  @Test
  void refusesFractionalLabels() {
    DataType d = DataTypes.DoubleType;
    Dataset<Row> in = table(20, 1, false).withColumn("label",
        org.apache.spark.sql.functions.col("label").cast(d));
    assertEquals("column 'label' has type double; labels must be integers or strings", refusal(in));
  }

  @Test
  void refusesATrustedSizeLargerThanTheRowsTheLongTailKeeps() {
    // 16 training rows (3, 3, 3, 3 and 4 per class): the long tail keeps 3, 3, 2, 1 and 1
    assertEquals("relabel.noise.trustedSize is 11, but split 'train' has only 10 labeled rows after the long-tail"
        + " subsample (relabel.noise.longTailRatio 4.0)", refusal(table(20, 1, false), "relabel.noise.trustedSize",
        "11", "relabel.noise.longTailRatio", "4"));
  }

  @Test
  void refusesALabeledShareOutsideZeroToOne() {
    assertEquals("invalid value for relabel.noise.labeledShare: '-0.1'; accepted: a number in [0.0, 1.0]",
        refusal(table(20, 1, false), "relabel.noise.labeledShare", "-0.1"));
  }

  @Test
  void refusesALongTailRatioBelowOne() {
    assertEquals("invalid value for relabel.noise.longTailRatio: '0.5'; accepted: a number in [1.0, 1000000.0]",
        refusal(table(20, 1, false), "relabel.noise.longTailRatio", "0.5"));
  }

  @Test
  void refusesALabelOutsideTheDeclaredClasses() {
    long k = 0;
    while (labelOf(k) != 4) {
      k++;
    }
    long id = 10 * k + 3;
    assertEquals("column 'label' has the value 4 at id " + id + ", which is not in relabel.input.classes (0,1,2,3)",
        refusal(table(20, 1, false).where("id = " + id + " or label != 4"), "relabel.input.classes", "0,1,2,3"));
  }
}
