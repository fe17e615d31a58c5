package io.relabel.core.noise;

import java.io.Serializable;

/**
 * One pass over the eligible rows, written as a fold that can run per partition and be merged: the shape that lets
 * the same counting and selection code run on a list in a unit test and on a Spark table without collecting it.
 *
 * @param <A> the accumulator; it must be serializable and small (counts, histograms, a bounded candidate list)
 */
public interface RowScan<A> extends Serializable {

  A zero();

  /** Adds one row, given by its canonical id and its class index; may update and return {@code acc}. */
  A add(A acc, Object id, int cls);

  /** Combines two partial results; may update and return either. */
  A merge(A a, A b);
}
