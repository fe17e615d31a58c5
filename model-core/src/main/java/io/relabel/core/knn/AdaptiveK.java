package io.relabel.core.knn;

import java.io.Serializable;

/**
 * HDL's adaptive neighbourhood size (Ma et al., arXiv 2404.17173; {@code methods.md} §2, step 6).
 *
 * <p>The paper formalises (k, δ_k) label clusterability: for a (1 − δ_k) share of rows, the row and its k nearest
 * neighbours share the true class. A kNN vote with that k is then safe for all but a δ_k share of rows, and a larger
 * k makes the vote more robust to single wrong labels. So HDL estimates δ on the labeled rows, leave-one-out,
 *
 * <pre>
 *   δ̂_k = |{labeled i : the k nearest labeled neighbours of i (i excluded) are not all of i's class}| / |labeled|,
 * </pre>
 *
 * for k = 1..kMax, and takes the largest k with δ̂_k ≤ τ: the most votes the data's clusterability allows. δ̂_k can
 * only grow with k (a pure k-neighbourhood contains a pure (k−1)-neighbourhood), so when even δ̂_1 > τ no k is
 * clusterable at level τ; then the k with the best leave-one-out kNN accuracy is taken instead, since that is the k
 * whose vote labels known rows best. Ties in accuracy go to the smallest such k (the most local vote).
 *
 * <p>Both estimates are counts over rows, so they are additive: on Spark each leaf accumulates a {@link Stats} from
 * its own labeled rows and the driver merges them before {@link #choose}.
 */
public final class AdaptiveK {

  /** {@link Choice#rule()} when some k satisfies δ̂_k ≤ τ. */
  public static final String RULE_DELTA = "largest k with delta <= tau";

  /** {@link Choice#rule()} when none does. */
  public static final String RULE_LOO = "best leave-one-out accuracy";

  private AdaptiveK() {}

  /**
   * Counts per k over labeled rows: how many are not pure at k, and how many the leave-one-out vote at k labels
   * correctly. Arrays are indexed by k − 1.
   */
  public static final class Stats implements Serializable {
    private static final long serialVersionUID = 1L;

    private final int kMax;
    private long rows;
    private final long[] notPure;
    private final long[] looCorrect;

    public Stats(int kMax) {
      if (kMax < 1) {
        throw new IllegalArgumentException("kMax must be at least 1: " + kMax);
      }
      this.kMax = kMax;
      this.notPure = new long[kMax];
      this.looCorrect = new long[kMax];
    }

    public int kMax() {
      return kMax;
    }

    public long rows() {
      return rows;
    }

    /** Rows whose k nearest labeled neighbours are not all of their class (or who have fewer than k). */
    public long notPure(int k) {
      return notPure[checkK(k)];
    }

    /** Rows whose leave-one-out vote over their k nearest labeled neighbours gives their own label. */
    public long looCorrect(int k) {
      return looCorrect[checkK(k)];
    }

    private int checkK(int k) {
      if (k < 1 || k > kMax) {
        throw new IllegalArgumentException("k must be in [1, " + kMax + "]: " + k);
      }
      return k - 1;
    }

    /**
     * Adds one labeled row. A row with fewer than k labeled neighbours is not pure at k, and its vote at k uses the
     * neighbours it has ({@link Votes#weightedMajority}; no neighbours at all is never correct).
     *
     * @param rowLabel           the row's own label
     * @param rowNeighbourLabels labels of the row's labeled neighbours, nearest first (already excluding itself),
     *                           length may be < kMax
     * @param classWeights       per-class vote weight (e.g. inverse frequency), may be null = 1
     */
    public void add(int rowLabel, int[] rowNeighbourLabels, double[] classWeights) {
      if (rowLabel < 0) {
        throw new IllegalArgumentException("labels must be non-negative: " + rowLabel);
      }
      int available = Math.min(kMax, rowNeighbourLabels.length);
      int pureUpTo = 0;
      while (pureUpTo < available && rowNeighbourLabels[pureUpTo] == rowLabel) {
        pureUpTo++;
      }
      Votes.Tally tally = new Votes.Tally(classWeights);
      for (int k = 1; k <= kMax; k++) {
        if (k > pureUpTo) {
          notPure[k - 1]++;
        }
        if (k <= available) {
          tally.add(rowNeighbourLabels[k - 1]);
        }
        if (tally.winner() == rowLabel) {
          looCorrect[k - 1]++;
        }
      }
      rows++;
    }

    /** Adds the counts of {@code other} to these; returns this. */
    public Stats merge(Stats other) {
      if (other.kMax != kMax) {
        throw new IllegalArgumentException("cannot merge statistics for kMax " + other.kMax + " into kMax " + kMax);
      }
      rows += other.rows;
      for (int i = 0; i < kMax; i++) {
        notPure[i] += other.notPure[i];
        looCorrect[i] += other.looCorrect[i];
      }
      return this;
    }
  }

  /**
   * The chosen neighbourhood size.
   *
   * @param k              the chosen k
   * @param delta          δ̂_k at the chosen k
   * @param looAccuracy    leave-one-out kNN accuracy at the chosen k
   * @param rule           {@link #RULE_DELTA} or {@link #RULE_LOO}
   * @param deltaByK       δ̂_k for k = 1..kMax (index k − 1)
   * @param looAccuracyByK leave-one-out accuracy for k = 1..kMax (index k − 1)
   */
  public record Choice(int k, double delta, double looAccuracy, String rule, double[] deltaByK,
      double[] looAccuracyByK) {}

  /** The largest k with δ̂_k ≤ τ, or else the k with the best leave-one-out accuracy (smallest k on ties). */
  public static Choice choose(Stats stats, double tau) {
    if (!(tau >= 0 && tau <= 1)) {
      throw new IllegalArgumentException("tau must be in [0, 1]: " + tau);
    }
    if (stats.rows() == 0) {
      throw new IllegalArgumentException("no labeled rows to choose k from");
    }
    int kMax = stats.kMax();
    double[] delta = new double[kMax];
    double[] accuracy = new double[kMax];
    for (int k = 1; k <= kMax; k++) {
      delta[k - 1] = (double) stats.notPure(k) / stats.rows();
      accuracy[k - 1] = (double) stats.looCorrect(k) / stats.rows();
    }
    for (int k = kMax; k >= 1; k--) {
      if (delta[k - 1] <= tau) {
        return new Choice(k, delta[k - 1], accuracy[k - 1], RULE_DELTA, delta, accuracy);
      }
    }
    int best = 1;
    for (int k = 2; k <= kMax; k++) {
      if (accuracy[k - 1] > accuracy[best - 1]) {
        best = k;
      }
    }
    return new Choice(best, delta[best - 1], accuracy[best - 1], RULE_LOO, delta, accuracy);
  }
}
