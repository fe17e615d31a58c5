package io.relabel.core.cl;

import java.io.Serializable;

/**
 * What the per-class thresholds need, as a mergeable accumulator: n_i, the number of rows labeled i, and the exact
 * sum of p_i over those rows. Rows are added per partition and the partial totals merged, in any order, with the
 * same result (counts are integers and the sums are exact, see {@link ExactFloatSum}).
 */
public final class ClassTotals implements Serializable {

  private static final long serialVersionUID = 1L;

  private final long[] counts;
  private final ExactFloatSum[] sums;

  public ClassTotals(int classes) {
    if (classes < 1) {
      throw new IllegalArgumentException("classes must be positive: " + classes);
    }
    counts = new long[classes];
    sums = new ExactFloatSum[classes];
  }

  /** Adds a row labeled {@code given} with probabilities {@code p}, after checking both. */
  public ClassTotals add(Object id, float[] p, int given) {
    ConfidentLearning.check(id, p, given, counts.length);
    counts[given]++;
    if (sums[given] == null) {
      sums[given] = new ExactFloatSum();
    }
    sums[given].add(p[given]);
    return this;
  }

  public ClassTotals merge(ClassTotals o) {
    if (o.counts.length != counts.length) {
      throw new IllegalArgumentException("cannot merge totals of " + o.counts.length + " and " + counts.length
          + " classes");
    }
    for (int i = 0; i < counts.length; i++) {
      counts[i] += o.counts[i];
      if (o.sums[i] != null) {
        sums[i] = sums[i] == null ? o.sums[i] : sums[i].merge(o.sums[i]);
      }
    }
    return this;
  }

  /** n_i, rows per given class. */
  public long[] counts() {
    return counts.clone();
  }

  /**
   * The per-class thresholds of Northcutt et al. (2021), eq. 2: t_j = (1 / n_j) * sum over rows labeled j of p_j,
   * the average self-confidence of class j. Computed as the exact sum rounded once to double, divided by n_j; NaN
   * for a class no row is labeled with (no row can then be confidently of that class).
   */
  public double[] thresholds() {
    double[] t = new double[counts.length];
    for (int j = 0; j < t.length; j++) {
      t[j] = counts[j] == 0 ? Double.NaN : sums[j].value() / counts[j];
    }
    return t;
  }
}
