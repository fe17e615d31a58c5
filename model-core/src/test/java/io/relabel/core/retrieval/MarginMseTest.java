package io.relabel.core.retrieval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The analytic MarginMSE gradient (one external-error backprop through the stacked [q; p; n] batch) against central
 * finite differences in double precision, and the loss against hand-worked values.
 */
class MarginMseTest {

  private static final int DIM = 5;
  private static final int B = 3;
  private static final double H = 1e-6;

  @ParameterizedTest
  @CsvSource({"LINEAR, false", "LINEAR, true", "MLP, false", "MLP, true"})
  void gradientMatchesFiniteDifferences(AdapterSpec.Kind kind, boolean normalise) {
    Random rng = new Random(11);
    Adapter a = Adapter.identity(new AdapterSpec(kind, 4, normalise), DIM, DataType.DOUBLE, 5);
    // away from the identity, so that W (and for the MLP, W2) take part in the gradient with non-zero values
    double[] theta = Rand.randomise(a, rng, 0.5);
    INDArray q = Rand.matrix(rng, B, DIM, 1.0, DataType.DOUBLE);
    INDArray p = Rand.matrix(rng, B, DIM, 1.0, DataType.DOUBLE);
    INDArray n = Rand.matrix(rng, B, DIM, 1.0, DataType.DOUBLE);
    INDArray m = Rand.matrix(rng, B, 1, 1.0, DataType.DOUBLE);

    MarginMse.LossAndGradient lg = MarginMse.lossAndGradient(a, q, p, n, m);
    assertEquals(MarginMse.loss(a, q, p, n, m), lg.loss(), 1e-12, "training and inference passes agree on L");
    double[] fd = new double[theta.length];
    for (int j = 0; j < theta.length; j++) {
      double[] t = theta.clone();
      t[j] = theta[j] + H;
      a.setParams(t);
      double up = MarginMse.loss(a, q, p, n, m);
      t[j] = theta[j] - H;
      a.setParams(t);
      double down = MarginMse.loss(a, q, p, n, m);
      fd[j] = (up - down) / (2 * H);
    }
    double err = 0;
    double scale = 0;
    for (int j = 0; j < fd.length; j++) {
      err += (fd[j] - lg.gradient()[j]) * (fd[j] - lg.gradient()[j]);
      scale += fd[j] * fd[j];
    }
    assertTrue(scale > 1e-6, "finite differences are all zero: the check would prove nothing");
    double rel = Math.sqrt(err / scale);
    assertTrue(rel < 1e-6, kind + " normalise=" + normalise + ": relative error " + rel);
  }

  /**
   * LINEAR, no normalisation, dim 2, B = 2. With b = (1, 0) and W = 0, f(e) = e + (1, 0):
   * <pre>
   *  row 1: q (1,0) p (2,1) n (0,3) m 1    f: q (2,0) p (3,1) n (1,3)  r = 6 − 2 − 1   =  3
   *  row 2: q (1,2) p (1,1) n (2,0) m 0.5  f: q (2,2) p (2,1) n (3,0)  r = 6 − 6 − 0.5 = −0.5
   *  L = (9 + 0.25) / 2 = 4.625</pre>
   * and at the identity (b = 0): r = 2 − 0 − 1 = 1 and 3 − 2 − 0.5 = 0.5, L = (1 + 0.25) / 2 = 0.625.
   */
  @Test
  void lossOfAHandWorkedBatch() {
    Adapter a = Adapter.identity(new AdapterSpec(AdapterSpec.Kind.LINEAR, 0, false), 2, DataType.DOUBLE, 0);
    INDArray q = Nd4j.createFromArray(new double[][] {{1, 0}, {1, 2}});
    INDArray p = Nd4j.createFromArray(new double[][] {{2, 1}, {1, 1}});
    INDArray n = Nd4j.createFromArray(new double[][] {{0, 3}, {2, 0}});
    INDArray m = Nd4j.createFromArray(1.0, 0.5);
    assertEquals(0.625, MarginMse.loss(a, q, p, n, m), 1e-15);
    // parameters: W (4 entries), then b
    assertArrayEquals(new boolean[] {true, true, true, true, false, false}, a.decayMask());
    a.setParams(new double[] {0, 0, 0, 0, 1, 0});
    assertEquals(4.625, MarginMse.loss(a, q, p, n, m), 1e-15);
    assertEquals(4.625, MarginMse.lossAndGradient(a, q, p, n, m).loss(), 1e-15);
  }

