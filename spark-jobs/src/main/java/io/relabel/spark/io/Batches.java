package io.relabel.spark.io;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.Function;

/**
 * Reads an iterator {@code size} items at a time and yields what {@code map} makes of each such batch: how a
 * partition is fed to a model (encoders, scoring, kNN) in batches without holding the partition in memory.
 */
public final class Batches<T, R> implements Iterator<R> {
  private final Iterator<T> in;
  private final int size;
  private final Function<List<T>, List<R>> map;
  private Iterator<R> current = Collections.emptyIterator();

  public Batches(Iterator<T> in, int size, Function<List<T>, List<R>> map) {
    this.in = in;
    this.size = size;
    this.map = map;
  }

  @Override
  public boolean hasNext() {
    while (!current.hasNext() && in.hasNext()) {
      List<T> batch = new ArrayList<>(size);
      while (in.hasNext() && batch.size() < size) {
        batch.add(in.next());
      }
      current = map.apply(batch).iterator();
    }
    return current.hasNext();
  }

  @Override
  public R next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    return current.next();
  }
}
