package io.relabel.core.noise;

import io.relabel.core.util.RowSeeds;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks exactly k rows per group: the k with the smallest (key, id). For noise injection and splits the key is a
 * pure function of (seed, stage, row id); callers with a ranking of their own (confident learning ranks by margin)
 * supply the keys through {@link KeyedRows}. Either way the choice depends on the rows alone, never on how they are
 * partitioned or ordered.
 *
 * <p>Why not a per-row coin flip: a Bernoulli(rate) draw gives the requested error rate only on average, and
 * evaluation of label cleaning needs the real rate to be exactly the stated one. Why not a sort: sorting a wide table
 * moves every feature vector across the network. Instead this is a distributed radix select on the 64-bit key:
 * each pass counts the rows of the still-undecided bucket by the next 12 key bits (a histogram of a few thousand
 * counts per group, merged across partitions), the driver walks the cumulative counts to the bucket holding the k-th
 * row, and once that bucket is small (at most {@code candidateLimit} rows) its (key, id) pairs are gathered and
 * sorted. Hash keys are uniform, so a table of n rows needs about log_4096(n / limit) + 1 passes, each reading only
 * the id and label columns; clustered caller keys need more passes (at most 64 / 12 refinements), never more memory.
 * The outcome is one {@link Threshold} per group.
 */
public final class ExactSelection {

  /** Largest bucket whose rows are gathered to the driver to be ranked exactly. */
  public static final int DEFAULT_CANDIDATE_LIMIT = 4096;

  private static final Logger LOG = LoggerFactory.getLogger(ExactSelection.class);

  private ExactSelection() {}

  /** The group a row belongs to in one selection, or -1 when it takes no part. */
  public interface Grouping extends Serializable {
    int group(Object id, int cls);
  }

  /** The hash key by which rows are ranked in {@code stage}. */
  public static long key(long seed, String stage, Object id) {
    return RowSeeds.bits(seed, stage, id, 0);
  }

  /**
   * Selects exactly {@code ks[g]} of the {@code sizes[g]} rows of each group g, ranked by their hash key
   * {@link #key(long, String, Object)} in {@code stage}.
   *
   * @param sizes          rows per group, as counted by an earlier pass over the same rows
   * @param ks             rows to select per group, each in [0, sizes[g]]
   * @param candidateLimit largest bucket gathered to the driver (at least 1)
   * @return one threshold per group, applied to {@code key(seed, stage, id)}
   * @throws IllegalStateException when the rows differ between passes (a non-deterministic input)
   */
  public static Threshold[] select(EligibleRows rows, Grouping grouping, long seed, String stage, long[] sizes,
      long[] ks, int candidateLimit) {
    return select(stage, new HashKeyedRows(rows, grouping, seed, stage), sizes, ks, candidateLimit);
  }

  /** {@link #select(String, KeyedRows, long[], long[], int)} under the name "keyed rows". */
  public static Threshold[] select(KeyedRows rows, long[] sizes, long[] ks, int candidateLimit) {
    return select("keyed rows", rows, sizes, ks, candidateLimit);
  }

