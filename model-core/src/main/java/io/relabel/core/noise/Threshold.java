package io.relabel.core.noise;

import java.io.Serializable;

/**
 * The outcome of an exact selection for one group, reduced to a rule every executor can apply to its own rows:
 * a row is selected when its (key, id) pair is at most the pair of the k-th smallest row. Shipping this one pair
 * instead of a list of selected ids keeps the selection independent of table size.
 */
public final class Threshold implements Serializable {

  private static final long serialVersionUID = 1L;

  private enum Kind { NONE, ALL, UP_TO }

  private static final Threshold NONE = new Threshold(Kind.NONE, 0, null);
  private static final Threshold ALL = new Threshold(Kind.ALL, 0, null);

  private final Kind kind;
  private final long key;
  private final Object id;

  private Threshold(Kind kind, long key, Object id) {
    this.kind = kind;
    this.key = key;
    this.id = id;
  }

  /** Selects no row. */
  public static Threshold none() {
    return NONE;
  }

  /** Selects every row of the group. */
  public static Threshold all() {
    return ALL;
  }

  /** Selects the rows whose (key, id) is at most ({@code key}, {@code id}). */
  public static Threshold upTo(long key, Object id) {
    return new Threshold(Kind.UP_TO, key, id);
  }

  public boolean selects(long rowKey, Object rowId) {
    return switch (kind) {
      case NONE -> false;
      case ALL -> true;
      case UP_TO -> RowIds.compareKeyed(rowKey, rowId, key, id) <= 0;
    };
  }

  @Override
  public String toString() {
    return switch (kind) {
      case NONE -> "none";
      case ALL -> "all";
      case UP_TO -> "up to (" + Long.toUnsignedString(key, 16) + ", " + id + ")";
    };
  }
}
