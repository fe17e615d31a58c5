package io.relabel.core.cl;

/**
 * The rows confident learning reads, as (canonical id, predicted probabilities, given label), readable in several
 * passes. The Spark side implements it over a table, tests over a list ({@link InMemoryScoredRows}); the method only
 * ever sees this interface, so it is tested without Spark and cannot collect the table by accident.
 */
public interface ScoredRows {

  /** Runs one pass; every call must see the same rows. */
  <A> A scan(ScoredScan<A> scan);
}
