package io.relabel.spark.cl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.core.cl.ConfidentLearning;
import io.relabel.core.cl.InMemoryScoredRows;
import io.relabel.spark.SparkTestSession;
import io.relabel.spark.cl.ConfidentLearningStage.Columns;
import io.relabel.spark.cl.ConfidentLearningStage.Result;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Confident learning on Spark tables: the core's hand-worked example, and a seeded table against a brute force. */
@Tag("spark")
class ConfidentLearningStageTest {

  private static final Columns COLS = new Columns("id", "probs", "label", "eligible");

  private static SparkSession spark;

  @BeforeAll
  static void session() {
    spark = SparkTestSession.get();
  }

  /** One input row: id, probabilities (or null), label (or null), eligible mark (or null). */
  private record In(Object id, float[] p, Integer label, Boolean eligible) {
    boolean takesPart() {
      return Boolean.TRUE.equals(eligible) && p != null && label != null;
    }
  }

  private static Dataset<Row> table(List<In> rows, boolean stringIds, int partitions) {
    StructType schema = new StructType()
        .add("id", stringIds ? DataTypes.StringType : DataTypes.LongType, false)
        .add("probs", DataTypes.createArrayType(DataTypes.FloatType, false), true)
        .add("label", DataTypes.IntegerType, true)
        .add("eligible", DataTypes.BooleanType, true)
        .add("payload", DataTypes.StringType, false);
    List<Row> data = new ArrayList<>();
    for (In r : rows) {
      data.add(RowFactory.create(r.id(), r.p(), r.label(), r.eligible(), "x" + r.id()));
    }
    Dataset<Row> t = spark.createDataFrame(data, schema);
    return (partitions == 1 ? t.coalesce(1) : t.repartition(partitions)).cache();
  }

  /**
   * The hand-worked example of {@code ConfidentLearningTest} (model-core), "id label 32*p0 32*p1 32*p2" per row: see
   * there for the arithmetic. Flagged: 4 (class 1), 5 (class 2), 10 (0), 13 (1), 14 (0), 15 (0).
   */
  private static final String EXAMPLE = "1 0 28 2 2, 2 0 24 4 4, 3 0 20 6 6, 4 0 4 26 2, 5 0 2 14 16, 6 0 6 17 9,"
      + " 7 1 2 28 2, 8 1 4 24 4, 9 1 12 10 10, 10 1 24 4 4,"
      + " 11 2 4 4 24, 12 2 8 8 16, 13 2 2 24 6, 14 2 16 0 16, 15 2 14 15 3";

  private static List<In> example() {
    List<In> rows = new ArrayList<>();
    for (String row : EXAMPLE.split(",")) {
      String[] f = row.trim().split(" ");
      float[] p = new float[3];
      for (int j = 0; j < 3; j++) {
        p[j] = Integer.parseInt(f[2 + j]) / 32f;
      }
      rows.add(new In("r" + f[0], p, Integer.parseInt(f[1]), true));
    }
    return rows;
  }

  private static Map<Object, Row> byId(Dataset<Row> t) {
    Map<Object, Row> m = new HashMap<>();
    for (Row r : t.collectAsList()) {
      m.put(r.get(r.fieldIndex("id")), r);
    }
    return m;
  }

  /** id to issue class of the flagged rows of an output table. */
  private static Map<Object, Integer> flagged(Dataset<Row> out) {
    Map<Object, Integer> m = new TreeMap<>();
    for (Row r : out.where(out.col(ConfidentLearningStage.ISSUE)).collectAsList()) {
      m.put(r.get(r.fieldIndex("id")), r.getInt(r.fieldIndex(ConfidentLearningStage.CLASS)));
    }
    return m;
  }

