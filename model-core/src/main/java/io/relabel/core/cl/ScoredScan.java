package io.relabel.core.cl;

import java.io.Serializable;

/**
 * One pass over {@link ScoredRows}, written as a fold that can run per partition and be merged.
 *
 * @param <A> the accumulator; it must be serializable and small (counts, sums, histograms)
 */
public interface ScoredScan<A> extends Serializable {

  A zero();

  /**
   * Adds one row: its canonical id (see {@link io.relabel.core.noise.RowIds}), its out-of-fold predicted
   * probabilities p (one per class) and the index of its given label; may update and return {@code acc}.
   */
  A add(A acc, Object id, float[] p, int given);

  /** Combines two partial results; may update and return either. */
  A merge(A a, A b);
}