  /**
   * Selects exactly {@code ks[g]} of the {@code sizes[g]} rows offered to each group g: those whose (key, id) is at
   * most the k-th smallest, keys compared as unsigned 64-bit numbers, ids by {@link RowIds#compare}.
   *
   * @param name           what is selected, for log lines and messages
   * @param sizes          rows offered per group, as counted by an earlier pass over the same rows
   * @param ks             rows to select per group, each in [0, sizes[g]]
   * @param candidateLimit largest bucket gathered to the driver (at least 1)
   * @return one threshold per group, applied to the key the row was offered with
   * @throws IllegalStateException when the rows differ between passes (a non-deterministic input)
   */
  public static Threshold[] select(String name, KeyedRows rows, long[] sizes, long[] ks, int candidateLimit) {
    int groups = sizes.length;
    if (ks.length != groups) {
      throw new IllegalArgumentException("sizes and ks differ in length: " + groups + " vs " + ks.length);
    }
    if (candidateLimit < 1) {
      throw new IllegalArgumentException("candidateLimit must be positive: " + candidateLimit);
    }
    Threshold[] out = new Threshold[groups];
    long[] prefix = new long[groups];
    int[] prefixBits = new int[groups];
    long[] rank = ks.clone();
    long[] bucketSize = sizes.clone();
    boolean[] open = new boolean[groups];
    for (int g = 0; g < groups; g++) {
      if (ks[g] < 0 || ks[g] > sizes[g]) {
        throw new IllegalArgumentException("group " + g + ": cannot select " + ks[g] + " of " + sizes[g] + " rows");
      }
      if (ks[g] == 0) {
        out[g] = Threshold.none();
      } else if (ks[g] == sizes[g]) {
        out[g] = Threshold.all();
      } else {
        open[g] = true;
      }
    }
    int passes = 0;
    while (anyTrue(open)) {
      boolean[] gather = new boolean[groups];
      boolean[] refine = new boolean[groups];
      int refining = 0;
      for (int g = 0; g < groups; g++) {
        if (open[g]) {
          if (bucketSize[g] <= candidateLimit || prefixBits[g] == 64) {
            gather[g] = true;
          } else {
            refine[g] = true;
            refining++;
          }
        }
      }
      if (anyTrue(gather)) {
        Probe probe = new Probe(prefix.clone(), prefixBits.clone(), new int[groups], gather);
        List<KeyedRow> found = rows.scan(new CandidateScan(probe));
        passes++;
        List<List<KeyedRow>> byGroup = new ArrayList<>();
        for (int g = 0; g < groups; g++) {
          byGroup.add(new ArrayList<>());
        }
        for (KeyedRow r : found) {
          byGroup.get(r.group()).add(r);
        }
        for (int g = 0; g < groups; g++) {
          if (gather[g]) {
            List<KeyedRow> c = byGroup.get(g);
            checkSame(name, g, bucketSize[g], c.size());
            c.sort(null);
            KeyedRow kth = c.get((int) rank[g] - 1);
            out[g] = Threshold.upTo(kth.key(), kth.id());
            open[g] = false;
          }
        }
      }
      if (refining > 0) {
        int step = stepBits(refining);
        int[] steps = new int[groups];
        for (int g = 0; g < groups; g++) {
          if (refine[g]) {
            steps[g] = Math.min(step, 64 - prefixBits[g]);
          }
        }
        Probe probe = new Probe(prefix.clone(), prefixBits.clone(), steps, refine);
        long[][] hist = rows.scan(new HistogramScan(probe));
        passes++;
        for (int g = 0; g < groups; g++) {
          if (!refine[g]) {
            continue;
          }
          long[] h = hist[g];
          checkSame(name, g, bucketSize[g], Arrays.stream(h).sum());
          long before = 0;
          int b = 0;
          while (before + h[b] < rank[g]) {
            before += h[b];
            b++;
          }
          prefix[g] = (prefix[g] << steps[g]) | b;
          prefixBits[g] += steps[g];
          rank[g] -= before;
          bucketSize[g] = h[b];
        }
      }
    }
    LOG.debug("exact selection '{}': {} groups, {} passes, thresholds {}", name, groups, passes,
        Arrays.toString(out));
    return out;
  }

  private static void checkSame(String name, int group, long expected, long found) {
    if (expected != found) {
      throw new IllegalStateException("exact selection '" + name + "', group " + group + ": a pass found " + found
          + " rows where the previous one counted " + expected + "; the input must give the same rows on every"
          + " read (write or cache a non-deterministic input first)");
    }
  }

  /** Histogram width: 12 bits, fewer when many groups are refined at once (about a million counts in all). */
  static int stepBits(int groups) {
    int log2 = 32 - Integer.numberOfLeadingZeros(Math.max(1, groups) - 1);
    return Math.max(4, Math.min(12, 20 - log2));
  }

  private static boolean anyTrue(boolean[] a) {
    for (boolean b : a) {
      if (b) {
        return true;
      }
    }
    return false;
  }

