package io.relabel.core.noise;

/**
 * The rows noise may touch, as (canonical id, class index) pairs, readable in several passes. The Spark side
 * implements it over a distributed table, tests over a list; the planning logic only ever sees this interface, so
 * it is tested without Spark and cannot collect the table by accident.
 */
public interface EligibleRows {

  /** Runs one pass; every call must see the same rows. */
  <A> A scan(RowScan<A> scan);

  /**
   * The rows {@code keep} accepts, as a view: each pass still reads the underlying rows and drops the others as it
   * goes. This is how a later draw sees only the rows an earlier one kept (the long-tail subsample) without the
   * table being rewritten in between.
   */
  default EligibleRows where(RowTest keep) {
    EligibleRows base = this;
    return new EligibleRows() {
      @Override
      public <A> A scan(RowScan<A> scan) {
        return base.scan(new FilteredScan<>(scan, keep));
      }
    };
  }
}
