package io.relabel.core.cl;

import io.relabel.core.noise.RowIds;
import java.util.ArrayList;
import java.util.List;

/**
 * Scored rows held in a list, for unit tests and small local tables. Each pass is split into chunks whose partial
 * results are merged, so tests exercise {@link ScoredScan#merge} the way a partitioned table does.
 */
public final class InMemoryScoredRows implements ScoredRows {

  private final List<Object> ids = new ArrayList<>();
  private final List<float[]> probs = new ArrayList<>();
  private final List<Integer> given = new ArrayList<>();
  private final int chunks;

  /** @param chunks how many pieces each pass is split into (like partitions) */
  public InMemoryScoredRows(int chunks) {
    if (chunks < 1) {
      throw new IllegalArgumentException("chunks must be positive: " + chunks);
    }
    this.chunks = chunks;
  }

  public InMemoryScoredRows add(Object id, float[] p, int label) {
    ids.add(RowIds.normalize(id));
    probs.add(p.clone());
    given.add(label);
    return this;
  }

  public int size() {
    return ids.size();
  }

  @Override
  public <A> A scan(ScoredScan<A> scan) {
    A total = scan.zero();
    int n = ids.size();
    for (int c = 0; c < chunks; c++) {
      A part = scan.zero();
      for (int i = (int) ((long) n * c / chunks); i < (int) ((long) n * (c + 1) / chunks); i++) {
        part = scan.add(part, ids.get(i), probs.get(i), given.get(i));
      }
      total = scan.merge(total, part);
    }
    return total;
  }
}
