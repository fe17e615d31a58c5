package io.relabel.core.noise;

/**
 * One canonical form and one total order for row ids, shared by every exact selection. The selection compares
 * (hash key, id) pairs on executors and on the driver; both sides must agree on equality and order bit for bit, so
 * integer ids of any width become {@link Long} and compare numerically, and string ids compare as Java strings.
 * Other types (doubles, binary) are refused: their text form is not a stable identity.
 */
public final class RowIds {

  private RowIds() {}

  /** The canonical form of a row id: a {@link Long} for integer types, the {@link String} itself for strings. */
  public static Object normalize(Object id) {
    if (id instanceof Long) {
      return id;
    }
    if (id instanceof Integer || id instanceof Short || id instanceof Byte) {
      return ((Number) id).longValue();
    }
    if (id instanceof String) {
      return id;
    }
    if (id == null) {
      throw new IllegalArgumentException("row id is null");
    }
    throw new IllegalArgumentException("row ids must be integers or strings, got " + id.getClass().getSimpleName()
        + " " + id);
  }

  /** Total order of canonical ids (both of one kind, as they come from one column). */
  public static int compare(Object a, Object b) {
    if (a instanceof Long x && b instanceof Long y) {
      return Long.compare(x, y);
    }
    if (a instanceof String x && b instanceof String y) {
      return x.compareTo(y);
    }
    throw new IllegalArgumentException("cannot compare row ids " + a + " and " + b);
  }

  /** Order of (key, id) pairs: the key as an unsigned 64-bit number, then the id. */
  public static int compareKeyed(long keyA, Object idA, long keyB, Object idB) {
    int c = Long.compareUnsigned(keyA, keyB);
    return c != 0 ? c : compare(idA, idB);
  }
}