  /** With normalisation, one triple: q (1,0), p (2,1)/√5, n (0,1), m 1: L = (2/√5 − 1)². */
  @Test
  void lossOfAHandWorkedNormalisedTriple() {
    Adapter a = Adapter.identity(new AdapterSpec(AdapterSpec.Kind.LINEAR, 0, true), 2, DataType.DOUBLE, 0);
    double r = 2 / Math.sqrt(5) - 1;
    assertEquals(r * r, MarginMse.loss(a, Nd4j.createFromArray(new double[][] {{1, 0}}),
        Nd4j.createFromArray(new double[][] {{2, 1}}), Nd4j.createFromArray(new double[][] {{0, 3}}),
        Nd4j.createFromArray(1.0)), 1e-15);
  }

  /** The graph keeps nothing of a pass: the same call gives the same bits, also after other work on the graph. */
  @Test
  void repeatedCallsAreIdenticalAndLeaveNothingBehind() {
    Random rng = new Random(3);
    Adapter a = Adapter.identity(new AdapterSpec(AdapterSpec.Kind.MLP, 6, true), 8, DataType.FLOAT, 2);
    Rand.randomise(a, rng, 0.3);
    INDArray q = Rand.matrix(rng, 4, 8, 1.0, DataType.FLOAT);
    INDArray p = Rand.matrix(rng, 4, 8, 1.0, DataType.FLOAT);
    INDArray n = Rand.matrix(rng, 4, 8, 1.0, DataType.FLOAT);
    INDArray m = Rand.matrix(rng, 4, 1, 1.0, DataType.FLOAT);
    MarginMse.LossAndGradient first = MarginMse.lossAndGradient(a, q, p, n, m);
    // other work in between: a different batch (other rows, so other shapes) and an inference pass
    MarginMse.lossAndGradient(a, n.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2)),
        q.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2)),
        p.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2)), m.get(
            org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 2)));
    a.output(p);
    MarginMse.LossAndGradient again = MarginMse.lossAndGradient(a, q, p, n, m);
    assertEquals(Double.doubleToLongBits(first.loss()), Double.doubleToLongBits(again.loss()));
    assertArrayEquals(first.gradient(), again.gradient());

    assertNull(a.graph().getInputs(), "the graph still holds the last batch");
    for (GraphVertex v : a.graph().getVertices()) {
      assertNull(v.getEpsilon(), v.getVertexName() + " keeps its error");
      if (v.getInputs() != null) {
        for (INDArray in : v.getInputs()) {
          assertNull(in, v.getVertexName() + " keeps its input");
        }
      }
    }
    assertFalse(Nd4j.getWorkspaceManager().anyWorkspaceActiveForCurrentThread(), "a workspace was left open");
  }

  @Test
  void mismatchedBatchesAreRefused() {
    Adapter a = Adapter.identity(new AdapterSpec(AdapterSpec.Kind.LINEAR, 0, false), 3, DataType.FLOAT, 0);
    INDArray x = Nd4j.zeros(DataType.FLOAT, 2, 3);
    assertEquals("MarginMSE needs q, p and n of 3 x 3 (one row per margin), got [2, 3], [2, 3], [2, 3]",
        assertThrows(IllegalArgumentException.class,
            () -> MarginMse.lossAndGradient(a, x, x, x, Nd4j.zeros(DataType.FLOAT, 3))).getMessage());
  }
}
