package io.relabel.core.cl;

import io.relabel.core.noise.Threshold;
import java.io.Serializable;

/**
 * The outcome of pruning by noise rate, as a rule each executor applies to its own rows: for every pair (i, j),
 * j != i, with rows to prune, the {@link Threshold} on the selection key of margin p_j - p_i that admits exactly
 * prune[i][j] rows labeled i. A plain serializable class (not a record), so Spark's Kryo serializer can rebuild it.
 */
public final class PruneRule implements Serializable {

  private static final long serialVersionUID = 1L;

  private final int classes;
  /** Per group g = i * classes + j: whether any row is pruned, and the threshold that says which. */
  private final boolean[] active;
  private final Threshold[] thresholds;

  PruneRule(long[][] pruneCounts, Threshold[] thresholds) {
    this.classes = pruneCounts.length;
    this.active = new boolean[classes * classes];
    for (int i = 0; i < classes; i++) {
      for (int j = 0; j < classes; j++) {
        active[i * classes + j] = pruneCounts[i][j] > 0;
      }
    }
    this.thresholds = thresholds.clone();
  }

  /**
   * The issue class of a row labeled {@code given}: among the classes j whose selection flags the row, the one with
   * the largest margin p_j - p_given (ties: the lower j); -1 when no selection flags it (the label is kept).
   */
  public int issueClass(Object id, float[] p, int given) {
    int best = -1;
    float bestMargin = 0;
    long tie = -1; // the id's tie bits, in [0, 2^32) once computed (only for a row some selection may flag)
    for (int j = 0; j < classes; j++) {
      int g = given * classes + j;
      if (j == given || !active[g]) {
        continue;
      }
      if (tie < 0) {
        tie = ConfidentLearning.tieBits(id);
      }
      float m = ConfidentLearning.margin(p, given, j);
      if (thresholds[g].selects(ConfidentLearning.selectionKey(m, tie), id) && (best < 0 || m > bestMargin)) {
        best = j;
        bestMargin = m;
      }
    }
    return best;
  }
}
