package io.relabel.core.emlc;

import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.ops.transforms.Transforms;

/** The few dense-network pieces the EMLC networks are built from; rows are examples. */
final class Nn {

  private Nn() {}

  /** Row-wise softmax, shifted by the row maximum for stability. */
  static INDArray softmax(INDArray z) {
    INDArray e = Transforms.exp(z.subColumnVector(z.max(true, 1)), false);
    return e.diviColumnVector(e.sum(true, 1));
  }

  static INDArray relu(INDArray a) {
    return Transforms.relu(a, true);
  }

  /** 1 where {@code a > 0}, else 0: the derivative of ReLU. */
  static INDArray reluMask(INDArray a) {
    return a.gt(0).castTo(a.dataType());
  }

  static INDArray sigmoid(INDArray a) {
    return Transforms.sigmoid(a, true);
  }

  static INDArray tanh(INDArray a) {
    return Transforms.tanh(a, true);
  }

  /** Row sums as a column, {@code rows x 1}. */
  static INDArray rowSum(INDArray a) {
    return a.sum(true, 1);
  }

  /** Column sums as a row, {@code 1 x cols}. */
  static INDArray colSum(INDArray a) {
    return a.sum(true, 0);
  }

  /** x·W + b with b a {@code 1 x n} row. */
  static INDArray affine(INDArray x, INDArray w, INDArray b) {
    return x.mmul(w).addiRowVector(b);
  }

  /**
   * The directional term of a log-softmax Jacobian: for logit directions V (one row per example), V − (Σ_c p_c·V_c)·1,
   * i.e. ⟨direction, ∇ log p(c|x)⟩ for every class c.
   */
  static INDArray logSoftmaxJvp(INDArray p, INDArray v) {
    return v.subColumnVector(rowSum(p.mul(v)));
  }

  static INDArray oneHot(int[] labels, int classes, DataType type) {
    double[] v = new double[labels.length * classes];
    for (int i = 0; i < labels.length; i++) {
      v[i * classes + labels[i]] = 1.0;
    }
    return Nd4j.create(v, new long[] {labels.length, classes}, 'c').castTo(type);
  }

  /** A matrix of normal draws with standard deviation {@code std}, from {@code rng} in row-major order. */
  static INDArray normal(Random rng, long rows, long cols, double std, DataType type) {
    double[] v = new double[(int) (rows * cols)];
    for (int i = 0; i < v.length; i++) {
      v[i] = rng.nextGaussian() * std;
    }
    return Nd4j.create(v, new long[] {rows, cols}, 'c').castTo(type);
  }

  static INDArray zeros(long rows, long cols, DataType type) {
    return Nd4j.zeros(type, rows, cols);
  }

  /** Mean cross-entropy of hard labels under row probabilities p. */
  static double crossEntropy(INDArray p, int[] labels) {
    double s = 0;
    for (int i = 0; i < labels.length; i++) {
      s -= Math.log(Math.max(p.getDouble(i, labels[i]), 1e-300));
    }
    return s / labels.length;
  }
}
