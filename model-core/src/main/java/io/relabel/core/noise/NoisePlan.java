package io.relabel.core.noise;

import io.relabel.core.util.RowSeeds;
import java.io.Serializable;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The decision, for every eligible row, whether it is trusted, whether it keeps a label and which label it gets, as
 * a small serializable object: a few thresholds and the class map. It is built with a handful of passes over the
 * (id, class) pairs of the eligible rows and is then applied to each row independently, on any partition, by
 * {@link #isTrusted}, {@link #keepsLabel} and {@link #noisyClass}. Every decision is a pure function of
 * (seed, row id, class) and of the thresholds, which are themselves functions of the set of rows, so the output
 * never depends on partitioning or row order.
 *
 * <p>Order of draws: first exactly {@code trustedSize} trusted rows (the smallest keys of stage {@value
 * #TRUSTED_STAGE}); then, when a labeled share s &lt; 1 is set, exactly round(s * n) of the n other rows keep their
 * label, stratified by class ({@link ClassQuotas#stratified}, stage {@value #LABELED_STAGE}); then among the rows
 * that keep a label exactly round(rate * m) flips (symmetric: across all classes; pair: round(rate * m_c) per mapped
 * class c, ranked by stage {@value #FLIP_STAGE}), and for a symmetric flip the new class, uniform among the other
 * C-1 classes (stage {@value #TARGET_STAGE}). The labeled rows are drawn before the flips so that the real error
 * rate is exact among the labels a learner actually sees; flipping labels that are then removed would leave the
 * rate among the kept ones to chance.
 */
public final class NoisePlan implements Serializable {

  public static final String TRUSTED_STAGE = "noise.trusted";
  public static final String LABELED_STAGE = "noise.labeled";
  public static final String FLIP_STAGE = "noise.flip";
  public static final String TARGET_STAGE = "noise.target";

  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(NoisePlan.class);

  private final long seed;
  private final NoiseType type;
  private final int numClasses;
  private final Candidates candidates;
  private final int[] groupOfClass;
  private final Threshold[] flip;
  private final int[] pairTargets;
  private final NoiseStats stats;

  private NoisePlan(long seed, NoiseType type, int numClasses, Candidates candidates, int[] groupOfClass,
      Threshold[] flip, int[] pairTargets, NoiseStats stats) {
    this.seed = seed;
    this.type = type;
    this.numClasses = numClasses;
    this.candidates = candidates;
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
    Candidates untrusted = new Candidates(spec.seed(), trusted, null);
    long[] nonTrustedPerClass = spec.trustedSize() == 0 ? perClass
        : rows.scan(new ClassCounts(numClasses, untrusted));
    long nonTrusted = Arrays.stream(nonTrustedPerClass).sum();
    checkSame(eligible - spec.trustedSize(), nonTrusted);

    Candidates candidates = untrusted;
    long[] noisyPerClass = nonTrustedPerClass;
    if (spec.labeledShare() < 1) {
      noisyPerClass = ClassQuotas.stratified(exactCount(spec.labeledShare(), nonTrusted), nonTrustedPerClass);
      Threshold[] labeled = ExactSelection.select(rows, new ClassGroups(untrusted, null), spec.seed(),
          LABELED_STAGE, nonTrustedPerClass, noisyPerClass, candidateLimit);
      candidates = new Candidates(spec.seed(), trusted, labeled);
    }
    long noisy = Arrays.stream(noisyPerClass).sum();

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
    Threshold[] flip = ExactSelection.select(rows, new ClassGroups(candidates, groupOfClass), spec.seed(),
        FLIP_STAGE, sizes, ks, candidateLimit);
    NoiseStats stats = new NoiseStats(eligible, spec.trustedSize(), nonTrustedPerClass, noisyPerClass,
        flippedPerSource, Arrays.stream(ks).sum());
    LOG.debug("noise plan ({}, rate {}, labeled share {}): {} eligible rows, {} trusted, {} noisy, {} unlabeled, {}"
        + " flipped, real error rate {}", spec.type().settingValue(), spec.rate(), spec.labeledShare(), eligible,
        stats.trusted(), stats.noisy(), stats.unlabeled(), stats.flipped(),
        String.format("%.6f", stats.realErrorRate()));
    return new NoisePlan(spec.seed(), spec.type(), numClasses, candidates, groupOfClass, flip,
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
    return candidates.trusted(id);
  }

  /** Whether an eligible row has a label in the output: trusted rows always, the others when the share keeps it. */
  public boolean keepsLabel(Object id, int cls) {
    return candidates.trusted(id) || candidates.test(id, cls);
  }

  /**
   * The label class of an eligible row after noise: {@code cls} itself when it is not flipped (trusted rows and
   * rows without a label never are).
   */
  public int noisyClass(Object id, int cls) {
    int g = groupOfClass[cls];
    if (g < 0 || !candidates.test(id, cls) || !flip[g].selects(ExactSelection.key(seed, FLIP_STAGE, id), id)) {
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

  /**
   * The rows a draw after the trusted one works on: not trusted and, once the labeled rows are drawn, keeping a
   * label ({@code labeled} per class; null before that draw).
   */
  private static final class Candidates implements RowTest {
    private static final long serialVersionUID = 1L;
    private final long seed;
    private final Threshold trusted;
    private final Threshold[] labeled;

    Candidates(long seed, Threshold trusted, Threshold[] labeled) {
      this.seed = seed;
      this.trusted = trusted;
      this.labeled = labeled;
    }

    boolean trusted(Object id) {
      return trusted.selects(ExactSelection.key(seed, TRUSTED_STAGE, id), id);
    }

    @Override
    public boolean test(Object id, int cls) {
      return !trusted(id) && (labeled == null || labeled[cls].selects(ExactSelection.key(seed, LABELED_STAGE, id),
          id));
    }
  }

  /** Candidate rows grouped by class ({@code groupOfClass} null) or by a class map (-1: the class takes no part). */
  private static final class ClassGroups implements ExactSelection.Grouping {
    private static final long serialVersionUID = 1L;
    private final Candidates candidates;
    private final int[] groupOfClass;

    ClassGroups(Candidates candidates, int[] groupOfClass) {
      this.candidates = candidates;
      this.groupOfClass = groupOfClass;
    }

    @Override
    public int group(Object id, int cls) {
      if (!candidates.test(id, cls)) {
        return -1;
      }
      return groupOfClass == null ? cls : groupOfClass[cls];
    }
  }
}
