package io.relabel.core.noise;

import java.io.Serializable;
import java.util.Arrays;

/**
 * The exact outcome of a noise plan, known before any row is written (the selections fix every count), so it can
 * be logged, printed and stored next to the table.
 *
 * @param eligible           labeled rows of the noisy split (after a long-tail subsample, when there is one)
 * @param trusted            rows kept clean and marked trusted
 * @param nonTrustedPerClass rows per class among the eligible, non-trusted rows
 * @param noisyPerClass      rows per class among the noisy rows: the non-trusted rows that keep a label (all of
 *                           them unless a labeled share is set)
 * @param flippedPerSource   for pair noise, rows moved away from each class (0 for classes not in the map); for
 *                           symmetric noise, null (the flips are chosen across classes)
 * @param flipped            rows whose label was made wrong
 */
public record NoiseStats(long eligible, long trusted, long[] nonTrustedPerClass, long[] noisyPerClass,
    long[] flippedPerSource, long flipped) implements Serializable {

  /** The rows noise was applied to: non-trusted rows that keep a label. */
  public long noisy() {
    return Arrays.stream(noisyPerClass).sum();
  }

  /** Non-trusted rows whose label the labeled share removed. */
  public long unlabeled() {
    return eligible - trusted - noisy();
  }

  /** Rows of the noisy split that have a label in the output: the noisy rows and the trusted ones. */
  public long labeled() {
    return noisy() + trusted;
  }

  /** The real error rate among the noisy rows. */
  public double realErrorRate() {
    return noisy() == 0 ? 0.0 : (double) flipped / noisy();
  }

  /** The real error rate among every labeled row of the noisy split, the (always right) trusted rows included. */
  public double labeledErrorRate() {
    return labeled() == 0 ? 0.0 : (double) flipped / labeled();
  }
}
