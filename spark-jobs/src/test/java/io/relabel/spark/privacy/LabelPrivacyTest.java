package io.relabel.spark.privacy;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.core.model.MlpSpec;
import io.relabel.core.privacy.PrivacySpec;
import io.relabel.core.privacy.PrivacySpec.Mechanism;
import io.relabel.core.privacy.RandomizedResponse;
import io.relabel.spark.SparkTestSession;
import io.relabel.spark.io.InputValidationException;
import io.relabel.spark.train.MlpTrainer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.IntFunction;
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

/**
 * Label privacy on seeded tables: RR's kept share against e^eps / (e^eps + C - 1), reproducible in any layout;
 * lp-2st's stage 2 keeps more true labels than stage 1; rr-prior refuses bad priors with exact messages and keeps
 * more labels than RR with a good prior.
 */
@Tag("spark")
class LabelPrivacyTest {

  static final int CLASSES = 5;
  static final int DIM = 8;
  static final long SEED = 2024;
  static final LabelPrivacy.Columns COLS = new LabelPrivacy.Columns("id", "x", "y", "elig", "prior_p");

  static SparkSession spark;

  @BeforeAll
  static void session() {
    spark = SparkTestSession.get();
  }

  /**
   * n rows of Gaussian blobs, label = true class i % C (column truth keeps it); every 10th row is not eligible; the
   * prior column is what {@code prior} says for row i (null allowed).
   */
  static Dataset<Row> table(int n, int partitions, DataType priorType, IntFunction<Object[]> prior) {
    Random r = new Random(7);
    double[][] centres = new double[CLASSES][DIM];
    for (double[] c : centres) {
      for (int j = 0; j < DIM; j++) {
        c[j] = 3 * r.nextGaussian();
      }
    }
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int y = i % CLASSES;
      Float[] x = new Float[DIM];
      for (int j = 0; j < DIM; j++) {
        x[j] = (float) (centres[y][j] + r.nextGaussian());
      }
      rows.add(RowFactory.create((long) i, x, y, i % 10 != 0, prior.apply(i), y));
    }
    StructType schema = new StructType().add("id", DataTypes.LongType, false)
        .add("x", DataTypes.createArrayType(DataTypes.FloatType), false).add("y", DataTypes.IntegerType, true)
        .add("elig", DataTypes.BooleanType, false).add("prior_p", DataTypes.createArrayType(priorType), true)
        .add("truth", DataTypes.IntegerType, false);
    return spark.createDataFrame(rows, schema).repartition(partitions, col("id")).sortWithinPartitions("id");
  }

  static Dataset<Row> plain(int n, int partitions) {
    return table(n, partitions, DataTypes.DoubleType, i -> null);
  }

  static PrivacySpec spec(Mechanism m, double eps) {
    return new PrivacySpec(m, eps, 0.5, m == Mechanism.RR_PRIOR ? "prior_p" : null);
  }

  static MlpTrainer trainer() {
    return new MlpTrainer(new MlpSpec(32, 1, 10, 32, 0.01, 1e-4), 2, 5);
  }

  static LabelPrivacy.Result run(Dataset<Row> t, PrivacySpec spec) {
    return LabelPrivacy.apply(t, COLS, CLASSES, DIM, spec, trainer(), SEED);
  }

  /** (id, label, stage) of every row, by id. */
  static List<Row> labels(LabelPrivacy.Result r) {
    return r.table().select("id", "y", LabelPrivacy.STAGE).orderBy("id").collectAsList();
  }

  static double share(Map<String, Object> metrics, String key) {
    return ((Number) metrics.get(key)).doubleValue();
  }

  @Test
  void rrKeepsTheExpectedShareInAnyLayoutAndLeavesOtherRowsAlone() {
    int n = 20_000;
    double eps = 1.0;
    LabelPrivacy.Result a = run(plain(n, 2), spec(Mechanism.RR, eps));
    LabelPrivacy.Result again = run(plain(n, 2), spec(Mechanism.RR, eps));
    LabelPrivacy.Result three = run(plain(n, 3), spec(Mechanism.RR, eps));
    LabelPrivacy.Result one = run(plain(n, 1), spec(Mechanism.RR, eps));
    List<Row> out = labels(a);
    assertEquals(out, labels(again), "same seed and input: same labels");
    assertEquals(labels(one), labels(three), "1 and 3 partitions: same labels");
    assertEquals(out, labels(one));

    long eligible = n - n / 10;
    long kept = 0;
    for (Row row : out) {
      long id = row.getLong(0);
      int truth = (int) (id % CLASSES);
      if (id % 10 == 0) {
        assertEquals(truth, row.getInt(1), "ineligible row " + id + " keeps its label");
        assertTrue(row.isNullAt(2), "ineligible row " + id + " has no stage");
      } else {
        assertEquals(1, row.getInt(2));
        kept += row.getInt(1) == truth ? 1 : 0;
      }
    }
    double p = RandomizedResponse.keepProbability(eps, CLASSES); // e / (e + 4) = 0.4046
    double se = Math.sqrt(p * (1 - p) / eligible);
    double keptShare = (double) kept / eligible;
    assertTrue(Math.abs(keptShare - p) < 4 * se, "kept " + keptShare + ", expected " + p + " +- " + 4 * se);
    assertEquals(keptShare, share(a.metrics(), "eval.privacy.keptShare"), 1e-12);
    assertEquals(eligible, a.metrics().get("privacy.rows"));
    assertEquals(eligible, a.metrics().get("privacy.stage1Rows"));
    assertEquals(0L, a.metrics().get("privacy.stage2Rows"));
    assertEquals("rr", a.metrics().get("privacy.mechanism"));
    assertEquals(eps, a.metrics().get("privacy.epsilon"));
    // the same rows and columns, plus the stage column
    List<String> columns = new ArrayList<>(List.of(plain(10, 1).columns()));
    columns.add(LabelPrivacy.STAGE);
    assertEquals(columns, List.of(a.table().columns()));
    assertEquals(n, a.table().count());
    for (LabelPrivacy.Result r : List.of(a, again, three, one)) {
      r.release();
    }
  }

  @Test
  void lp2stStageTwoKeepsMoreTrueLabelsThanStageOne() {
    int n = 4_000;
    double eps = 1.0;
    LabelPrivacy.Result r = run(plain(n, 2), spec(Mechanism.LP_2ST, eps));
    Map<String, Object> m = r.metrics();
    long rows = (Long) m.get("privacy.rows");
    long stage1 = (Long) m.get("privacy.stage1Rows");
    long stage2 = (Long) m.get("privacy.stage2Rows");
    assertEquals(n - n / 10, rows);
    assertEquals(rows, stage1 + stage2);
    double se = Math.sqrt(0.25 / rows);
    assertTrue(Math.abs((double) stage1 / rows - 0.5) < 4 * se, "stage-1 share " + (double) stage1 / rows);

    // kept true labels per stage, recounted from the table (labels given = true labels here)
    long[] kept = new long[3];
    long[] size = new long[3];
    for (Row row : r.table().select("y", "truth", LabelPrivacy.STAGE).collectAsList()) {
      if (!row.isNullAt(2)) {
        size[row.getInt(2)]++;
        kept[row.getInt(2)] += row.getInt(0) == row.getInt(1) ? 1 : 0;
      }
    }
    assertEquals(stage1, size[1]);
    assertEquals(stage2, size[2]);
    double keep1 = (double) kept[1] / size[1];
    double keep2 = (double) kept[2] / size[2];
    assertEquals(keep1, share(m, "eval.privacy.stage1KeptShare"), 1e-12);
    assertEquals(keep2, share(m, "eval.privacy.stage2KeptShare"), 1e-12);
    double p = RandomizedResponse.keepProbability(eps, CLASSES);
    assertTrue(Math.abs(keep1 - p) < 4 * Math.sqrt(p * (1 - p) / size[1]), "stage 1 is plain RR: " + keep1);
    assertTrue(keep2 > keep1 + 0.2, "stage 2 keeps " + keep2 + " of its true labels, stage 1 " + keep1);
    double meanK = share(m, "privacy.stage2MeanK");
    assertTrue(meanK >= 1 && meanK < CLASSES, "mean k* " + meanK);
    r.release();
  }

  /** Eligible rows get a prior with 0.6 on one class and 0.1 elsewhere: the true class, or for every 5th row not. */
  static Object[] goodPrior(int i) {
    int peak = i % 5 == 1 ? (i + 1) % CLASSES : i % CLASSES;
    Object[] p = new Object[CLASSES];
    for (int c = 0; c < CLASSES; c++) {
      p[c] = c == peak ? 0.6 : 0.1;
    }
    return i % 10 == 0 ? null : p; // ineligible rows need no prior
  }

  @Test
  void aGoodPriorKeepsMoreLabelsThanPlainRr() {
    int n = 5_000;
    LabelPrivacy.Result withPrior = run(table(n, 2, DataTypes.DoubleType, LabelPrivacyTest::goodPrior),
        spec(Mechanism.RR_PRIOR, 1.0));
    LabelPrivacy.Result rr = run(plain(n, 2), spec(Mechanism.RR, 1.0));
    // e^1 = 2.718, p = (0.6, 0.1, 0.1, 0.1, 0.1): f(1) = 0.6; f(2) = 0.731 * 0.7 = 0.512; f(5) = 0.405 -> k* = 1, so
    // a row keeps its label exactly when the prior peaks on it: of the eligible rows (i % 10 in 1..9) all but those
    // with i % 10 in {1, 6}, 7 in 9
    assertEquals(7.0 / 9, share(withPrior.metrics(), "eval.privacy.keptShare"), 1e-9);
    assertTrue(share(rr.metrics(), "eval.privacy.keptShare") < 0.45);
    for (Row row : withPrior.table().select("id", "y", "truth").collectAsList()) {
      int i = (int) row.getLong(0);
      int expected = i % 10 == 0 ? row.getInt(2) : (i % 5 == 1 ? (i + 1) % CLASSES : i % CLASSES);
      assertEquals(expected, row.getInt(1), "row " + i);
    }
    withPrior.release();
    rr.release();
  }

  /** Rows 17 and 40 get {@code prior}, the others a good one (as floats for a float column). */
  static String priorFailure(DataType type, IntFunction<Object[]> prior) {
    Dataset<Row> t = table(60, 2, type, i -> {
      if (i == 17 || i == 40) {
        return prior.apply(i);
      }
      Object[] p = goodPrior(i);
      for (int c = 0; p != null && type == DataTypes.FloatType && c < p.length; c++) {
        p[c] = ((Double) p[c]).floatValue();
      }
      return p;
    });
    return assertThrows(InputValidationException.class, () -> run(t, spec(Mechanism.RR_PRIOR, 1.0))).getMessage();
  }

  static final String RULE = "; a prior must hold 5 finite, non-negative class probabilities with a positive sum,"
      + " in class-index order";

  @Test
  void badPriorsStopTheStageWithExactMessages() {
    assertEquals("column 'prior_p', row id 17: prior [0.5, -0.1, 0.6, 0.0, 0.0] has a negative entry -0.1" + RULE,
        priorFailure(DataTypes.FloatType, i -> new Object[] {0.5f, -0.1f, 0.6f, 0f, 0f}));
    assertEquals("column 'prior_p', row id 17: prior [0.2, NaN, 0.2, 0.2, 0.2] has a non-finite entry NaN" + RULE,
        priorFailure(DataTypes.DoubleType, i -> new Object[] {0.2, Double.NaN, 0.2, 0.2, 0.2}));
    assertEquals("column 'prior_p', row id 17: prior [0.2, 0.2, Infinity, 0.2, 0.2] has a non-finite entry"
        + " Infinity" + RULE,
        priorFailure(DataTypes.DoubleType, i -> new Object[] {0.2, 0.2, Double.POSITIVE_INFINITY, 0.2, 0.2}));
    assertEquals("column 'prior_p', row id 17: prior [0.5, 0.5] has 2 entries, expected 5 (one per class)" + RULE,
        priorFailure(DataTypes.DoubleType, i -> new Object[] {0.5, 0.5}));
    assertEquals("column 'prior_p', row id 17: prior [0.0, 0.0, 0.0, 0.0, 0.0] has no positive entry" + RULE,
        priorFailure(DataTypes.DoubleType, i -> new Object[] {0.0, 0.0, 0.0, 0.0, 0.0}));
    assertEquals("column 'prior_p', row id 17: prior [0.2, null, 0.2, 0.2, 0.2] has a null entry" + RULE,
        priorFailure(DataTypes.DoubleType, i -> new Object[] {0.2, null, 0.2, 0.2, 0.2}));
    assertEquals("column 'prior_p', row id 17: the prior is null" + RULE,
        priorFailure(DataTypes.DoubleType, i -> null));
    // the smallest id is named, whichever row a partition meets first
    assertEquals("column 'prior_p', row id 17: prior [0.0, 0.0, 0.0, 0.0, 0.0] has no positive entry" + RULE,
        priorFailure(DataTypes.DoubleType, i -> i == 17 ? new Object[] {0.0, 0.0, 0.0, 0.0, 0.0}
            : new Object[] {-1.0, 0.0, 0.0, 0.0, 0.0}));
    Dataset<Row> noLabel = plain(40, 2).withColumn("y", when(col("id").equalTo(23), lit(null)).otherwise(col("y")));
    assertEquals("column 'y', row id 23: label null is not a class index in [0, 5), but the row is marked in column"
        + " 'elig' to privatise", assertThrows(InputValidationException.class,
            () -> run(noLabel, spec(Mechanism.RR, 1.0))).getMessage());
    assertEquals("column 'prior_p' (the prior) has type array<string>; expected an array of numbers, one per class",
        assertThrows(InputValidationException.class, () -> run(table(10, 1, DataTypes.StringType, i -> null),
            spec(Mechanism.RR_PRIOR, 1.0))).getMessage());
  }
}
