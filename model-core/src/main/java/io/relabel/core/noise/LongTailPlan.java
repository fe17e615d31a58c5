package io.relabel.core.noise;

import java.util.Arrays;

/**
 * Which eligible rows a long-tailed subsample keeps: exactly {@link ClassQuotas#longTail} rows of each class, the
 * ones with the smallest keys of stage {@value #STAGE}. Like {@link NoisePlan} it is a few thresholds applied to
 * each row independently, so the subsample is a pure function of (seed, row id, class) and of the set of rows,
 * never of partitioning or order; being a {@link RowTest}, it also filters the rows the later draws see
 * ({@link EligibleRows#where}).
 */
public final class LongTailPlan implements RowTest {

  public static final String STAGE = "noise.longTail";

  private static final long serialVersionUID = 1L;

  private final long seed;
  private final double ratio;
  private final Threshold[] keep;
  private final long[] before;
  private final long[] kept;

  private LongTailPlan(long seed, double ratio, Threshold[] keep, long[] before, long[] kept) {
    this.seed = seed;
    this.ratio = ratio;
    this.keep = keep;
    this.before = before;
    this.kept = kept;
  }

  /**
   * Plans the subsample: one pass counts the rows per class, then one exact selection per class.
   *
   * @param ratio          largest class size over the last class's size, at least 1 (1 keeps every row)
   * @param numClasses     C; class indices are in [0, C) and the decay follows the index
   * @param candidateLimit see {@link ExactSelection#select}
   */
  public static LongTailPlan build(EligibleRows rows, double ratio, long seed, int numClasses, int candidateLimit) {
    long[] before = rows.scan(new ClassCounts(numClasses, null));
    long[] kept = ClassQuotas.longTail(before, ratio);
    Threshold[] keep = ExactSelection.select(rows, new ByClass(), seed, STAGE, before, kept, candidateLimit);
    return new LongTailPlan(seed, ratio, keep, before, kept);
  }

  /** Whether the subsample keeps the row ({@code id} canonical, see {@link RowIds}). */
  @Override
  public boolean test(Object id, int cls) {
    return keep[cls].selects(ExactSelection.key(seed, STAGE, id), id);
  }

  public double ratio() {
    return ratio;
  }

  /** Rows per class before the subsample. */
  public long[] before() {
    return before.clone();
  }

  /** Rows per class the subsample keeps (exact). */
  public long[] kept() {
    return kept.clone();
  }

  public long keptTotal() {
    return Arrays.stream(kept).sum();
  }

  /** One selection group per class. */
  private static final class ByClass implements ExactSelection.Grouping {
    private static final long serialVersionUID = 1L;

    @Override
    public int group(Object id, int cls) {
      return cls;
    }
  }
}
