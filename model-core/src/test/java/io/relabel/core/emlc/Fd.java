package io.relabel.core.emlc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import java.util.function.ToDoubleFunction;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Central finite differences in double precision, and the comparisons the gradient tests make. */
final class Fd {

  static final double H = 1e-6;

  private Fd() {}

  /** ∂f/∂a_j for every entry of {@code a}, perturbing it in place and restoring it. */
  static INDArray gradient(INDArray a, ToDoubleFunction<Void> f) {
    INDArray g = Nd4j.zeros(DataType.DOUBLE, a.shape());
    for (long j = 0; j < a.length(); j++) {
      double v = a.getDouble(j);
      a.putScalar(j, v + H);
      double up = f.applyAsDouble(null);
      a.putScalar(j, v - H);
      double down = f.applyAsDouble(null);
      a.putScalar(j, v);
      g.putScalar(j, (up - down) / (2 * H));
    }
    return g;
  }

  /** Relative error ‖a − b‖ / max(‖a‖, ‖b‖), and a check that the gradient is not trivially zero. */
  static void assertClose(INDArray expected, INDArray actual, double tol, String what) {
    double scale = Math.max(expected.norm2Number().doubleValue(), actual.norm2Number().doubleValue());
    assertTrue(scale > 1e-12, what + ": both gradients are zero, the check would prove nothing");
    double err = expected.sub(actual).norm2Number().doubleValue() / scale;
    assertTrue(err < tol, what + ": relative error " + err + " (tolerance " + tol + ")");
  }

  static INDArray randn(Random rng, int rows, int cols, double std) {
    return Nn.normal(rng, rows, cols, std, DataType.DOUBLE);
  }

  static int[] labels(Random rng, int n, int classes) {
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      y[i] = rng.nextInt(classes);
    }
    return y;
  }

  /** Random rows of the probability simplex (soft labels). */
  static INDArray simplex(Random rng, int rows, int classes) {
    return Nn.softmax(randn(rng, rows, classes, 1.0));
  }

  static void assertSame(double[] a, double[] b) {
    assertEquals(a.length, b.length);
    for (int i = 0; i < a.length; i++) {
      if (Double.doubleToLongBits(a[i]) != Double.doubleToLongBits(b[i])) {
        throw new AssertionError("differ at " + i + ": " + a[i] + " vs " + b[i]);
      }
    }
  }
}
