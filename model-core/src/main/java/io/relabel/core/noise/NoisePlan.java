package io.relabel.core.noise;

import io.relabel.core.util.RowSeeds;
import java.io.Serializable;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The decision, for every eligible row, whether it is trusted and which label it gets, as a small serializable
 * object: a few thresholds and the class map. It is built with a handful of passes over the (id, class) pairs of the
 * eligible rows and is then applied to each row independently, on any partition, by {@link #isTrusted} and
 * {@link #noisyClass}. Every decision is a pure function of (seed, row id, class) and of the thresholds, which are
 * themselves functions of the set of rows, so the output never depends on partitioning or row order.
 *
 * <p>Order of draws: first exactly {@code trustedSize} trusted rows (the smallest keys of stage {@value
 * #TRUSTED_STAGE}), then among the remaining rows exactly round(rate * n) flips (symmetric: across all classes; pair:
 * round(rate * n_c) per mapped class c, ranked by stage {@value #FLIP_STAGE}), then for a symmetric flip the new class,
 * uniform among the other C-1 classes (stage {@value #TARGET_STAGE}).
 */
public final class NoisePlan implements Serializable {

  public static final String TRUSTED_STAGE = "noise.trusted";
  public static final String FLIP_STAGE = "noise.flip";
  public static final String TARGET_STAGE = "noise.target";

  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(NoisePlan.class);

  private final long seed;
  private final NoiseType type;
  private final int numClasses;
  private final Threshold trusted;
  private final int[] groupOfClass;
  private final Threshold[] flip;
  private final int[] pairTargets;
  private final NoiseStats stats;

  private NoisePlan(long seed, NoiseType type, int numClasses, Threshold trusted, int[] groupOfClass,
      Threshold[] flip, int[] pairTargets, NoiseStats stats) {
    this.seed = seed;
    this.type = type;
    this.numClasses = numClasses;
    this.trusted = trusted;
    this.groupOfClass = groupOfClass;
    this.flip = flip;
    this.pairTargets = pairTargets;
    this.stats = stats;
  }

  /**
   * Plans noise over the eligible rows.
   *
   * @param numClasses     C; class indices of the rows are in [0, C)
   * @param candidateLimit see {@link ExactSelection#select}
   * @throws IllegalArgumentException when the trusted size exceeds the eligible rows, or symmetric noise with a
   *                                  positive count has fewer than two classes to choose from
   */
  public static NoisePlan build(EligibleRows rows, NoiseSpec spec, int numClasses, int candidateLimit) {
    if (numClasses < 1) {
      throw new IllegalArgumentException("no classes");
    }
    if (spec.type() == NoiseType.PAIR && spec.pairTargets().length != numClasses) {
      throw new IllegalArgumentException("class map has " + spec.pairTargets().length + " entries for "
          + numClasses + " classes");
    }
    long[] perClass = rows.scan(new ClassCounts(numClasses, null));
    long eligible = Arrays.stream(perClass).sum();
    if (spec.trustedSize() > eligible) {
      throw new IllegalArgumentException("trusted size " + spec.trustedSize() + " exceeds the " + eligible
          + " eligible rows");
    }
    Threshold trusted = ExactSelection.select(rows, new AllInOne(), spec.seed(), TRUSTED_STAGE,
        new long[] {eligible}, new long[] {spec.trustedSize()}, candidateLimit)[0];
    long[] noisyPerClass = spec.trustedSize() == 0 ? perClass
        : rows.scan(new ClassCounts(numClasses, new TrustedTest(spec.seed(), trusted)));
    long noisy = Arrays.stream(noisyPerClass).sum();
    checkSame(eligible - spec.trustedSize(), noisy);

    int[] groupOfClass = new int[numClasses];
    long[] sizes;
    long[] ks;
    long[] flippedPerSource = null;
    if (spec.type() == NoiseType.SYMMETRIC) {
      Arrays.fill(groupOfClass, 0);
      sizes = new long[] {noisy};
      ks = new long[] {exactCount(spec.rate(), noisy)};
      if (ks[0] > 0 && numClasses < 2) {
        throw new IllegalArgumentException("symmetric noise needs at least 2 classes, found " + numClasses);
      }
    } else {
      int groups = 0;
      for (int c = 0; c < numClasses; c++) {
        groupOfClass[c] = spec.pairTargets()[c] >= 0 ? groups++ : -1;
      }
      sizes = new long[groups];
      ks = new long[groups];
      flippedPerSource = new long[numClasses];
      for (int c = 0; c < numClasses; c++) {
        int g = groupOfClass[c];
        if (g >= 0) {
          sizes[g] = noisyPerClass[c];
          ks[g] = exactCount(spec.rate(), noisyPerClass[c]);
          flippedPerSource[c] = ks[g];
        }
      }
    }
    Threshold[] flip = ExactSelection.select(rows, new FlipGroups(spec.seed(), trusted, groupOfClass), spec.seed(),
        FLIP_STAGE, sizes, ks, candidateLimit);
    NoiseStats stats = new NoiseStats(eligible, spec.trustedSize(), noisyPerClass, flippedPerSource,
        Arrays.stream(ks).sum());
    LOG.debug("noise plan ({}, rate {}): {} eligible rows, {} trusted, {} noisy, {} flipped, real error rate {}",
        spec.type().settingValue(), spec.rate(), eligible, stats.trusted(), stats.noisy(), stats.flipped(),
        String.format("%.6f", stats.realErrorRate()));
    return new NoisePlan(spec.seed(), spec.type(), numClasses, trusted, groupOfClass, flip,
        spec.pairTargets() == null ? null : spec.pairTargets().clone(), stats);
  }

  /** round(rate * n), half up, computed in decimal so that 0.45 * 10 gives 5 as a person would expect. */
  public static long exactCount(double rate, long n) {
    return new BigDecimal(Double.toString(rate)).multiply(BigDecimal.valueOf(n))
        .setScale(0, RoundingMode.HALF_UP).longValueExact();
  }

  /**
   * The new class of a symmetric flip: uniform among the C-1 classes other than {@code cls}, drawn from
   * (seed, row id) alone.
   */
  public static int symmetricTarget(long seed, Object id, int cls, int numClasses) {
    int draw = RowSeeds.uniformInt(seed, TARGET_STAGE, id, 0, numClasses - 1);
    return draw < cls ? draw : draw + 1;
  }

  /** Whether an eligible row is kept clean and marked trusted. {@code id} is canonical ({@link RowIds}). */
  public boolean isTrusted(Object id) {
    return trusted.selects(ExactSelection.key(seed, TRUSTED_STAGE, id), id);
  }

  /** The label class of an eligible, non-trusted row after noise: {@code cls} itself when it is not flipped. */
  public int noisyClass(Object id, int cls) {
    int g = groupOfClass[cls];
    if (g < 0 || !flip[g].selects(ExactSelection.key(seed, FLIP_STAGE, id), id)) {
      return cls;
    }
    return type == NoiseType.SYMMETRIC ? symmetricTarget(seed, id, cls, numClasses) : pairTargets[cls];
  }

  public NoiseStats stats() {
    return stats;
  }

  public int numClasses() {
    return numClasses;
  }

  private static void checkSame(long expected, long found) {
    if (expected != found) {
      throw new IllegalStateException("a pass found " + found + " non-trusted rows where " + expected
          + " were expected; the input must give the same rows on every read");
    }
  }

  /** Every row in group 0 (the trusted draw is over all eligible rows). */
  private static final class AllInOne implements ExactSelection.Grouping {
    private static final long serialVersionUID = 1L;

    @Override
    public int group(Object id, int cls) {
      return 0;
    }
  }

  /** Whether a row is trusted under a given threshold. */
  private static final class TrustedTest implements Serializable {
    private static final long serialVersionUID = 1L;
    private final long seed;
    private final Threshold trusted;

    TrustedTest(long seed, Threshold trusted) {
      this.seed = seed;
      this.trusted = trusted;
    }

    boolean test(Object id) {
      return trusted.selects(ExactSelection.key(seed, TRUSTED_STAGE, id), id);
    }
  }

  /** Non-trusted rows, grouped for the flip draw (one group for symmetric noise, one per source class for pair). */
  private static final class FlipGroups implements ExactSelection.Grouping {
    private static final long serialVersionUID = 1L;
    private final TrustedTest trusted;
    private final int[] groupOfClass;

    FlipGroups(long seed, Threshold trusted, int[] groupOfClass) {
      this.trusted = new TrustedTest(seed, trusted);
      this.groupOfClass = groupOfClass;
    }

    @Override
    public int group(Object id, int cls) {
      return trusted.test(id) ? -1 : groupOfClass[cls];
    }
  }

  /** Rows per class, optionally leaving out trusted rows. */
  private static final class ClassCounts implements RowScan<long[]> {
    private static final long serialVersionUID = 1L;
    private final int numClasses;
    private final TrustedTest excluded;

    ClassCounts(int numClasses, TrustedTest excluded) {
      this.numClasses = numClasses;
      this.excluded = excluded;
    }

    @Override
    public long[] zero() {
      return new long[numClasses];
    }

    @Override
    public long[] add(long[] acc, Object id, int cls) {
      if (cls < 0 || cls >= numClasses) {
        throw new IllegalArgumentException("class index " + cls + " of row " + id + " is outside [0, "
            + numClasses + ")");
      }
      if (excluded == null || !excluded.test(id)) {
        acc[cls]++;
      }
      return acc;
    }

    @Override
    public long[] merge(long[] a, long[] b) {
      for (int i = 0; i < a.length; i++) {
        a[i] += b[i];
      }
      return a;
    }
  }
}
