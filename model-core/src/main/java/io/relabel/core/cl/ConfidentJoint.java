package io.relabel.core.cl;

import java.io.Serializable;

/**
 * The confident joint of Northcutt et al. (2021), eq. 1, as a mergeable accumulator:
 * C[i][j] = |{ rows x labeled i : the confident class of x is j }|, where the confident class is
 * argmax_{l : p_l(x) >= t_l} p_l(x) ({@link ConfidentLearning#confidentClass}); rows without one are not counted.
 */
public final class ConfidentJoint implements Serializable {

  private static final long serialVersionUID = 1L;

  private final long[][] counts;

  public ConfidentJoint(int classes) {
    if (classes < 1) {
      throw new IllegalArgumentException("classes must be positive: " + classes);
    }
    counts = new long[classes][classes];
  }

  /** Counts a row labeled {@code given} whose confident class is {@code confident} (-1: none, not counted). */
  public ConfidentJoint add(int given, int confident) {
    if (confident >= 0) {
      counts[given][confident]++;
    }
    return this;
  }

  public ConfidentJoint merge(ConfidentJoint o) {
    if (o.counts.length != counts.length) {
      throw new IllegalArgumentException("cannot merge joints of " + o.counts.length + " and " + counts.length
          + " classes");
    }
    for (int i = 0; i < counts.length; i++) {
      for (int j = 0; j < counts.length; j++) {
        counts[i][j] += o.counts[i][j];
      }
    }
    return this;
  }

  /** C[i][j]: row i is the given class, column j the confident (estimated true) class; a copy. */
  public long[][] counts() {
    long[][] c = new long[counts.length][];
    for (int i = 0; i < c.length; i++) {
      c[i] = counts[i].clone();
    }
    return c;
  }
}
