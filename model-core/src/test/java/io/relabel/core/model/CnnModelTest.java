package io.relabel.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.core.config.Settings;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

class CnnModelTest {

  private static final CnnSpec SPEC = new CnnSpec(8, 8, 1, List.of(4, 8), 12, 1, 1, 16, 0.01, 1e-4, 255);
  private static float[][] images;
  private static int[] labels;
  private static MultiLayerNetwork net;
  private static CnnModel model;

  /** 8x8 grey images (0..255): a bright horizontal (class 0) or vertical (class 1) bar at a random place. */
  static float[][] bars(int n, long seed, int[] labelsOut) {
    Random r = new Random(seed);
    float[][] x = new float[n][64];
    for (int i = 0; i < n; i++) {
      int c = i % 2;
      int at = r.nextInt(8);
      for (int k = 0; k < 8; k++) {
        x[i][c == 0 ? at * 8 + k : k * 8 + at] = 255;
      }
      for (int j = 0; j < 64; j++) {
        x[i][j] = Math.min(255, x[i][j] + r.nextInt(40));
      }
      labelsOut[i] = c;
    }
    return x;
  }

  @BeforeAll
  static void train() {
    labels = new int[128];
    images = bars(128, 1, labels);
    float[][] y = new float[128][2];
    for (int i = 0; i < 128; i++) {
      y[i][labels[i]] = 1;
    }
    net = new MultiLayerNetwork(SPEC.configuration(2, 7));
    net.init();
    DataSet ds = new DataSet(SPEC.images(images), Nd4j.createFromArray(y));
    for (int e = 0; e < 15; e++) {
      for (DataSet b : ds.batchBy(SPEC.batchSize())) {
        net.fit(b);
      }
    }
    model = CnnModel.of(net, SPEC, 2);
  }

  @Test
  void learnsTheBarsAndEmbedsThePenultimateLayer() {
    float[][] p = model.predictProba(images);
    float[][] e = model.embed(images);
    INDArray w = net.getLayer(SPEC.embeddingLayer() + 1).getParam("W");
    INDArray b = net.getLayer(SPEC.embeddingLayer() + 1).getParam("b");
    int correct = 0;
    for (int i = 0; i < images.length; i++) {
      assertEquals(12, e[i].length);
      if (Predictions.argmax(p[i]) == labels[i]) {
        correct++;
      }
      // the output layer applied to the embedding gives the model's probabilities: it is the penultimate layer
      float[] logits = Nd4j.createFromArray(new float[][] {e[i]}).mmul(w).addRowVector(b).toFloatVector();
      double z = Math.exp(logits[0]) + Math.exp(logits[1]);
      assertEquals(Math.exp(logits[0]) / z, p[i][0], 1e-4);
      for (float v : e[i]) {
        assertTrue(v >= 0, "ReLU activations are never negative");
      }
    }
    assertTrue(correct > 0.95 * images.length, "training accuracy " + correct + "/" + images.length);
  }

  @Test
  void travelsUnchangedAndARowsEmbeddingBarelyDependsOnItsBatch() {
    byte[] bytes = model.toBytes();
    assertArrayEquals(bytes, CnnModel.of(net, SPEC, 2).toBytes(), "equal models, equal bytes");
    CnnModel copy = CnnModel.fromBytes(bytes);
    float[][] all = model.embed(images);
    float[][] again = copy.embed(images);
    for (int i = 0; i < images.length; i++) {
      assertArrayEquals(all[i], again[i]);
      float[] alone = copy.embed(new float[][] {images[i]})[0];
      for (int j = 0; j < alone.length; j++) {
        assertEquals(all[i][j], alone[j], 1e-5 * Math.max(1, Math.abs(all[i][j])), "row " + i + " alone");
      }
    }
  }

