package io.relabel.spark.hdl;

import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.function.Function;
import org.apache.spark.sql.Row;

/**
 * Streams the groups of a partition sorted by a group column: one group in memory at a time, each handed to a
 * function whose output rows are emitted before the next group is read. This is how a cluster (a top-level cluster,
 * or a leaf with its neighbour's rows) is processed whole on the executor that holds it, without a groupByKey that
 * would materialise every group of the partition.
 */
final class Groups {

  private Groups() {}

  static Iterator<Row> map(Iterator<Row> sorted, int groupField, Function<List<Row>, List<Row>> perGroup) {
    return new Iterator<>() {
      private Row pending = sorted.hasNext() ? sorted.next() : null;
      private Iterator<Row> out = Collections.emptyIterator();

      @Override
      public boolean hasNext() {
        while (!out.hasNext() && pending != null) {
          Object group = pending.get(groupField);
          List<Row> rows = new ArrayList<>();
          while (pending != null && Objects.equals(pending.get(groupField), group)) {
            rows.add(pending);
            pending = sorted.hasNext() ? sorted.next() : null;
          }
          out = perGroup.apply(rows).iterator();
        }
        return out.hasNext();
      }

      @Override
      public Row next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return out.next();
      }
    };
  }
}
