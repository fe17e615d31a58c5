package io.relabel.core.noise;

/** A pass that hands only the rows a {@link RowTest} accepts on to another pass (see {@link EligibleRows#where}). */
final class FilteredScan<A> implements RowScan<A> {

  private static final long serialVersionUID = 1L;
  private final RowScan<A> inner;
  private final RowTest keep;

  FilteredScan(RowScan<A> inner, RowTest keep) {
    this.inner = inner;
    this.keep = keep;
  }

  @Override
  public A zero() {
    return inner.zero();
  }

  @Override
  public A add(A acc, Object id, int cls) {
    return keep.test(id, cls) ? inner.add(acc, id, cls) : acc;
  }

  @Override
  public A merge(A a, A b) {
    return inner.merge(a, b);
  }
}
