package io.relabel.core.cl;

import io.relabel.core.noise.InMemoryRows;
import io.relabel.core.noise.RowIds;
import io.relabel.core.noise.RowScan;
import java.util.HashMap;
import java.util.Map;

/**
 * Scored rows held in memory, for unit tests and small local tables: an {@link InMemoryRows} of (id, given label)
 * with the probabilities beside it, so each pass is split into chunks whose partial results are merged the way a
 * partitioned table's are. Row ids must be unique.
 */
public final class InMemoryScoredRows implements ScoredRows {

  private final InMemoryRows rows;
  private final Map<Object, float[]> probs = new HashMap<>();

  /** @param chunks how many pieces each pass is split into (like partitions) */
  public InMemoryScoredRows(int chunks) {
    rows = new InMemoryRows(chunks);
  }

  public InMemoryScoredRows add(Object id, float[] p, int label) {
    Object key = RowIds.normalize(id);
    if (probs.putIfAbsent(key, p.clone()) != null) {
      throw new IllegalArgumentException("row id " + key + " is there already");
    }
    rows.add(key, label);
    return this;
  }

  public int size() {
    return rows.size();
  }

  @Override
  public <A> A scan(ScoredScan<A> scan) {
    return rows.scan(new RowScan<A>() {
      private static final long serialVersionUID = 1L;

      @Override
      public A zero() {
        return scan.zero();
      }

      @Override
      public A add(A acc, Object id, int cls) {
        return scan.add(acc, id, probs.get(id), cls);
      }

      @Override
      public A merge(A a, A b) {
        return scan.merge(a, b);
      }
    });
  }
}
