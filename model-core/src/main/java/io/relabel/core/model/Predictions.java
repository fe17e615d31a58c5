package io.relabel.core.model;

/** Small helpers over one row's class-probability vector. */
public final class Predictions {

  private Predictions() {}

  /** Index of the largest probability; ties go to the smallest index, so the result is deterministic. */
  public static int argmax(float[] p) {
    int best = 0;
    for (int c = 1; c < p.length; c++) {
      if (p[c] > p[best]) {
        best = c;
      }
    }
    return best;
  }
}
