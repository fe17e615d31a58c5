package io.relabel.core.noise;

import java.util.ArrayList;
import java.util.List;
import java.util.function.LongToIntFunction;

/**
 * Eligible rows held in a list, for unit tests and small local tables. It splits the list into chunks and merges
 * their partial results, so tests exercise {@link RowScan#merge} the way a partitioned table does.
 */
public final class InMemoryRows implements EligibleRows {

  private final List<Object> ids = new ArrayList<>();
  private final List<Integer> classes = new ArrayList<>();
  private final int chunks;

  /** @param chunks how many pieces each pass is split into (like partitions) */
  public InMemoryRows(int chunks) {
    if (chunks < 1) {
      throw new IllegalArgumentException("chunks must be positive: " + chunks);
    }
    this.chunks = chunks;
  }

  /** Rows with the given ids, each in class {@code classOf(id)}, in the given order. */
  public static InMemoryRows of(Iterable<Long> ids, LongToIntFunction classOf, int chunks) {
    InMemoryRows r = new InMemoryRows(chunks);
    for (long id : ids) {
      r.add(id, classOf.applyAsInt(id));
    }
    return r;
  }

  public InMemoryRows add(Object id, int cls) {
    ids.add(RowIds.normalize(id));
    classes.add(cls);
    return this;
  }

  public int size() {
    return ids.size();
  }

  @Override
  public <A> A scan(RowScan<A> scan) {
    A total = scan.zero();
    int n = ids.size();
    for (int c = 0; c < chunks; c++) {
      A part = scan.zero();
      for (int i = (int) ((long) n * c / chunks); i < (int) ((long) n * (c + 1) / chunks); i++) {
        part = scan.add(part, ids.get(i), classes.get(i));
      }
      total = scan.merge(total, part);
    }
    return total;
  }
}
