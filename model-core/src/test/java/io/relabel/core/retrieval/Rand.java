package io.relabel.core.retrieval;

import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Seeded random inputs for the retrieval tests (java.util.Random, so the same on every backend). */
final class Rand {

  private Rand() {}

  static double[] gaussians(Random rng, int n, double std) {
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = rng.nextGaussian() * std;
    }
    return v;
  }

  static INDArray matrix(Random rng, int rows, int cols, double std, DataType type) {
    return Nd4j.create(gaussians(rng, rows * cols, std), new long[] {rows, cols}, 'c').castTo(type);
  }

  static float[] floats(Random rng, int n, double std) {
    double[] d = gaussians(rng, n, std);
    float[] f = new float[n];
    for (int i = 0; i < n; i++) {
      f[i] = (float) d[i];
    }
    return f;
  }

  /** Sets every parameter of {@code a}, biases included, to a random value, so no parameter is trivially zero. */
  static double[] randomise(Adapter a, Random rng, double std) {
    double[] p = gaussians(rng, a.numParams(), std);
    a.setParams(p);
    return a.paramsCopy();
  }
}
