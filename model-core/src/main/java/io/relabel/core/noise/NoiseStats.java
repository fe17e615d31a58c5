package io.relabel.core.noise;

import java.io.Serializable;

/**
 * The exact outcome of a noise plan, known before any row is written (the selections fix every count), so it can
 * be logged, printed and stored next to the table.
 *
 * @param eligible         labeled rows of the noisy split
 * @param trusted          rows kept clean and marked trusted
 * @param noisyPerClass    rows per class among the eligible, non-trusted rows
 * @param flippedPerSource for pair noise, rows moved away from each class (0 for classes not in the map); for
 *                         symmetric noise, null (the flips are chosen across classes)
 * @param flipped          rows whose label was made wrong
 */
public record NoiseStats(long eligible, long trusted, long[] noisyPerClass, long[] flippedPerSource, long flipped)
    implements Serializable {

  /** Eligible rows that were not kept trusted: the rows noise was applied to. */
  public long noisy() {
    return eligible - trusted;
  }

  /** The real error rate among the noisy rows. */
  public double realErrorRate() {
    return noisy() == 0 ? 0.0 : (double) flipped / noisy();
  }
}