  @Test
  void concurrentCallersGetWhatASingleCallerGets() throws Exception {
    CnnModel shared = new CnnModel(SPEC, net.getLayerWiseConfigurations().toJson(), model.params(), 2);
    float[][] expected = model.embed(images);
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<float[][]>> results = new java.util.ArrayList<>();
      for (int t = 0; t < 8; t++) {
        results.add(pool.submit(() -> shared.embed(images)));
      }
      for (Future<float[][]> f : results) {
        float[][] got = f.get();
        for (int i = 0; i < images.length; i++) {
          assertArrayEquals(expected[i], got[i]);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void theSeedDecidesTheInitialWeights() {
    MultiLayerNetwork a = new MultiLayerNetwork(SPEC.configuration(2, 7));
    a.init();
    MultiLayerNetwork b = new MultiLayerNetwork(SPEC.configuration(2, 7));
    b.init();
    MultiLayerNetwork c = new MultiLayerNetwork(SPEC.configuration(2, 8));
    c.init();
    assertEquals(a.params(), b.params());
    assertNotEquals(a.params(), c.params());
    assertFalse(Arrays.equals(CnnModel.of(a, SPEC, 2).toBytes(), CnnModel.of(c, SPEC, 2).toBytes()));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> CnnModel.fromBytes(new byte[] {1, 2, 3}));
    assertTrue(e.getMessage().startsWith("not the bytes of a CNN model"), e.getMessage());
  }

  @Test
  void defaultsBuildTheFashionMnistNetwork() {
    CnnSpec spec = CnnSpec.from(Settings.defaults(), 1.0);
    assertEquals(784, spec.pixels());
    assertEquals(1.0, spec.pixelScale(), "Fashion-MNIST as relabel fetches it is already in [0, 1]");
    MultiLayerNetwork n = new MultiLayerNetwork(spec.configuration(10, 1));
    n.init();
    float[][] e = CnnModel.of(n, spec, 10).embed(new float[2][784]);
    assertEquals(spec.embeddingDim(), e[0].length);
    // conv 3x3x1x8 + conv 3x3x8x16 + dense (7*7*16 -> 128) + softmax (128 -> 10), weights and biases
    long expected = (9 * 8 + 8) + (9 * 8 * 16 + 16) + (7 * 7 * 16 * 128 + 128) + (128 * 10 + 10);
    assertEquals(expected, n.numParams());
  }

  @Test
  void imagesAreScaledAndTurnedChannelsFirst() {
    CnnSpec rgb = new CnnSpec(2, 3, 3, List.of(1), 4, 1, 1, 1, 0.01, 0, 10);
    float[] pixel = new float[18];
    for (int i = 0; i < 18; i++) {
      pixel[i] = i; // row-major, a pixel's 3 channels side by side
    }
    INDArray x = rgb.images(new float[][] {pixel});
    assertArrayEquals(new long[] {1, 3, 2, 3}, x.shape());
    // pixel (row 1, column 2) channel 1 is value index (1 * 3 + 2) * 3 + 1 = 16, scaled by 1/10
    assertEquals(1.6f, x.getFloat(0, 1, 1, 2), 1e-6);
    assertEquals(0.3f, x.getFloat(0, 0, 0, 1), 1e-6);
    IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class,
        () -> rgb.images(new float[][] {new float[17]}));
    assertTrue(wrong.getMessage().contains("relabel.embed.cnn.imageShape"), wrong.getMessage());
  }

  @Test
  void pixelScaleFollowsTheSettingOrElseTheData() {
    assertEquals(7.0, CnnSpec.pixelScaleFor(7, 200));
    assertEquals(1.0, CnnSpec.pixelScaleFor(0, 1.0));
    assertEquals(1.0, CnnSpec.pixelScaleFor(0, 0.2));
    assertEquals(255.0, CnnSpec.pixelScaleFor(0, 1.5));
    assertEquals(255.0, CnnSpec.pixelScaleFor(0, 255));
    assertEquals(4095.0, CnnSpec.pixelScaleFor(0, 4095));
    assertThrows(IllegalArgumentException.class, () -> new CnnSpec(8, 8, 1, List.of(4), 2, 1, 1, 1, 0.01, 0, 0));
  }

  @Test
  void tooSmallImagesAndBadShapesAreRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> new CnnSpec(8, 3, 1, List.of(4, 8), 12, 1, 1, 16, 0.01, 0, 1));
    assertTrue(e.getMessage().contains("at least 4"), e.getMessage());
    assertThrows(IllegalArgumentException.class,
        () -> Settings.defaults().with(Map.of("relabel.embed.cnn.imageShape", "28x28")));
    CnnSpec parsed = CnnSpec.from(Settings.defaults().with(Map.of("relabel.embed.cnn.imageShape", "32x16x3",
        "relabel.embed.cnn.channels", "8,16,24")), 255);
    assertEquals(List.of(8, 16, 24), parsed.convChannels());
    assertEquals(32 * 16 * 3, parsed.pixels());
    assertEquals(6, parsed.embeddingLayer());
  }
}
