package io.relabel.core.noise;

import java.io.Serializable;

/**
 * A row as an exact selection sees it: its group, its hash key and its canonical id. Only rows in a final,
 * small candidate bucket ever travel to the driver in this form. A plain class rather than a record so that Spark's
 * Kryo serializer can rebuild it (Java forbids setting a record's final fields reflectively).
 */
public final class KeyedRow implements Serializable, Comparable<KeyedRow> {

  private static final long serialVersionUID = 1L;

  private int group;
  private long key;
  private Object id;

  public KeyedRow(int group, long key, Object id) {
    this.group = group;
    this.key = key;
    this.id = id;
  }

  public int group() {
    return group;
  }

  public long key() {
    return key;
  }

  public Object id() {
    return id;
  }

  @Override
  public int compareTo(KeyedRow o) {
    return RowIds.compareKeyed(key, id, o.key, o.id);
  }

  @Override
  public String toString() {
    return "KeyedRow[group=" + group + ", key=" + Long.toUnsignedString(key, 16) + ", id=" + id + "]";
  }
}