  @Test
  void handWorkedExampleGivesTheCoresJointAndFlags() {
    List<In> rows = example();
    // rows that take no part, with values that would change every count if they did
    rows.add(new In("r16", new float[] {0, 1, 0}, 0, false));
    rows.add(new In("r17", new float[] {0, 0, 1}, 0, null));
    rows.add(new In("r18", new float[] {0, 1, 0}, null, true));
    rows.add(new In("r19", null, 1, true));
    Dataset<Row> in = table(rows, true, 3);
    Result r = ConfidentLearningStage.apply(in, COLS, 3, 1);

    InMemoryScoredRows core = new InMemoryScoredRows(1);
    for (In row : example()) {
      core.add(row.id(), row.p(), row.label());
    }
    ConfidentLearning.Outcome o = ConfidentLearning.run(core, 3, 4096);
    assertArrayEquals(o.thresholds(), r.thresholds());
    assertArrayEquals(new long[][] {{3, 2, 1}, {1, 2, 0}, {2, 1, 2}}, r.confidentJoint());
    assertArrayEquals(o.joint(), r.joint());
    assertArrayEquals(o.noiseMatrix(), r.noiseMatrix());
    assertArrayEquals(new long[][] {{0, 2, 1}, {1, 0, 0}, {2, 1, 0}}, r.pruneCounts());
    assertEquals(15, r.rows());
    assertEquals(6, r.issues());
    assertEquals(Map.of("r4", 1, "r5", 2, "r10", 0, "r13", 1, "r14", 0, "r15", 0), flagged(r.table()));

    Map<Object, Row> out = byId(r.table());
    assertEquals(19, out.size());
    assertEquals(Arrays.asList("id", "probs", "label", "eligible", "payload", "cl_issue", "cl_quality",
        "_rl_cl_class"), Arrays.asList(r.table().columns()));
    Row kept = out.get("r1");
    assertEquals(false, kept.get(5));
    assertEquals(28 / 32.0, kept.getDouble(6));
    assertNull(kept.get(7));
    Row issue = out.get("r15");
    assertEquals(true, issue.get(5));
    assertEquals(3 / 32.0, issue.getDouble(6));
    assertEquals(0, issue.getInt(7));
    for (String id : List.of("r16", "r17", "r18", "r19")) {
      Row none = out.get(id);
      assertNull(none.get(5), id);
      assertNull(none.get(6), id);
      assertNull(none.get(7), id);
      assertEquals("x" + id, none.getString(4));
    }

    Map<String, Object> m = r.metrics();
    assertEquals(List.of("cl.rows", "cl.issues", "cl.estimatedNoiseRate", "cl.thresholds", "cl.confidentJoint",
        "cl.noiseMatrix"), new ArrayList<>(m.keySet()));
    assertEquals(15L, m.get("cl.rows"));
    assertEquals(6L, m.get("cl.issues"));
    assertEquals(22.0 / 45, (Double) m.get("cl.estimatedNoiseRate"), 1e-15);
    assertEquals(List.of(14 / 32.0, 16.5 / 32, 13 / 32.0), m.get("cl.thresholds"));
    assertEquals(List.of(List.of(3L, 2L, 1L), List.of(1L, 2L, 0L), List.of(2L, 1L, 2L)), m.get("cl.confidentJoint"));
    @SuppressWarnings("unchecked")
    List<List<Double>> noise = (List<List<Double>>) m.get("cl.noiseMatrix");
    assertEquals(6 / 19.0, noise.get(2).get(0), 1e-15); // p(given 2 | true 0)
    in.unpersist();
  }

  /**
   * A seeded table of 3000 rows and 5 classes: true class, a given label that is wrong for about a quarter of the
   * rows, probabilities from noisy logits quantised to 64ths (so margins tie often), and about a tenth of the rows
   * taking no part (not eligible, eligible null, label null or probabilities null).
   */
  private static List<In> synthetic(int n, int k, long seed) {
    Random rnd = new Random(seed);
    List<In> rows = new ArrayList<>();
    for (int r = 0; r < n; r++) {
      int truth = rnd.nextInt(k);
      int given = rnd.nextDouble() < 0.25 ? (truth + 1 + rnd.nextInt(k - 1)) % k : truth;
      double[] logit = new double[k];
      double z = 0;
      for (int j = 0; j < k; j++) {
        logit[j] = Math.exp(rnd.nextGaussian() * 1.2 + (j == truth ? 1.8 : 0));
        z += logit[j];
      }
      float[] p = new float[k];
      for (int j = 0; j < k; j++) {
        p[j] = Math.round(logit[j] / z * 64) / 64f;
      }
      int part = rnd.nextInt(40);
      rows.add(new In((long) r * 13 + 5, part == 0 ? null : p, part == 1 ? null : given,
          part == 2 ? null : part == 3 || part == 4 ? Boolean.FALSE : Boolean.TRUE));
    }
    return rows;
  }

  /** An exact fraction, for the brute force's calibration. */
  private record Frac(BigInteger num, BigInteger den) {
    static Frac of(long num, long den) {
      return new Frac(BigInteger.valueOf(num), BigInteger.valueOf(den));
    }

    Frac plus(Frac o) {
      return new Frac(num.multiply(o.den).add(o.num.multiply(den)), den.multiply(o.den));
    }

    Frac times(Frac o) {
      return new Frac(num.multiply(o.num), den.multiply(o.den));
    }

    Frac over(Frac o) {
      return new Frac(num.multiply(o.den), den.multiply(o.num));
    }

    long roundHalfUp() {
      BigDecimal v = new BigDecimal(num).divide(new BigDecimal(den), 0, java.math.RoundingMode.HALF_UP);
      return v.longValueExact();
    }
  }

