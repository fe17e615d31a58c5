package io.relabel.spark.embed;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.core.config.Settings;
import io.relabel.spark.SparkTestSession;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("spark")
class CnnImageEncoderTest {

  private static final int N = 480;
  private static Dataset<Row> table;
  private static CnnImageEncoder fitted;

  /** Settings for 8x8 grey images and a network small enough to train in a few seconds. */
  static Settings tiny(Map<String, String> more) {
    Map<String, String> m = new HashMap<>(Map.of(
        "relabel.embed.cnn.imageShape", "8x8x1",
        "relabel.embed.cnn.channels", "4,8",
        "relabel.embed.cnn.embeddingDim", "16",
        "relabel.embed.cnn.maxEpochs", "8",
        "relabel.embed.cnn.patience", "2",
        "relabel.embed.cnn.batchSize", "16",
        "relabel.embed.cnn.learningRate", "0.01",
        "relabel.embed.cnn.minHoldout", "40",
        "relabel.train.workers", "2",
        "relabel.train.averagingFrequency", "4"));
    m.putAll(more);
    return Settings.defaults().with(m);
  }

  /**
   * 8x8 images (0..255) of a bright horizontal (class 0) or vertical (class 1) bar at a random row or column, plus
   * noise. The class mean images are both flat, so the classes are not linearly separable in pixel space: an
   * embedding that separates them has learned something. Every 8th row is trusted (right label); a fifth of the
   * others have the wrong label; rows 0-9 are unlabeled and rows 10-19 may not be trained on.
   */
  static Dataset<Row> bars(SparkSession spark, int n, long seed) {
    Random r = new Random(seed);
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int c = r.nextInt(2);
      int at = r.nextInt(8);
      Float[] x = new Float[64];
      for (int j = 0; j < 64; j++) {
        boolean on = c == 0 ? j / 8 == at : j % 8 == at;
        x[j] = (float) Math.min(255, (on ? 200 : 0) + r.nextInt(56));
      }
      boolean trusted = i % 8 == 0;
      Integer label = i < 10 ? null : (!trusted && r.nextDouble() < 0.2 ? 1 - c : c);
      rows.add(RowFactory.create((long) i, x, label, i < 10 || i >= 20, trusted, r.nextDouble(), c));
    }
    StructType schema = new StructType()
        .add("id", DataTypes.LongType)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType))
        .add("y", DataTypes.IntegerType)
        .add("fit", DataTypes.BooleanType)
        .add("trusted", DataTypes.BooleanType)
        .add("u", DataTypes.DoubleType)
        .add("truth", DataTypes.IntegerType);
    return spark.createDataFrame(rows, schema).repartition(2, col("id")).sortWithinPartitions("id");
  }

  static CnnImageEncoder fit(Dataset<Row> t, String trustedCol, Settings s, long seed) {
    return CnnImageEncoder.fit(t, "features", 64, "y", "fit", trustedCol, "u", s, seed);
  }

  @BeforeAll
  static void fitOnce() {
    table = bars(SparkTestSession.get(), N, 3).cache();
    fitted = fit(table, "trusted", tiny(Map.of()), 11);
  }

  static float[][] pixels(List<Row> rows) {
    float[][] x = new float[rows.size()][];
    for (int i = 0; i < x.length; i++) {
      List<Float> v = rows.get(i).getList(1);
      x[i] = new float[v.size()];
      for (int j = 0; j < x[i].length; j++) {
        x[i][j] = v.get(j);
      }
    }
    return x;
  }

  static List<Object> values(float[][] x) {
    return new ArrayList<>(Arrays.asList((Object[]) x));
  }

  /** Nearest class mean, means from the even rows, accuracy on the odd rows: linear separability, roughly. */
  static double nearestMeanAccuracy(float[][] e, int[] truth) {
    int d = e[0].length;
    double[][] mean = new double[2][d];
    int[] n = new int[2];
    for (int i = 0; i < e.length; i += 2) {
      n[truth[i]]++;
      for (int j = 0; j < d; j++) {
        mean[truth[i]][j] += e[i][j];
      }
    }
    int correct = 0;
    int total = 0;
    for (int i = 1; i < e.length; i += 2) {
      double[] dist = new double[2];
      for (int c = 0; c < 2; c++) {
        for (int j = 0; j < d; j++) {
          double diff = e[i][j] - mean[c][j] / n[c];
          dist[c] += diff * diff;
        }
      }
      correct += (dist[0] <= dist[1] ? 0 : 1) == truth[i] ? 1 : 0;
      total++;
    }
    return (double) correct / total;
  }

  @Test
  void learnsAnEmbeddingWhereTheClassesSeparate() {
    List<Row> rows = table.collectAsList();
    float[][] x = pixels(rows);
    int[] truth = rows.stream().mapToInt(r -> r.getInt(6)).toArray();
    float[][] e = fitted.encode(values(x));
    assertEquals(16, fitted.dim());
    assertEquals(64, fitted.modelHash().length(), "SHA-256 of the model bytes, hex");
    assertEquals(16, e[0].length);
    assertEquals("cnn", fitted.name());
    assertTrue(fitted.report().trustedHoldout());
    assertEquals(255.0, fitted.model().spec().pixelScale(), "8-bit pixels, found from the data");
    assertEquals(N / 8 - 3, fitted.report().holdoutRows(),
        "the trusted labeled fit rows (not 0, 8, 16), all of them by default");
    assertTrue(fitted.report().holdoutAccuracy() > 0.9, "hold-out accuracy " + fitted.report().holdoutAccuracy());
    double pixelSeparability = nearestMeanAccuracy(x, truth);
    double embeddingSeparability = nearestMeanAccuracy(e, truth);
    assertTrue(pixelSeparability < 0.75, "the data must not separate in pixel space: " + pixelSeparability);
    assertTrue(embeddingSeparability > 0.9, "embedding nearest-mean accuracy " + embeddingSeparability);
  }

  @Test
  void theSameSeedGivesTheSameEncoderAndAnotherSeedAnotherOne() {
    CnnImageEncoder again = fit(table, "trusted", tiny(Map.of()), 11);
    assertArrayEquals(fitted.model().params(), again.model().params());
    assertEquals(fitted.report(), again.report());
    float[][] x = pixels(table.collectAsList());
    float[][] a = fitted.encode(values(x));
    float[][] b = again.encode(values(x));
    for (int i = 0; i < x.length; i++) {
      assertArrayEquals(a[i], b[i]);
    }
    CnnImageEncoder other = fit(table, "trusted", tiny(Map.of()), 12);
    assertFalse(Arrays.equals(fitted.model().params(), other.model().params()));
  }

  @Test
  void executorsEncodeAsTheDriverDoes() {
    // The encoder reaches the tasks inside their closure, serialised by Spark even in local mode.
    CnnImageEncoder shipped = fitted;
    Dataset<float[]> onExecutors = table.select("id", "features").mapPartitions(
        (org.apache.spark.api.java.function.MapPartitionsFunction<Row, float[]>) it -> {
          List<Row> part = new ArrayList<>();
          it.forEachRemaining(part::add);
          return part.isEmpty() ? List.<float[]>of().iterator()
              : Arrays.asList(shipped.encode(values(pixels(part)))).iterator();
        }, Encoders.kryo(float[].class));
    List<float[]> executed = onExecutors.collectAsList();
    // The driver encodes each partition's rows as one batch, in partition order, as the executors did.
    List<List<Row>> partitions = table.select("id", "features").toJavaRDD().glom().collect();
    List<float[]> driver = new ArrayList<>();
    for (List<Row> part : partitions) {
      if (!part.isEmpty()) {
        driver.addAll(Arrays.asList(fitted.encode(values(pixels(part)))));
      }
    }
    assertEquals(N, executed.size());
    float[][] whole = fitted.encode(values(pixels(table.select("id", "features").collectAsList())));
    for (int i = 0; i < N; i++) {
      assertArrayEquals(driver.get(i), executed.get(i), "row " + i);
      for (int j = 0; j < whole[i].length; j++) {
        // one batch of all rows instead of one per partition: the same up to OpenBLAS's summation order
        assertEquals(whole[i][j], executed.get(i)[j], 1e-4 * Math.max(1, Math.abs(whole[i][j])));
      }
    }
  }

  @Test
  void stopsAfterPatienceEpochsWithoutImprovement() {
    // A learning rate too small to change any prediction: hold-out accuracy never improves after the first epoch.
    // No trusted column: a seeded tenth of the labeled rows is held out instead. array<double> pixels this time.
    Dataset<Row> doubles = table.withColumn("features",
        col("features").cast(DataTypes.createArrayType(DataTypes.DoubleType)));
    CnnImageEncoder stuck = fit(doubles, null, tiny(Map.of("relabel.embed.cnn.learningRate", "1e-7",
        "relabel.embed.cnn.patience", "3")), 11);
    assertEquals(4, stuck.report().epochs());
    assertEquals(1, stuck.report().bestEpoch());
    assertFalse(stuck.report().trustedHoldout());
    long labeled = N - 20;
    assertTrue(stuck.report().holdoutRows() > 0.05 * labeled && stuck.report().holdoutRows() < 0.15 * labeled,
        "about a tenth of " + labeled + " labeled rows: " + stuck.report().holdoutRows());
  }

  @Test
  void refusesFeaturesThatAreNotImagesOfTheDeclaredShape() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CnnImageEncoder.fit(table, "features", 64, "y", "fit", "trusted", "u", Settings.defaults(), 1));
    assertTrue(e.getMessage().contains("relabel.embed.cnn.imageShape"), e.getMessage());
    IllegalArgumentException notPixels = assertThrows(IllegalArgumentException.class,
        () -> fitted.encode(List.of("a text")));
    assertTrue(notPixels.getMessage().contains("float[]"), notPixels.getMessage());
  }
}
