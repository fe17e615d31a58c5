package io.relabel.core.hdl;

import java.util.Random;

/** Seeded, well-separated Gaussian blobs on the unit sphere, for tests. */
final class Blobs {

  final float[][] x;
  final int[] truth;

  private Blobs(float[][] x, int[] truth) {
    this.x = x;
    this.truth = truth;
  }

  /** {@code sizes[c]} rows around a random direction per class, with noise of scale {@code spread}. */
  static Blobs make(int[] sizes, int dim, double spread, long seed) {
    Random rnd = new Random(seed);
    int n = 0;
    for (int s : sizes) {
      n += s;
    }
    float[][] centres = new float[sizes.length][dim];
    for (float[] c : centres) {
      for (int j = 0; j < dim; j++) {
        c[j] = (float) rnd.nextGaussian();
      }
    }
    float[][] x = new float[n][dim];
    int[] truth = new int[n];
    int i = 0;
    for (int c = 0; c < sizes.length; c++) {
      for (int t = 0; t < sizes[c]; t++, i++) {
        double norm = 0;
        for (int j = 0; j < dim; j++) {
          x[i][j] = (float) (centres[c][j] + spread * rnd.nextGaussian());
          norm += x[i][j] * x[i][j];
        }
        for (int j = 0; j < dim; j++) {
          x[i][j] /= (float) Math.sqrt(norm);
        }
        truth[i] = c;
      }
    }
    return new Blobs(x, truth);
  }
}