  /** Confident learning written out plainly over a list: the flagged rows, id to issue class. */
  private static Map<Object, Integer> bruteForce(List<In> all, int k) {
    List<In> rows = all.stream().filter(In::takesPart).toList();
    long[] n = new long[k];
    BigDecimal[] sums = new BigDecimal[k];
    Arrays.fill(sums, BigDecimal.ZERO);
    for (In r : rows) {
      n[r.label()]++;
      sums[r.label()] = sums[r.label()].add(new BigDecimal(r.p()[r.label()]));
    }
    double[] t = new double[k];
    for (int j = 0; j < k; j++) {
      t[j] = sums[j].doubleValue() / n[j];
    }
    long[][] c = new long[k][k];
    for (In r : rows) {
      int best = -1;
      for (int j = 0; j < k; j++) {
        if (r.p()[j] >= t[j] && (best < 0 || r.p()[j] > r.p()[best])) {
          best = j;
        }
      }
      if (best >= 0) {
        c[r.label()][best]++;
      }
    }
    Frac[][] cal = new Frac[k][k];
    Frac total = Frac.of(0, 1);
    for (int i = 0; i < k; i++) {
      long rowSum = Arrays.stream(c[i]).sum();
      for (int j = 0; j < k; j++) {
        cal[i][j] = rowSum == 0 ? Frac.of(0, 1) : Frac.of(c[i][j], rowSum).times(Frac.of(n[i], 1));
        total = total.plus(cal[i][j]);
      }
    }
    Map<Object, Integer> issue = new TreeMap<>();
    Map<Object, Float> issueMargin = new HashMap<>();
    for (int i = 0; i < k; i++) {
      long[] prune = new long[k];
      for (int j = 0; j < k; j++) {
        prune[j] = i == j ? 0 : cal[i][j].over(total).times(Frac.of(rows.size(), 1)).roundHalfUp();
      }
      while (Arrays.stream(prune).sum() > Math.max(n[i] - 1, 0)) {
        int big = 0;
        for (int j = 1; j < k; j++) {
          big = prune[j] > prune[big] ? j : big;
        }
        prune[big]--;
      }
      for (int j = 0; j < k; j++) {
        int gi = i;
        int gj = j;
        List<In> labeled = new ArrayList<>(rows.stream().filter(r -> r.label() == gi).toList());
        labeled.sort((a, b) -> {
          int byKey = Long.compareUnsigned(
              ConfidentLearning.selectionKey(a.p()[gj] - a.p()[gi], a.id()),
              ConfidentLearning.selectionKey(b.p()[gj] - b.p()[gi], b.id()));
          return byKey != 0 ? byKey : Long.compare((Long) a.id(), (Long) b.id());
        });
        for (In r : labeled.subList(0, (int) prune[j])) {
          float m = r.p()[j] - r.p()[i];
          Float before = issueMargin.get(r.id());
          if (before == null || m > before) {
            issue.put(r.id(), j);
            issueMargin.put(r.id(), m);
          }
        }
      }
    }
    return issue;
  }

  @Test
  void seededTableEqualsBruteForceOnOneAndFourPartitions() {
    int k = 5;
    List<In> rows = synthetic(3000, k, 42);
    Map<Object, Integer> expected = bruteForce(rows, k);
    assertTrue(expected.size() > 100, "flagged " + expected.size());
    long eligible = rows.stream().filter(In::takesPart).count();
    for (int partitions : new int[] {1, 4}) {
      Dataset<Row> in = table(rows, false, partitions);
      Result r = ConfidentLearningStage.apply(in, COLS, k, partitions == 1 ? 4096 : 16);
      assertEquals(expected, flagged(r.table()), partitions + " partitions");
      assertEquals(expected.size(), r.issues());
      assertEquals(eligible, r.rows());
      Map<Object, Row> out = byId(r.table());
      for (In row : rows) {
        Row o = out.get(row.id());
        if (row.takesPart()) {
          assertEquals((double) row.p()[row.label()], o.getDouble(6));
          assertEquals(expected.containsKey(row.id()), o.getBoolean(5));
        } else {
          assertNull(o.get(5));
          assertNull(o.get(6));
          assertNull(o.get(7));
        }
      }
      in.unpersist();
    }
  }

  @Test
  void badInputIsRefused() {
    List<In> rows = new ArrayList<>(example());
    rows.add(new In("bad", new float[] {0.5f, 0.5f, 0}, 3, true));
    Dataset<Row> in = table(rows, true, 2);
    Exception e = assertThrows(Exception.class, () -> ConfidentLearningStage.apply(in, COLS, 3));
    Throwable root = e;
    while (root.getCause() != null) {
      root = root.getCause();
    }
    assertEquals("row bad: label 3 is not a class index in [0, 3)", root.getMessage());
    IllegalArgumentException missing = assertThrows(IllegalArgumentException.class,
        () -> ConfidentLearningStage.apply(in, new Columns("id", "p", "label", "eligible"), 3));
    assertEquals("the table has no probabilities column 'p'; its columns: id, probs, label, eligible, payload",
        missing.getMessage());
    IllegalArgumentException type = assertThrows(IllegalArgumentException.class,
        () -> ConfidentLearningStage.apply(in, new Columns("id", "payload", "label", "eligible"), 3));
    assertEquals("column 'payload' has type string; predicted probabilities must be array<float>",
        type.getMessage());
    Dataset<Row> again = in.withColumn(ConfidentLearningStage.ISSUE, in.col("eligible"));
    IllegalArgumentException exists = assertThrows(IllegalArgumentException.class,
        () -> ConfidentLearningStage.apply(again, COLS, 3));
    assertEquals("the table already has a column 'cl_issue'; confident learning writes it", exists.getMessage());
    in.unpersist();
  }
}
