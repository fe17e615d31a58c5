package io.relabel.core.noise;

/** Rows per class index, optionally only those a {@link RowTest} accepts: the first pass of every draw. */
final class ClassCounts implements RowScan<long[]> {

  private static final long serialVersionUID = 1L;
  private final int numClasses;
  private final RowTest counted;

  /** @param counted which rows to count; null counts every row */
  ClassCounts(int numClasses, RowTest counted) {
    this.numClasses = numClasses;
    this.counted = counted;
  }

  @Override
  public long[] zero() {
    return new long[numClasses];
  }

  @Override
  public long[] add(long[] acc, Object id, int cls) {
    if (cls < 0 || cls >= numClasses) {
      throw new IllegalArgumentException("class index " + cls + " of row " + id + " is outside [0, "
          + numClasses + ")");
    }
    if (counted == null || counted.test(id, cls)) {
      acc[cls]++;
    }
    return acc;
  }

  @Override
  public long[] merge(long[] a, long[] b) {
    for (int i = 0; i < a.length; i++) {
      a[i] += b[i];
    }
    return a;
  }
}
