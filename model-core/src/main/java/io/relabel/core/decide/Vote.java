package io.relabel.core.decide;

import java.io.Serializable;

/**
 * The k-of-n rule that turns several detectors' opinions about one row into one decision
 * ({@code relabel.decide.policy=vote}).
 *
 * <p>Each method names a class with a confidence, or abstains (class −1). A vote whose confidence is below
 * {@code minConfidence} is dropped. For a labeled row only votes for another class count: the class with the most of
 * them wins when it has at least {@code minVotes}; otherwise the given label stays. An unlabeled row has no label to
 * defend, so it takes the plurality class of whatever votes there are, however few. Ties go to the larger summed
 * confidence, then to the lower class index, so the outcome depends on the votes alone.
 *
 * <p>Why a count and not a confidence-weighted sum: the methods' confidences are on different scales (a softmax
 * probability, a neighbourhood agreement share, a gate-mixed soft label), so adding them would let the
 * most overconfident method outvote the others. Counting independent agreements is the rule a reviewer can audit.
 */
public final class Vote implements Serializable {

  private static final long serialVersionUID = 1L;

  private final int minVotes;
  private final double minConfidence;

  public Vote(int minVotes, double minConfidence) {
    if (minVotes < 1) {
      throw new IllegalArgumentException("minVotes must be at least 1: " + minVotes);
    }
    if (!(minConfidence >= 0 && minConfidence <= 1)) {
      throw new IllegalArgumentException("minConfidence must be in [0, 1]: " + minConfidence);
    }
    this.minVotes = minVotes;
    this.minConfidence = minConfidence;
  }

  /** The decision for one row: the chosen class (−1: keep the given label, or none for an unlabeled row). */
  public record Outcome(int label, int votes, double confidence) {
    static final Outcome KEEP = new Outcome(-1, 0, Double.NaN);
  }

  /**
   * @param given       the given label's class index, or −1 for an unlabeled row
   * @param labels      per method, the class it names or −1 when it abstains
   * @param confidences per method, its confidence in that class
   * @return the class to change to (with how many votes it had and their mean confidence), or {@link Outcome#KEEP}
   */
  public Outcome decide(int given, int[] labels, double[] confidences) {
    if (labels.length != confidences.length) {
      throw new IllegalArgumentException("labels and confidences differ in length: " + labels.length + " vs "
          + confidences.length);
    }
    int best = -1;
    int bestCount = 0;
    double bestSum = 0;
    for (int m = 0; m < labels.length; m++) {
      int c = labels[m];
      if (!counts(c, given, confidences[m]) || c == best) {
        continue;
      }
      // tally class c once, at its first counting vote
      boolean seen = false;
      for (int e = 0; e < m; e++) {
        if (labels[e] == c && counts(c, given, confidences[e])) {
          seen = true;
          break;
        }
      }
      if (seen) {
        continue;
      }
      int count = 0;
      double sum = 0;
      for (int e = m; e < labels.length; e++) {
        if (labels[e] == c && counts(c, given, confidences[e])) {
          count++;
          sum += confidences[e];
        }
      }
      if (count > bestCount || count == bestCount && (sum > bestSum || sum == bestSum && c < best)) {
        best = c;
        bestCount = count;
        bestSum = sum;
      }
    }
    if (best < 0 || given >= 0 && bestCount < minVotes) {
      return Outcome.KEEP;
    }
    return new Outcome(best, bestCount, bestSum / bestCount);
  }

  private boolean counts(int label, int given, double confidence) {
    return label >= 0 && label != given && confidence >= minConfidence;
  }
}
