package io.relabel.core.noise;

/**
 * Rows offered to an exact selection with keys their caller chose, readable in several passes: the general form of
 * {@link EligibleRows}, whose rows {@link ExactSelection} keys by a hash of their id. A pass may offer one row to
 * several groups, each with its own key (confident learning offers a row labeled i to every group (i, j), j != i,
 * keyed by its margin for j).
 */
public interface KeyedRows {

  /** Runs one pass; every call must offer the same (group, key, id) triples. */
  <A> A scan(KeyedScan<A> scan);
}
