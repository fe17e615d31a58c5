package io.relabel.core.noise;

/**
 * The rows noise may touch, as (canonical id, class index) pairs, readable in several passes. The Spark side
 * implements it over a distributed table, tests over a list; the planning logic only ever sees this interface, so
 * it is tested without Spark and cannot collect the table by accident.
 */
public interface EligibleRows {

  /** Runs one pass; every call must see the same rows. */
  <A> A scan(RowScan<A> scan);
}
