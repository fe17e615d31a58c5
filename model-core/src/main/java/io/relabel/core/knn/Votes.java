package io.relabel.core.knn;

import java.util.Arrays;

/**
 * The neighbour vote of HDL (Ma et al., arXiv 2404.17173; {@code methods.md} §2, steps 4 and 7): a row takes the
 * class its nearest labeled neighbours agree on. Votes are weighted per class so that a long-tailed class is not
 * outvoted merely for being rare (e.g. weight = inverse class frequency among the labeled rows).
 *
 * <p>Ties between classes of equal weight go to the class of the nearest neighbour among them: the nearest
 * neighbour is the single most informative vote, and the rule depends on nothing but the neighbour list (no class
 * numbering decides).
 */
public final class Votes {

  /** The label of an empty vote. */
  public static final int NONE = -1;

  private Votes() {}

  /**
   * The outcome of a vote.
   *
   * @param label     the winning class, {@link #NONE} when there were no votes
   * @param agreement the winner's weight over the total weight of the votes (0 when that total is 0)
   */
  public record Result(int label, double agreement) {}

  /**
   * Weighted majority over the first k labels (nearest neighbour first); fewer when the list is shorter.
   *
   * @param labels       neighbour labels, nearest first, each non-negative
   * @param k            how many of them vote (at least 0)
   * @param classWeights vote weight per class, finite and non-negative; null means 1 for every class
   */
  public static Result weightedMajority(int[] labels, int k, double[] classWeights) {
    if (k < 0) {
      throw new IllegalArgumentException("k must be at least 0: " + k);
    }
    Tally tally = new Tally(classWeights);
    for (int i = 0; i < Math.min(k, labels.length); i++) {
      tally.add(labels[i]);
    }
    return tally.result();
  }

  /**
   * The same vote built up one neighbour at a time, nearest first: after each {@link #add} the tally holds the vote
   * of the neighbours added so far. This lets a caller read the vote at every k = 1..kMax in one pass.
   */
  public static final class Tally {
    private final double[] classWeights;
    private double[] weightByClass = new double[0];
    private int[] firstPosition = new int[0];
    private double total;
    private int votes;
    private int winner = NONE;

    /** @param classWeights vote weight per class, finite and non-negative; null means 1 for every class */
    public Tally(double[] classWeights) {
      if (classWeights != null) {
        for (int c = 0; c < classWeights.length; c++) {
          if (!(classWeights[c] >= 0) || Double.isInfinite(classWeights[c])) {
            throw new IllegalArgumentException(
                "class weights must be finite and non-negative: weight[" + c + "] = " + classWeights[c]);
          }
        }
      }
      this.classWeights = classWeights;
    }

    /** Adds the vote of the next-nearest neighbour. */
    public void add(int label) {
      if (label < 0) {
        throw new IllegalArgumentException("labels must be non-negative: " + label);
      }
      if (classWeights != null && label >= classWeights.length) {
        throw new IllegalArgumentException(
            "no class weight for label " + label + " (" + classWeights.length + " weights)");
      }
      if (label >= weightByClass.length) {
        int old = weightByClass.length;
        weightByClass = Arrays.copyOf(weightByClass, label + 1);
        firstPosition = Arrays.copyOf(firstPosition, label + 1);
        Arrays.fill(firstPosition, old, label + 1, -1);
      }
      if (firstPosition[label] < 0) {
        firstPosition[label] = votes;
      }
      double w = classWeights == null ? 1.0 : classWeights[label];
      weightByClass[label] += w;
      total += w;
      votes++;
      // Only this class's weight grew, so the winner is either unchanged or this class: comparing the two suffices.
      if (winner == NONE || weightByClass[label] > weightByClass[winner]
          || (weightByClass[label] == weightByClass[winner] && firstPosition[label] < firstPosition[winner])) {
        winner = label;
      }
    }

    /** The winning class so far, {@link #NONE} before the first vote. */
    public int winner() {
      return winner;
    }

    /** The vote so far. */
    public Result result() {
      if (winner == NONE) {
        return new Result(NONE, 0.0);
      }
      return new Result(winner, total > 0 ? weightByClass[winner] / total : 0.0);
    }
  }
}
