package io.relabel.core.hdl;

import java.io.Serializable;

/**
 * When the labeled members of a cluster "agree" (methods.md section 2, step 3): at least {@code minSupport} labeled
 * members, and the largest class holds a share of at least {@code purity} (ρ) of them. The same rule stops the
 * hierarchy from splitting a cluster (its members need no finer neighbourhood) and lets the cluster label its
 * unlabeled members top down.
 *
 * <p>Counts may be weighted (inverse class frequency, for long tails) so that a cluster of a rare class is not
 * outvoted by a few mislabeled rows of a frequent one; the support test always uses the raw count.
 */
public record PurityRule(double purity, int minSupport, double[] classWeights) implements Serializable {

  public PurityRule {
    if (!(purity > 0.5 && purity <= 1.0)) {
      throw new IllegalArgumentException("purity must be in (0.5, 1], got " + purity);
    }
    if (minSupport < 1) {
      throw new IllegalArgumentException("minSupport must be at least 1, got " + minSupport);
    }
  }

  /** The agreed class of a cluster with these labeled-member counts, or -1 when its members do not agree. */
  public int agreedLabel(long[] counts) {
    long support = 0;
    for (long c : counts) {
      support += c;
    }
    if (support < minSupport) {
      return -1;
    }
    int best = argmaxWeighted(counts);
    return share(counts, best) >= purity ? best : -1;
  }

  /** The class-weighted majority class, or -1 when there is no labeled member. */
  public int majority(long[] counts) {
    long support = 0;
    for (long c : counts) {
      support += c;
    }
    return support == 0 ? -1 : argmaxWeighted(counts);
  }

  /** Weighted share of class {@code label} among the labeled members. */
  public double share(long[] counts, int label) {
    double total = 0;
    for (int c = 0; c < counts.length; c++) {
      total += counts[c] * weight(c);
    }
    return total == 0 ? 0 : counts[label] * weight(label) / total;
  }

  private int argmaxWeighted(long[] counts) {
    int best = 0;
    for (int c = 1; c < counts.length; c++) {
      if (counts[c] * weight(c) > counts[best] * weight(best)) {
        best = c;
      }
    }
    return best;
  }

  private double weight(int c) {
    return classWeights == null ? 1.0 : classWeights[c];
  }
}
