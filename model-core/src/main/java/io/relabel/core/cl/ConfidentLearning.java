package io.relabel.core.cl;

import io.relabel.core.noise.ExactSelection;
import io.relabel.core.noise.KeyedRows;
import io.relabel.core.noise.KeyedScan;
import io.relabel.core.noise.Threshold;
import io.relabel.core.util.RowSeeds;
import java.math.BigInteger;
import java.util.Arrays;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Confident learning: C. G. Northcutt, L. Jiang, I. L. Chuang, "Confident Learning: Estimating Uncertainty in
 * Dataset Labels", Journal of Artificial Intelligence Research 70 (2021), 1373-1411. Notation of the paper: y~ is the
 * given (noisy) label, y* the unknown true one, p_j(x) the out-of-fold predicted probability of class j for row x,
 * n_i the number of rows labeled i and n the number of rows.
 *
 * <ol>
 *   <li>Per-class thresholds (eq. 2): t_j = (1 / n_j) * sum_{x : y~ = j} p_j(x), the average self-confidence of
 *       class j ({@link ClassTotals}).</li>
 *   <li>Confident joint (eq. 1): C[i][j] = |{ x : y~ = i, j = argmax_{l : p_l(x) >= t_l} p_l(x) }| (rows with no
 *       class at or above its threshold are not counted; {@link ConfidentJoint}).</li>
 *   <li>Calibration (eq. 3): C~[i][j] = C[i][j] / (sum_j C[i][j]) * n_i, so that each row of the joint sums to the
 *       true count of its given label, then the joint Q[i][j] = C~[i][j] / sum_{i,j} C~[i][j], an estimate of
 *       p(y~ = i, y* = j).</li>
 *   <li>Noise transition matrix: p(y~ = i | y* = j) = Q[i][j] / sum_i Q[i][j]; the noise rate is the off-diagonal
 *       mass 1 - trace(Q).</li>
 *   <li>Prune by noise rate (section 3.2, "C_confusion" variant prune_by_noise_rate): for each given class i and each
 *       j != i, flag the round(n * Q[i][j]) rows labeled i with the largest margin p_j(x) - p_i(x), keeping at least
 *       one row of every class.</li>
 *   <li>Label quality: the self-confidence p_{y~}(x).</li>
 * </ol>
 *
 * <p>Every step is a fold over rows that runs per partition and merges ({@link ScoredRows}); the flagged rows are
 * chosen by an exact distributed selection on a key that orders rows by margin ({@link #selectionKey}), so the
 * result does not depend on how the rows are partitioned and no row is collected.
 */
public final class ConfidentLearning {

  /** Name of the pruning selection (in log lines and messages) and of the hash that spreads tied margins. */
  public static final String PRUNE_STAGE = "cl.prune";

  private static final long TIE_SALT = RowSeeds.stageKey(PRUNE_STAGE);
  private static final Logger LOG = LoggerFactory.getLogger(ConfidentLearning.class);

  private ConfidentLearning() {}

  /** Everything one run estimated and decided. Arrays are indexed [given class][other class]. */
  public record Outcome(double[] thresholds, long[] classCounts, long[][] confidentJoint, double[][] calibratedJoint,
      double[][] joint, double[][] noiseMatrix, double noiseRate, long[][] pruneCounts, PruneRule rule, long issues) {

    /** n, the rows that took part. */
    public long rows() {
      return Arrays.stream(classCounts).sum();
    }
  }

  /**
   * Runs confident learning over {@code rows}: a pass for the thresholds, one for the confident joint, the selection
   * passes of pruning by noise rate (none when nothing is pruned) and one counting the flagged rows.
   *
   * @param classes        C, the number of classes (every row has C probabilities and a label in [0, C))
   * @param candidateLimit largest bucket of the exact selection gathered to the driver
   */
  public static Outcome run(ScoredRows rows, int classes, int candidateLimit) {
    if (classes < 1) {
      throw new IllegalArgumentException("classes must be positive: " + classes);
    }
    ClassTotals totals = rows.scan(new TotalsScan(classes));
    long[] n = totals.counts();
    double[] t = totals.thresholds();
    long[][] c = rows.scan(new JointScan(t)).counts();
    double[][] calibrated = calibrate(c, n);
    double[][] q = joint(c, n);
    long[][] prune = pruneCounts(c, n);
    PruneRule rule = new PruneRule(prune, select(rows, n, prune, candidateLimit));
    boolean anyPruned = Arrays.stream(prune).flatMapToLong(Arrays::stream).anyMatch(k -> k > 0);
    long issues = anyPruned ? rows.scan(new IssueCount(rule))[0] : 0;
    Outcome out = new Outcome(t, n, c, calibrated, q, noiseMatrix(q), noiseRate(q), prune, rule, issues);
    LOG.debug("confident learning: {} rows, thresholds {}, confident joint {}, prune counts {}, {} issues",
        out.rows(), Arrays.toString(t), Arrays.deepToString(c), Arrays.deepToString(prune), issues);
    return out;
  }

  /** Refuses a row that does not fit C classes: wrong length, a label out of range, or a non-finite or negative p. */
  static void check(Object id, float[] p, int given, int classes) {
    if (p == null || p.length != classes) {
      throw new IllegalArgumentException("row " + id + ": expected " + classes + " probabilities, got "
          + (p == null ? "none" : p.length));
    }
    if (given < 0 || given >= classes) {
      throw new IllegalArgumentException("row " + id + ": label " + given + " is not a class index in [0, "
          + classes + ")");
    }
    for (int j = 0; j < classes; j++) {
      if (!(p[j] >= 0) || Float.isInfinite(p[j])) {
        throw new IllegalArgumentException("row " + id + ": probability " + p[j] + " of class " + j
            + " is not a finite value at least 0");
      }
    }
  }

  /**
   * The confident class of a row: argmax_{j : p_j >= t_j} p_j, the lower j on ties; -1 when no class reaches its
   * threshold (a NaN threshold, a class without rows, is never reached).
   */
  public static int confidentClass(float[] p, double[] thresholds) {
    int best = -1;
    for (int j = 0; j < p.length; j++) {
      if (p[j] >= thresholds[j] && (best < 0 || p[j] > p[best])) {
        best = j;
      }
    }
    return best;
  }

  /** Self-confidence, the label quality score: p_{y~}(x), the predicted probability of the given label. */
  public static double selfConfidence(float[] p, int given) {
    return p[given];
  }

  /** The margin by which pruning ranks a row labeled {@code given} for class j: p_j - p_given, rounded to float. */
  public static float margin(float[] p, int given, int j) {
    return p[j] - p[given];
  }

  /**
   * C~[i][j] = C[i][j] * n_i / sum_j C[i][j] (eq. 3; the product first, so each entry is rounded once); a row of C
   * that sums to 0 stays 0.
   */
  public static double[][] calibrate(long[][] confidentJoint, long[] n) {
    int k = confidentJoint.length;
    double[][] out = new double[k][k];
    for (int i = 0; i < k; i++) {
      long rowSum = Arrays.stream(confidentJoint[i]).sum();
      for (int j = 0; j < k && rowSum > 0; j++) {
        out[i][j] = (double) confidentJoint[i][j] * n[i] / rowSum;
      }
    }
    return out;
  }

  /**
   * Q = C~ / sum_{i,j} C~[i][j]. Each row of C~ sums to n_i (or is 0), so sum C~ = n' = sum of n_i over the classes
   * with a confident row, and Q[i][j] = C[i][j] * n_i / (sum_j C[i][j] * n'), computed with one rounding. All zeros
   * when no row has a confident class.
   */
  public static double[][] joint(long[][] confidentJoint, long[] n) {
    int k = confidentJoint.length;
    long[] rowSums = rowSums(confidentJoint);
    long covered = covered(rowSums, n);
    double[][] q = new double[k][k];
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k && rowSums[i] > 0; j++) {
        q[i][j] = (double) confidentJoint[i][j] * n[i] / ((double) rowSums[i] * covered);
      }
    }
    return q;
  }

  private static long[] rowSums(long[][] m) {
    return Arrays.stream(m).mapToLong(row -> Arrays.stream(row).sum()).toArray();
  }

  /** n' = sum of n_i over the classes whose row of the confident joint is not all zeros. */
  private static long covered(long[] rowSums, long[] n) {
    long covered = 0;
    for (int i = 0; i < n.length; i++) {
      covered += rowSums[i] > 0 ? n[i] : 0;
    }
    return covered;
  }

  /**
   * The estimated noise transition matrix p(y~ = i | y* = j) = Q[i][j] / sum_i Q[i][j]: row i is the given class,
   * column j the true class, each column sums to 1; a column with no mass (no row confidently of class j) is 0.
   */
  public static double[][] noiseMatrix(double[][] q) {
    int k = q.length;
    double[][] out = new double[k][k];
    for (int j = 0; j < k; j++) {
      double col = 0;
      for (int i = 0; i < k; i++) {
        col += q[i][j];
      }
      for (int i = 0; i < k && col > 0; i++) {
        out[i][j] = q[i][j] / col;
      }
    }
    return out;
  }

  /** The estimated share of wrong labels, 1 - trace(Q). */
  public static double noiseRate(double[][] q) {
    double trace = 0;
    for (int i = 0; i < q.length; i++) {
      trace += q[i][i];
    }
    return 1 - trace;
  }

  /**
   * Rows to prune per (given class i, class j != i): round(n * Q[i][j]) with n = sum_i n_i (halves round up), then
   * capped so that each class keeps at least one row: sum_j prune[i][j] <= max(n_i - 1, 0). The cap takes one row at
   * a time from the largest entry of the row (the lower j among equal ones). The diagonal is 0.
   *
   * <p>n * Q[i][j] = n * C[i][j] * n_i / (sum_j C[i][j] * n') (see {@link #joint}) is rounded from these integers
   * exactly, not from the double Q: it is often a half-integer (n_i = 3, C[i] = (1, 1, 0) gives 1.5), where a
   * rounding error in Q would decide the count.
   */
  public static long[][] pruneCounts(long[][] confidentJoint, long[] n) {
    int k = confidentJoint.length;
    long total = Arrays.stream(n).sum();
    long[] rowSums = rowSums(confidentJoint);
    long covered = covered(rowSums, n);
    long[][] prune = new long[k][k];
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k && rowSums[i] > 0; j++) {
        if (i != j) {
          BigInteger num = BigInteger.valueOf(total).multiply(BigInteger.valueOf(confidentJoint[i][j]))
              .multiply(BigInteger.valueOf(n[i]));
          BigInteger den = BigInteger.valueOf(rowSums[i]).multiply(BigInteger.valueOf(covered));
          // round half up: floor((2 num + den) / (2 den))
          prune[i][j] = num.shiftLeft(1).add(den).divide(den.shiftLeft(1)).longValueExact();
        }
      }
      capRow(prune[i], Math.max(n[i] - 1, 0));
    }
    return prune;
  }

  /**
   * Lowers the entries of {@code row} until they sum to at most {@code cap}, one unit at a time from the largest
   * entry (the lowest index among equal ones). Done in closed form: the level L is the smallest with
   * sum_j max(row[j] - L, 0) <= excess; entries above L come down to L, and the rest of the excess is taken one unit
   * each from the lowest-index entries now at L.
   */
  static void capRow(long[] row, long cap) {
    long excess = Arrays.stream(row).sum() - cap;
    if (excess <= 0) {
      return;
    }
    long lo = 0;
    long hi = Arrays.stream(row).max().orElse(0);
    while (lo < hi) {
      long mid = lo + (hi - lo) / 2;
      if (above(row, mid) <= excess) {
        hi = mid;
      } else {
        lo = mid + 1;
      }
    }
    long level = lo;
    long rest = excess - above(row, level);
    for (int j = 0; j < row.length; j++) {
      if (row[j] >= level) {
        row[j] = level;
        if (rest > 0 && level > 0) {
          row[j]--;
          rest--;
        }
      }
    }
  }

  private static long above(long[] row, long level) {
    long s = 0;
    for (long v : row) {
      s += Math.max(v - level, 0);
    }
    return s;
  }

  /**
   * The 64-bit key by which pruning selects rows of one group (i, j): ascending key order is descending margin. The
   * high 32 bits are the margin's float bits, turned so that unsigned order follows -margin; the low 32 bits are a
   * hash of the row id, so rows of equal margin are spread evenly (the exact selection then breaks exact ties by
   * id, see {@link io.relabel.core.noise.RowIds#compareKeyed}).
   */
  public static long selectionKey(float margin, Object id) {
    return selectionKey(margin, tieBits(id));
  }

  static long selectionKey(float margin, long tieBits) {
    if (Float.isNaN(margin)) {
      throw new IllegalArgumentException("margin is NaN");
    }
    int bits = Float.floatToIntBits(margin + 0.0f); // -0 becomes +0
    int ascending = bits < 0 ? ~bits : bits ^ 0x8000_0000; // unsigned order of this follows the margin
    return ((~ascending) & 0xffff_ffffL) << 32 | tieBits;
  }

  /** The 32 tie-breaking bits of a row id, in [0, 2^32). */
  static long tieBits(Object id) {
    return RowSeeds.mix(RowSeeds.idKey(id) ^ TIE_SALT) >>> 32;
  }

  /** Selects, per pair (i, j) with rows to prune, exactly prune[i][j] rows labeled i by {@link #selectionKey}. */
  private static Threshold[] select(ScoredRows rows, long[] n, long[][] prune, int candidateLimit) {
    int k = n.length;
    long[] sizes = new long[Math.multiplyExact(k, k)];
    long[] ks = new long[sizes.length];
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k; j++) {
        sizes[i * k + j] = i == j ? 0 : n[i];
        ks[i * k + j] = prune[i][j];
      }
    }
    return ExactSelection.select(PRUNE_STAGE, new PruneCandidates(rows, prune), sizes, ks, candidateLimit);
  }

  /** Every row labeled i offered to each group (i, j) with rows to prune, keyed by its margin for j. */
  private static final class PruneCandidates implements KeyedRows {
    private final ScoredRows rows;
    private final boolean[][] wanted;

    PruneCandidates(ScoredRows rows, long[][] prune) {
      this.rows = rows;
      this.wanted = new boolean[prune.length][prune.length];
      for (int i = 0; i < prune.length; i++) {
        for (int j = 0; j < prune.length; j++) {
          wanted[i][j] = prune[i][j] > 0;
        }
      }
    }

    @Override
    public <A> A scan(KeyedScan<A> scan) {
      return rows.scan(new OfferScan<>(scan, wanted));
    }
  }

  private static final class OfferScan<A> implements ScoredScan<A> {
    private static final long serialVersionUID = 1L;
    private final KeyedScan<A> inner;
    private final boolean[][] wanted;

    OfferScan(KeyedScan<A> inner, boolean[][] wanted) {
      this.inner = inner;
      this.wanted = wanted;
    }

    @Override
    public A zero() {
      return inner.zero();
    }

    @Override
    public A add(A acc, Object id, float[] p, int given) {
      int k = wanted.length;
      long tie = tieBits(id);
      for (int j = 0; j < k; j++) {
        if (wanted[given][j]) {
          acc = inner.add(acc, given * k + j, selectionKey(margin(p, given, j), tie), id);
        }
      }
      return acc;
    }

    @Override
    public A merge(A a, A b) {
      return inner.merge(a, b);
    }
  }

  private static final class TotalsScan implements ScoredScan<ClassTotals> {
    private static final long serialVersionUID = 1L;
    private final int classes;

    TotalsScan(int classes) {
      this.classes = classes;
    }

    @Override
    public ClassTotals zero() {
      return new ClassTotals(classes);
    }

    @Override
    public ClassTotals add(ClassTotals acc, Object id, float[] p, int given) {
      return acc.add(id, p, given);
    }

    @Override
    public ClassTotals merge(ClassTotals a, ClassTotals b) {
      return a.merge(b);
    }
  }

  private static final class JointScan implements ScoredScan<ConfidentJoint> {
    private static final long serialVersionUID = 1L;
    private final double[] thresholds;

    JointScan(double[] thresholds) {
      this.thresholds = thresholds;
    }

    @Override
    public ConfidentJoint zero() {
      return new ConfidentJoint(thresholds.length);
    }

    @Override
    public ConfidentJoint add(ConfidentJoint acc, Object id, float[] p, int given) {
      return acc.add(given, confidentClass(p, thresholds));
    }

    @Override
    public ConfidentJoint merge(ConfidentJoint a, ConfidentJoint b) {
      return a.merge(b);
    }
  }

  private static final class IssueCount implements ScoredScan<long[]> {
    private static final long serialVersionUID = 1L;
    private final PruneRule rule;

    IssueCount(PruneRule rule) {
      this.rule = rule;
    }

    @Override
    public long[] zero() {
      return new long[1];
    }

    @Override
    public long[] add(long[] acc, Object id, float[] p, int given) {
      if (rule.issueClass(id, p, given) >= 0) {
        acc[0]++;
      }
      return acc;
    }

    @Override
    public long[] merge(long[] a, long[] b) {
      a[0] += b[0];
      return a;
    }
  }
}
