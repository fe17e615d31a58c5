package io.relabel.core.noise;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/** Selection by caller-supplied keys ({@link ExactSelection#select(String, KeyedRows, long[], long[], int)}). */
class ExactSelectionKeyedTest {

  /** Offers held in a list, scanned in chunks that are merged like partitions (by {@link InMemoryRows}). */
  private static final class Offers implements KeyedRows {
    final List<KeyedRow> offers = new ArrayList<>();
    final int chunks;

    Offers(int chunks) {
      this.chunks = chunks;
    }

    @Override
    public <A> A scan(KeyedScan<A> scan) {
      InMemoryRows positions = new InMemoryRows(chunks);
      for (long i = 0; i < offers.size(); i++) {
        positions.add(i, 0);
      }
      return positions.scan(new RowScan<A>() {
        private static final long serialVersionUID = 1L;

        @Override
        public A zero() {
          return scan.zero();
        }

        @Override
        public A add(A acc, Object position, int unused) {
          KeyedRow r = offers.get((int) (long) (Long) position);
          return scan.add(acc, r.group(), r.key(), r.id());
        }

        @Override
        public A merge(A a, A b) {
          return scan.merge(a, b);
        }
      });
    }
  }

  /**
   * n rows, each offered to 1 to 3 of {@code groups} groups. Keys share their high bits a lot: the top 4 bits take
   * 3 values, the next 40 are zero, and the low 20 bits take 8 values, so buckets stay large for many passes and
   * many (key) pairs tie exactly, to be broken by the id.
   */
  private static Offers offers(int n, int groups, int chunks, long seed) {
    Random rnd = new Random(seed);
    Offers o = new Offers(chunks);
    for (int i = 0; i < n; i++) {
      Object id = i % 5 == 0 ? (Object) ("s" + i) : (Object) (long) (i * 7 + 3);
      int first = rnd.nextInt(groups);
      int count = 1 + rnd.nextInt(Math.min(3, groups));
      for (int m = 0; m < count; m++) {
        int g = (first + m) % groups;
        long key = ((long) rnd.nextInt(3) << 60) | (rnd.nextInt(8) * 0x1_0001L);
        o.offers.add(new KeyedRow(g, key, id));
      }
    }
    return o;
  }

  /** Ids of mixed kinds are not comparable; the test keeps string and long ids in separate groups. */
  private static Offers split(Offers o) {
    Offers out = new Offers(o.chunks);
    for (KeyedRow r : o.offers) {
      out.offers.add(new KeyedRow(r.group() * 2 + (r.id() instanceof String ? 1 : 0), r.key(), r.id()));
    }
    return out;
  }

  private static long[] sizes(Offers o, int groups) {
    long[] s = new long[groups];
    for (KeyedRow r : o.offers) {
      s[r.group()]++;
    }
    return s;
  }

  /** The k smallest (key, id) offers of each group by sorting. */
  private static List<TreeSet<String>> bruteForce(Offers o, long[] ks) {
    List<TreeSet<String>> out = new ArrayList<>();
    for (int g = 0; g < ks.length; g++) {
      List<KeyedRow> in = new ArrayList<>();
      for (KeyedRow r : o.offers) {
        if (r.group() == g) {
          in.add(r);
        }
      }
      in.sort(null);
      TreeSet<String> sel = new TreeSet<>();
      for (int i = 0; i < ks[g]; i++) {
        sel.add(String.valueOf(in.get(i).id()));
      }
      out.add(sel);
    }
    return out;
  }

  private static List<TreeSet<String>> selected(Offers o, Threshold[] t) {
    List<TreeSet<String>> out = new ArrayList<>();
    for (int g = 0; g < t.length; g++) {
      out.add(new TreeSet<>());
    }
    for (KeyedRow r : o.offers) {
      if (t[r.group()].selects(r.key(), r.id())) {
        out.get(r.group()).add(String.valueOf(r.id()));
      }
    }
    return out;
  }

  @Test
  void equalsABruteForceSortWithTiedHighBitsAndRowsInSeveralGroups() {
    int groups = 4;
    for (int limit : new int[] {1, 7, 64, 100000}) {
      for (int chunks : new int[] {1, 4}) {
        Offers o = split(offers(3000, groups, chunks, 11));
        long[] sizes = sizes(o, 2 * groups);
        long[] ks = new long[sizes.length];
        for (int g = 0; g < ks.length; g++) {
          ks[g] = new long[] {0, 1, sizes[g] / 3, sizes[g] - 1, sizes[g], 2}[g % 6];
        }
        Threshold[] t = ExactSelection.select("keyed test", o, sizes, ks, limit);
        assertEquals(bruteForce(o, ks), selected(o, t), "limit " + limit + ", chunks " + chunks);
        for (int g = 0; g < ks.length; g++) {
          assertEquals(ks[g], selected(o, t).get(g).size());
        }
      }
    }
  }

  @Test
  void everyKOfOneGroupWithManyExactTies() {
    Offers o = new Offers(3);
    for (long id = 0; id < 300; id++) {
      // three distinct keys only (the last negative as a signed long): ties are decided by the id alone
      o.offers.add(new KeyedRow(0, new long[] {0L, 1L << 62, 3L << 62}[(int) (id % 3)], id));
    }
    for (long k = 0; k <= 300; k += 13) {
      Threshold[] t = ExactSelection.select(o, new long[] {300}, new long[] {k}, 5);
      assertEquals(bruteForce(o, new long[] {k}), selected(o, t), "k " + k);
    }
  }

  @Test
  void unsignedKeyOrder() {
    Offers o = new Offers(2);
    o.offers.add(new KeyedRow(0, -1L, 1L));
    o.offers.add(new KeyedRow(0, Long.MIN_VALUE, 2L));
    o.offers.add(new KeyedRow(0, 5L, 3L));
    o.offers.add(new KeyedRow(0, Long.MAX_VALUE, 4L));
    Threshold t = ExactSelection.select(o, new long[] {4}, new long[] {2}, 1)[0];
    assertEquals(List.of(new TreeSet<>(List.of("3", "4"))), selected(o, new Threshold[] {t}));
  }

  @Test
  void offersThatChangeBetweenPassesAreRefusedUnderTheGivenName() {
    Offers o = new Offers(1);
    for (long id = 0; id < 10; id++) {
      o.offers.add(new KeyedRow(0, id, id));
    }
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> ExactSelection.select("cl.prune", o, new long[] {9}, new long[] {3}, 100));
    assertEquals("exact selection 'cl.prune', group 0: a pass found 10 rows where the previous one counted 9; the"
        + " input must give the same rows on every read (write or cache a non-deterministic input first)",
        e.getMessage());
  }
}
