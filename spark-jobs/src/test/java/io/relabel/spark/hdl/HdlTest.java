package io.relabel.spark.hdl;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.core.hdl.HdlSpec;
import io.relabel.spark.SparkTestSession;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.spark.mllib.clustering.BisectingKMeans;
import org.apache.spark.mllib.clustering.BisectingKMeansModel;
import org.apache.spark.mllib.linalg.Vector;
import org.apache.spark.mllib.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** HDL on a seeded table of separated classes: hierarchy, labels, noise correction and determinism. */
@Tag("spark")
class HdlTest {

  static final int CLASSES = 4;
  static final int PER_CLASS = 300;
  static final int DIM = 16;

  static SparkSession spark;
  static Dataset<Row> table;
  static Map<Long, Integer> truth = new HashMap<>();

  @BeforeAll
  static void makeTable() {
    spark = SparkTestSession.get();
    Random r = new Random(21);
    double[][] centres = new double[CLASSES][DIM];
    for (double[] c : centres) {
      for (int j = 0; j < DIM; j++) {
        c[j] = r.nextGaussian();
      }
    }
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < CLASSES * PER_CLASS; i++) {
      int y = i % CLASSES;
      float[] x = new float[DIM];
      for (int j = 0; j < DIM; j++) {
        x[j] = (float) (centres[y][j] + 0.35 * r.nextGaussian());
      }
      long key = 1000L + 13L * i;
      truth.put(key, y);
      // 5% labeled; in noise mode every row is labeled and every 10th labeled row is flipped
      Integer fill = (i / CLASSES) % 20 == 0 ? y : null;
      int noisy = (i / CLASSES) % 10 == 3 ? (y + 1) % CLASSES : y;
      rows.add(RowFactory.create(key, x, fill, noisy));
    }
    StructType schema = new StructType().add("key", DataTypes.LongType, false)
        .add("x", DataTypes.createArrayType(DataTypes.FloatType), false)
        .add("fill", DataTypes.IntegerType, true).add("noisy", DataTypes.IntegerType, false);
    table = spark.createDataFrame(rows, schema).repartition(2).cache();
  }

  static HdlSpec spec(String mode, int leafSize, int k) {
    return new HdlSpec(mode, leafSize, 1, 0, 50000, 100000, 20, 0.95, 10, 0.8, 0.5, 0.1, 10, k, 30, 0.1, true, true,
        10);
  }

  static Map<Long, Row> byKey(Dataset<Row> t) {
    Map<Long, Row> out = new HashMap<>();
    for (Row r : t.select("key", Hdl.LABEL, Hdl.CONFIDENCE, Hdl.LEVEL, Hdl.PATH).collectAsList()) {
      out.put(r.getLong(0), r);
    }
    return out;
  }

  @Test
  void fillModeLabelsEveryRowFromFivePercentLabels() {
    Hdl.Result res = Hdl.apply(table, "key", "x", "fill", CLASSES, spec("fill", 100, 0), 42, 2);
    Map<Long, Row> out = byKey(res.table());
    res.release();
    assertEquals(truth.size(), out.size());
    int right = 0;
    Map<String, Integer> leafSizes = new HashMap<>();
    for (Map.Entry<Long, Row> e : out.entrySet()) {
      Row r = e.getValue();
      assertTrue(!r.isNullAt(1), "row " + e.getKey() + " undecided");
      right += r.getInt(1) == truth.get(e.getKey()) ? 1 : 0;
      List<Object> path = r.getList(4);
      StringBuilder b = new StringBuilder();
      path.forEach(b::append);
      leafSizes.merge(b.toString(), 1, Integer::sum);
    }
    assertTrue(right >= 0.98 * truth.size(), right + " of " + truth.size() + " right");
    // no leaf above leafSize unless its labeled members agree; with 5% labels, pure leaves stop early
    assertTrue(leafSizes.size() >= 4, "leaves: " + leafSizes);
    assertNotNull(res.metrics().get("hdl.k"));
    assertEquals(CLASSES * PER_CLASS, ((Number) res.metrics().get("hdl.rows")).intValue());
  }

  @Test
  void noiseModeCorrectsFlippedLabels() {
    Hdl.Result res = Hdl.apply(table, "key", "x", "noisy", CLASSES, spec("noise", 100, 7), 42, 2);
    Map<Long, Row> out = byKey(res.table());
    res.release();
    int right = 0;
    for (Map.Entry<Long, Row> e : out.entrySet()) {
      right += e.getValue().getInt(1) == truth.get(e.getKey()) ? 1 : 0;
    }
    // 10% of the given labels are wrong; HDL must fix nearly all of them
    assertTrue(right >= 0.99 * truth.size(), right + " of " + truth.size() + " right");
  }

  @Test
  void theSameSeedGivesTheSameLabelsWhateverThePartitioning() {
    // noise mode on 10% flipped labels: most clusters are not pure enough, so rows go through the leaf kNN
    Hdl.Result a = Hdl.apply(table, "key", "x", "noisy", CLASSES, spec("noise", 80, 0), 7, 2);
    Hdl.Result b = Hdl.apply(table.repartition(5, col("x")), "key", "x", "noisy", CLASSES, spec("noise", 80, 0), 7,
        2);
    Map<Long, Row> ra = byKey(a.table());
    Map<Long, Row> rb = byKey(b.table());
    a.release();
    b.release();
    assertEquals(ra.size(), rb.size());
    for (Long k : ra.keySet()) {
      assertEquals(ra.get(k), rb.get(k), "row " + k);
    }
    assertEquals(withoutTimes(a.metrics()), withoutTimes(b.metrics()));
    assertTrue(((Number) a.metrics().get("hdl.clusterDecidedLeaves")).intValue()
        < ((Number) a.metrics().get("hdl.leaves")).intValue(), "some leaves must reach the leaf kNN");
  }

  static Map<String, Object> withoutTimes(Map<String, Object> m) {
    Map<String, Object> out = new java.util.TreeMap<>(m);
    out.keySet().removeIf(k -> k.contains(".seconds."));
    return out;
  }

  @Test
  void leafPathsFollowTheBisectingTree() {
    Random r = new Random(3);
    List<Vector> v = new ArrayList<>();
    for (int i = 0; i < 400; i++) {
      v.add(Vectors.dense(r.nextGaussian(), r.nextGaussian(), r.nextGaussian()));
    }
    BisectingKMeansModel m = new BisectingKMeans().setK(6).setSeed(1).setDistanceMeasure("cosine")
        .run(spark.createDataset(v, org.apache.spark.sql.Encoders.kryo(Vector.class)).rdd());
    String[] paths = Hdl.leafPaths(m);
    assertEquals(m.k(), paths.length);
    Set<String> seen = new HashSet<>();
    for (String p : paths) {
      assertTrue(seen.add(p), "duplicate path " + p);
      for (String q : paths) {
        assertTrue(p.equals(q) || !q.startsWith(p), p + " is a prefix of " + q);
      }
    }
  }
}
