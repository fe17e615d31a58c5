package io.relabel.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

class MlpModelTest {

  /** Two Gaussian blobs in 4-d: an MLP must separate them, and the travelling copy must score identically. */
  @Test
  void learnsSeparableDataAndTravelsUnchanged() {
    Random r = new Random(3);
    int n = 400;
    float[][] x = new float[n][4];
    float[][] y = new float[n][2];
    for (int i = 0; i < n; i++) {
      int c = i % 2;
      for (int j = 0; j < 4; j++) {
        x[i][j] = (float) (r.nextGaussian() * 0.5 + (c == 0 ? -1 : 1));
      }
      y[i][c] = 1;
    }
    MlpSpec spec = new MlpSpec(16, 1, 20, 32, 0.01, 1e-4);
    MultiLayerNetwork net = new MultiLayerNetwork(spec.configuration(4, 2, 7));
    net.init();
    DataSet ds = new DataSet(Nd4j.createFromArray(x), Nd4j.createFromArray(y));
    for (int e = 0; e < spec.epochs(); e++) {
      for (DataSet b : ds.batchBy(spec.batchSize())) {
        net.fit(b);
      }
    }
    MlpModel model = MlpModel.of(net, 4, 2);
    float[][] p = model.predictProba(x);
    int correct = 0;
    for (int i = 0; i < n; i++) {
      assertEquals(1.0, p[i][0] + p[i][1], 1e-5);
      if (Predictions.argmax(p[i]) == i % 2) {
        correct++;
      }
    }
    assertTrue(correct > 0.95 * n, "accuracy " + correct + "/" + n);
    float[][] direct = net.output(Nd4j.createFromArray(x), false).toFloatMatrix();
    MlpModel copy = new MlpModel(net.getLayerWiseConfigurations().toJson(), model.params(), 4, 2);
    float[][] again = copy.predictProba(x);
    for (int i = 0; i < n; i++) {
      assertArrayEquals(direct[i], again[i]);
    }
  }

  @Test
  void argmaxBreaksTiesTowardsTheSmallestIndex() {
    assertEquals(1, Predictions.argmax(new float[] {0.1f, 0.45f, 0.45f}));
  }
}
