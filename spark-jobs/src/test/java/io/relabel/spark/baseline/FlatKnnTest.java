package io.relabel.spark.baseline;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.relabel.core.knn.BlockedKnn;
import io.relabel.spark.SparkTestSession;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** Flat kNN on a small seeded table of overlapping Gaussian classes, checked against a driver-side brute force. */
@Tag("spark")
class FlatKnnTest {

  static final int ROWS = 240;
  static final int CLASSES = 3;
  static final int DIM = 8;
  static final double LABELED_SHARE = 0.25;

  static Dataset<Row> table;
  /** key → (embedding, label or null), for the brute force. */
  static Map<Long, Object[]> rows;

  @BeforeAll
  static void makeTable() {
    Random r = new Random(57);
    double[][] centres = new double[CLASSES][DIM];
    for (double[] c : centres) {
      for (int j = 0; j < DIM; j++) {
        c[j] = r.nextGaussian();
      }
    }
    List<Row> list = new ArrayList<>();
    rows = new HashMap<>();
    for (int i = 0; i < ROWS; i++) {
      long key = 7L * i + 3;
      int y = r.nextInt(CLASSES);
      float[] x = new float[DIM];
      for (int j = 0; j < DIM; j++) {
        x[j] = (float) (centres[y][j] + r.nextGaussian());
      }
      Integer label = r.nextDouble() < LABELED_SHARE ? y : null;
      list.add(RowFactory.create(key, x, label, "row" + i));
      rows.put(key, new Object[] {x, label});
    }
    StructType schema = new StructType()
        .add("key", DataTypes.LongType, false)
        .add("x", DataTypes.createArrayType(DataTypes.FloatType))
        .add("label", DataTypes.IntegerType, true)
        .add("note", DataTypes.StringType);
    table = SparkTestSession.get().createDataFrame(list, schema).repartition(3);
  }

  /**
   * The expected outcome for one row: cosine similarity in double to every other labeled row, sorted by similarity
   * then key, the first k vote; the most votes win, ties go to the nearest of the tied classes.
   */
  static Object[] bruteForce(long key, int k) {
    float[] x = BlockedKnn.normalise(new float[][] {(float[]) rows.get(key)[0]})[0];
    Map<Long, Double> sim = new HashMap<>();
    for (Map.Entry<Long, Object[]> e : rows.entrySet()) {
      if (e.getValue()[1] == null || e.getKey() == key) {
        continue;
      }
      float[] y = BlockedKnn.normalise(new float[][] {(float[]) e.getValue()[0]})[0];
      double s = 0;
      for (int j = 0; j < DIM; j++) {
        s += (double) x[j] * y[j];
      }
      sim.put(e.getKey(), s);
    }
    if (sim.isEmpty()) {
      return new Object[] {null, null};
    }
    List<Long> order = new ArrayList<>(sim.keySet());
    order.sort(Comparator.comparingDouble((Long o) -> -sim.get(o)).thenComparingLong(o -> o));
    List<Long> voters = order.subList(0, Math.min(k, order.size()));
    int[] count = new int[CLASSES];
    for (long v : voters) {
      count[(Integer) rows.get(v)[1]]++;
    }
    int best = (Integer) rows.get(voters.get(0))[1];
    for (long v : voters) {
      int c = (Integer) rows.get(v)[1];
      if (count[c] > count[best]) {
        best = c;
      }
    }
    return new Object[] {best, (double) count[best] / voters.size()};
  }

  static void assertMatchesBruteForce(Dataset<Row> out, int k) {
    List<Row> result = out.select("key", "knn_label", "knn_agreement").collectAsList();
    assertEquals(ROWS, result.size());
    int predicted = 0;
    for (Row r : result) {
      long key = r.getLong(0);
      Object[] expected = bruteForce(key, k);
      assertEquals(expected[0], r.get(1), "label of key " + key);
      assertEquals(expected[1], r.get(2), "agreement of key " + key);
      predicted += expected[0] == null ? 0 : 1;
    }
    assertEquals(ROWS, predicted, "every row has labeled neighbours");
  }

  @Test
  void labelsEqualADriverSideBruteForce() {
    for (int k : new int[] {1, 4, 9}) {
      assertMatchesBruteForce(FlatKnn.apply(table, "key", "x", "label", k, "knn_label", "knn_agreement"), k);
    }
  }

  @Test
  void batchBoundariesChangeNothing() {
    assertMatchesBruteForce(FlatKnn.apply(table, "key", "x", "label", 5, "knn_label", "knn_agreement", 17), 5);
  }

  @Test
  void kBeyondTheLabeledRowsVotesWithAllOfThem() {
    long labeled = table.filter(col("label").isNotNull()).count();
    int k = (int) labeled + 5;
    assertMatchesBruteForce(FlatKnn.apply(table, "key", "x", "label", k, "knn_label", "knn_agreement"), k);
  }

  @Test
  void keepsTheColumnsAndAppendsTwo() {
    Dataset<Row> out = FlatKnn.apply(table, "key", "x", "label", 3, "knn_label", "knn_agreement");
    StructType expected = table.schema().add("knn_label", DataTypes.IntegerType, true)
        .add("knn_agreement", DataTypes.DoubleType, true);
    assertEquals(expected, out.schema());
    assertEquals(0, out.select("key", "x", "label", "note").except(table).count());
  }

  @Test
  void noLabeledRowsGiveNulls() {
    Dataset<Row> unlabeled = table.withColumn("label", lit(null).cast(DataTypes.IntegerType));
    List<Row> out = FlatKnn.apply(unlabeled, "key", "x", "label", 3, "knn_label", "knn_agreement")
        .select("knn_label", "knn_agreement").collectAsList();
    assertEquals(ROWS, out.size());
    for (Row r : out) {
      assertNull(r.get(0));
      assertNull(r.get(1));
    }
  }

  @Test
  void badArgumentsAreRejected() {
    assertEquals("k must be at least 1: 0", assertThrows(IllegalArgumentException.class,
        () -> FlatKnn.apply(table, "key", "x", "label", 0, "knn_label", "knn_agreement")).getMessage());
    assertEquals("output column 'note' already exists", assertThrows(IllegalArgumentException.class,
        () -> FlatKnn.apply(table, "key", "x", "label", 3, "knn_label", "note")).getMessage());
  }
}