  /** Which rows a pass looks at (those in each active group's current bucket) and how it buckets them. */
  static final class Probe implements Serializable {
    private static final long serialVersionUID = 1L;
    final long[] prefix;
    final int[] prefixBits;
    final int[] steps;
    final boolean[] active;

    Probe(long[] prefix, int[] prefixBits, int[] steps, boolean[] active) {
      this.prefix = prefix;
      this.prefixBits = prefixBits;
      this.steps = steps;
      this.active = active;
    }

    boolean inBucket(int g, long key) {
      if (g < 0 || g >= active.length || !active[g]) {
        return false;
      }
      int bits = prefixBits[g];
      return bits == 0 || (key >>> (64 - bits)) == prefix[g];
    }

    /** The sub-bucket of a key inside its group's current bucket. */
    int subBucket(int g, long key) {
      return (int) ((key << prefixBits[g]) >>> (64 - steps[g]));
    }
  }

  /** Hash-keyed rows: each row of its group, keyed by {@link #key(long, String, Object)}. */
  private static final class HashKeyedRows implements KeyedRows {
    private final EligibleRows rows;
    private final Grouping grouping;
    private final long seed;
    private final String stage;

    HashKeyedRows(EligibleRows rows, Grouping grouping, long seed, String stage) {
      this.rows = rows;
      this.grouping = grouping;
      this.seed = seed;
      this.stage = stage;
    }

    @Override
    public <A> A scan(KeyedScan<A> scan) {
      return rows.scan(new HashKeyedScan<>(scan, grouping, seed, stage));
    }
  }

  /** Offers each row to its group with its hash key. */
  private static final class HashKeyedScan<A> implements RowScan<A> {
    private static final long serialVersionUID = 1L;
    private final KeyedScan<A> inner;
    private final Grouping grouping;
    private final long seed;
    private final String stage;

    HashKeyedScan(KeyedScan<A> inner, Grouping grouping, long seed, String stage) {
      this.inner = inner;
      this.grouping = grouping;
      this.seed = seed;
      this.stage = stage;
    }

    @Override
    public A zero() {
      return inner.zero();
    }

    @Override
    public A add(A acc, Object id, int cls) {
      int g = grouping.group(id, cls);
      return g < 0 ? acc : inner.add(acc, g, key(seed, stage, id), id);
    }

    @Override
    public A merge(A a, A b) {
      return inner.merge(a, b);
    }
  }

  /** Counts the rows of each active bucket by the next key bits. */
  static final class HistogramScan implements KeyedScan<long[][]> {
    private static final long serialVersionUID = 1L;
    private final Probe probe;

    HistogramScan(Probe probe) {
      this.probe = probe;
    }

    @Override
    public long[][] zero() {
      long[][] h = new long[probe.active.length][];
      for (int g = 0; g < h.length; g++) {
        if (probe.active[g]) {
          h[g] = new long[1 << probe.steps[g]];
        }
      }
      return h;
    }

    @Override
    public long[][] add(long[][] acc, int group, long key, Object id) {
      if (probe.inBucket(group, key)) {
        acc[group][probe.subBucket(group, key)]++;
      }
      return acc;
    }

    @Override
    public long[][] merge(long[][] a, long[][] b) {
      for (int g = 0; g < a.length; g++) {
        if (a[g] != null) {
          for (int i = 0; i < a[g].length; i++) {
            a[g][i] += b[g][i];
          }
        }
      }
      return a;
    }
  }

  /** Gathers the (key, id) pairs of each active bucket. */
  static final class CandidateScan implements KeyedScan<List<KeyedRow>> {
    private static final long serialVersionUID = 1L;
    private final Probe probe;

    CandidateScan(Probe probe) {
      this.probe = probe;
    }

    @Override
    public List<KeyedRow> zero() {
      return new ArrayList<>();
    }

    @Override
    public List<KeyedRow> add(List<KeyedRow> acc, int group, long key, Object id) {
      if (probe.inBucket(group, key)) {
        acc.add(new KeyedRow(group, key, id));
      }
      return acc;
    }

    @Override
    public List<KeyedRow> merge(List<KeyedRow> a, List<KeyedRow> b) {
      a.addAll(b);
      return a;
    }
  }
}
