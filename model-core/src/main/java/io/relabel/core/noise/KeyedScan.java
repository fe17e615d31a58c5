package io.relabel.core.noise;

import java.io.Serializable;

/**
 * One pass over {@link KeyedRows}, written as a fold that can run per partition and be merged.
 *
 * @param <A> the accumulator; it must be serializable and small (histograms, a bounded candidate list)
 */
public interface KeyedScan<A> extends Serializable {

  A zero();

  /**
   * Adds one offer of a row: the group it is offered to, its key in that group (ascending key order is selection
   * order) and its canonical id (see {@link RowIds}); may update and return {@code acc}.
   */
  A add(A acc, int group, long key, Object id);

  /** Combines two partial results; may update and return either. */
  A merge(A a, A b);
}
