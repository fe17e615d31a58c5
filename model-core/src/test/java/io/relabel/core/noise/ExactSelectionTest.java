package io.relabel.core.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExactSelectionTest {

  private static final long SEED = 7;

  private static InMemoryRows rows(int n, int chunks) {
    InMemoryRows r = new InMemoryRows(chunks);
    for (int i = 0; i < n; i++) {
      r.add((long) i * 3 + 1, i % 4);
    }
    return r;
  }

  /** The k smallest (key, id) pairs by brute force. */
  private static List<Long> bruteForce(int n, int k, String stage) {
    List<KeyedRow> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long id = (long) i * 3 + 1;
      all.add(new KeyedRow(0, ExactSelection.key(SEED, stage, id), id));
    }
    all.sort(null);
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < k; i++) {
      ids.add((Long) all.get(i).id());
    }
    ids.sort(null);
    return ids;
  }

  private static List<Long> selected(Threshold t, int n, String stage) {
    List<Long> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      long id = (long) i * 3 + 1;
      if (t.selects(ExactSelection.key(SEED, stage, id), id)) {
        ids.add(id);
      }
    }
    return ids;
  }

  @Test
  void selectsExactlyTheKSmallestWhateverTheCandidateLimit() {
    int n = 5000;
    for (int limit : new int[] {1, 3, 50, 4096, 100000}) {
      for (int k : new int[] {0, 1, 2, 1234, 4999, 5000}) {
        Threshold t = ExactSelection.select(rows(n, 5), (id, cls) -> 0, SEED, "s", new long[] {n},
            new long[] {k}, limit)[0];
        assertEquals(bruteForce(n, k, "s"), selected(t, n, "s"), "limit " + limit + ", k " + k);
      }
    }
  }

  @Test
  void groupsAreSelectedIndependently() {
    int n = 4000;
    long[] sizes = {1000, 1000, 1000, 1000};
    long[] ks = {0, 17, 500, 1000};
    Threshold[] t = ExactSelection.select(rows(n, 3), (id, cls) -> cls, SEED, "g", sizes, ks, 10);
    long[] counts = new long[4];
    for (int i = 0; i < n; i++) {
      long id = (long) i * 3 + 1;
      int g = i % 4;
      if (t[g].selects(ExactSelection.key(SEED, "g", id), id)) {
        counts[g]++;
      }
    }
    assertEquals(List.of(0L, 17L, 500L, 1000L), List.of(counts[0], counts[1], counts[2], counts[3]));
  }

  @Test
  void rowsOutsideEveryGroupAreIgnored() {
    int n = 3000;
    Threshold t = ExactSelection.select(rows(n, 2), (id, cls) -> cls == 1 ? 0 : -1, SEED, "h", new long[] {750},
        new long[] {300}, 8)[0];
    int count = 0;
    for (int i = 1; i < n; i += 4) {
      long id = (long) i * 3 + 1;
      if (t.selects(ExactSelection.key(SEED, "h", id), id)) {
        count++;
      }
    }
    assertEquals(300, count);
  }

  @Test
  void partitioningDoesNotMatter() {
    int n = 2000;
    Threshold a = ExactSelection.select(rows(n, 1), (id, cls) -> 0, SEED, "p", new long[] {n}, new long[] {777},
        16)[0];
    Threshold b = ExactSelection.select(rows(n, 9), (id, cls) -> 0, SEED, "p", new long[] {n}, new long[] {777},
        16)[0];
    assertEquals(selected(a, n, "p"), selected(b, n, "p"));
  }

  @Test
  void stringIdsWork() {
    InMemoryRows r = new InMemoryRows(3);
    for (int i = 0; i < 500; i++) {
      r.add("row-" + i, 0);
    }
    Threshold t = ExactSelection.select(r, (id, cls) -> 0, SEED, "str", new long[] {500}, new long[] {123}, 4)[0];
    int count = 0;
    for (int i = 0; i < 500; i++) {
      String id = "row-" + i;
      if (t.selects(ExactSelection.key(SEED, "str", id), id)) {
        count++;
      }
    }
    assertEquals(123, count);
  }

  @Test
  void inputThatChangesBetweenPassesIsRefused() {
    EligibleRows unstable = new EligibleRows() {
      private int calls;

      @Override
      public <A> A scan(RowScan<A> scan) {
        A acc = scan.zero();
        int n = 100 + ++calls;
        for (int i = 0; i < n; i++) {
          acc = scan.add(acc, (long) i, 0);
        }
        return acc;
      }
    };
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> ExactSelection.select(unstable, (id, cls) -> 0, SEED, "u", new long[] {100}, new long[] {10}, 1000));
    assertEquals("exact selection 'u', group 0: a pass found 101 rows where the previous one counted 100; the"
        + " input must give the same rows on every read (write or cache a non-deterministic input first)",
        e.getMessage());
  }

  @Test
  void badCountsAreRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ExactSelection.select(rows(10, 1), (id, cls) -> 0, SEED, "x", new long[] {10}, new long[] {11}, 5));
    assertEquals("group 0: cannot select 11 of 10 rows", e.getMessage());
  }

  @Test
  void histogramWidthShrinksWithManyGroups() {
    assertEquals(12, ExactSelection.stepBits(1));
    assertEquals(12, ExactSelection.stepBits(256));
    assertEquals(11, ExactSelection.stepBits(257));
    assertEquals(4, ExactSelection.stepBits(1 << 20));
  }
}
