package io.relabel.spark.report;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;

import io.relabel.core.util.RowSeeds;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataTypes;

/**
 * What the run report shows about a run's final rows, computed in one pass over the partitions: a fixed-size
 * accumulator per partition (counts, the given→corrected matrix, histograms, per-method agreement and the
 * {@code samples} changed rows with the smallest seeded per-row keys), merged with {@code treeAggregate}. Only that
 * accumulator reaches the driver; the table is neither collected nor shuffled, and the result does not depend on its
 * partitioning. With text features, one more narrow filter fetches the text of the sampled rows (at most
 * {@code samples} of them).
 *
 * <p>Definitions. Labeled: the given label is not null. Changed: a labeled row whose corrected label differs from
 * the given one. Filled: an unlabeled row that got a label. Changeable: labeled, neither trusted nor held out (the
 * rows the run may change). Kept: changeable and not changed. Histograms and method agreement count changeable rows
 * (trusted and held-out rows cannot follow a method); the change matrix counts every labeled row.
 */
public final class ReportStats {

  /** Bins of each histogram over [0, 1]. */
  public static final int BINS = 20;
  /** Characters of a text feature the sample shows. */
  public static final int PREVIEW_CHARS = 160;

  private static final String STAGE = "report-sample";

  private ReportStats() {}

  /**
   * The input columns.
   *
   * @param id         row id (any type; its string form is shown)
   * @param given      int, index of the given label in the class list; null: unlabeled
   * @param corrected  int, index of the corrected label; null: none
   * @param confidence double, the label's confidence (label_confidence)
   * @param trusted    boolean, the row is trusted
   * @param holdout    boolean, the row is held out
   * @param quality    double, confident learning's label quality (cl_quality); null when it did not run
   * @param reasons    array&lt;struct&lt;method, label, confidence&gt;&gt;: methods that named another class (labels
   *                   in the input's label type; their string form is looked up in the class list)
   */
  public record Columns(String id, String given, String corrected, String confidence, String trusted, String holdout,
      String quality, String reasons) {}

  /** One method's opinion of a sampled row. */
  public record Reason(String method, String label, Double confidence) {}

  /**
   * A sampled changed row.
   *
   * @param preview the start of its text features, or null when the features are not text
   */
  public record Sample(String id, String given, String corrected, Double confidence, List<Reason> reasons,
      String preview) {}

  /**
   * The figures of a run.
   *
   * @param changes       [given][corrected] over labeled rows
   * @param filledInto    [class] unlabeled rows filled with the class
   * @param confidence    histograms of label_confidence: [0] changed, [1] kept, [2] filled; {@link #BINS} each
   * @param quality       histograms of cl_quality: [0] changed, [1] kept; null when the quality column is absent
   * @param flagged       [method] changeable rows the method named another class for
   * @param followed      [method] of those, rows that changed to the method's class
   * @param overlap       [a][b] changeable rows both methods flagged with the same class ([a][a] = flagged[a])
   * @param samples       changed rows in the order of their seeded keys
   */
  public record Stats(List<String> classes, long rows, long labeled, long unlabeled, long trusted, long heldOut,
      long changeable, long changed, long filled, long[][] changes, long[] filledInto, long[][] confidence,
      long[][] quality, List<String> methods, long[] flagged, long[] followed, long[][] overlap,
      List<Sample> samples) {}

  /**
   * Computes the figures of {@code table}.
   *
   * @param methods     the methods the run computed, in report order (a reason naming another is not counted)
   * @param samples     changed rows to sample (0..1000)
   * @param seed        the run seed; the same seed and ids give the same sample
   * @param textSource  with text features: a table holding {@code id} and the text column, else null
   * @param textCol     the text column of {@code textSource}
   */
  public static Stats compute(Dataset<Row> table, Columns c, List<String> classes, List<String> methods,
      int samples, long seed, Dataset<Row> textSource, String textCol) {
    if (samples < 0 || samples > 1000) {
      throw new IllegalArgumentException("samples must be in 0..1000: " + samples);
    }
    Column quality = c.quality() == null ? lit(null).cast(DataTypes.DoubleType) : col(c.quality());
    Scan scan = new Scan(classes, methods, samples, seed);
    Function2<Acc, Row, Acc> seq = scan::add;
    Function2<Acc, Acc, Acc> comb = Acc::merge;
    Acc a = table.select(col(c.id()), col(c.given()), col(c.corrected()), col(c.confidence()), col(c.trusted()),
            col(c.holdout()), quality, col(c.reasons()))
        .javaRDD().treeAggregate(scan.zero(), seq, comb);
    Map<String, String> texts = textSource == null || a.picked == 0 ? Map.of() : texts(textSource, c.id(), textCol, a);
    int k = classes.size();
    int m = methods.size();
    long[][] changes = new long[k][];
    for (int i = 0; i < k; i++) {
      changes[i] = Arrays.copyOfRange(a.changes, i * k, (i + 1) * k);
    }
    long[][] overlap = new long[m][];
    for (int i = 0; i < m; i++) {
      overlap[i] = Arrays.copyOfRange(a.overlap, i * m, (i + 1) * m);
    }
    List<Sample> picked = new ArrayList<>();
    for (int i = 0; i < a.picked; i++) {
      Pick p = a.picks[i];
      List<Reason> reasons = new ArrayList<>();
      for (int r = 0; r < p.methods.length; r++) {
        reasons.add(new Reason(p.methods[r], p.labels[r], Double.isNaN(p.confidences[r]) ? null : p.confidences[r]));
      }
      String id = String.valueOf(p.id);
      picked.add(new Sample(id, classes.get(p.given), classes.get(p.corrected),
          Double.isNaN(p.confidence) ? null : p.confidence, List.copyOf(reasons), texts.get(id)));
    }
    return new Stats(List.copyOf(classes), a.counts[ROWS], a.counts[LABELED], a.counts[ROWS] - a.counts[LABELED],
        a.counts[TRUSTED], a.counts[HELD_OUT], a.counts[CHANGEABLE], a.counts[CHANGED], a.counts[FILLED], changes,
        a.filledInto, new long[][] {hist(a.confidence, 0), hist(a.confidence, 1), hist(a.confidence, 2)},
        a.hasQuality ? new long[][] {hist(a.quality, 0), hist(a.quality, 1)} : null, List.copyOf(methods), a.flagged,
        a.followed, overlap, List.copyOf(picked));
  }

  /** The text of the sampled rows: one filter over {@code source}, at most {@code samples} rows come back. */
  private static Map<String, String> texts(Dataset<Row> source, String idCol, String textCol, Acc a) {
    Object[] ids = new Object[a.picked];
    for (int i = 0; i < a.picked; i++) {
      ids[i] = a.picks[i].id;
    }
    Map<String, String> out = new HashMap<>();
    for (Row r : source.filter(col(idCol).isin(ids)).select(col(idCol), col(textCol)).collectAsList()) {
      out.put(String.valueOf(r.get(0)), r.isNullAt(1) ? null : preview(r.getString(1)));
    }
    return out;
  }

  /** The first {@link #PREVIEW_CHARS} code points of {@code text}, whitespace runs folded, "…" when cut. */
  static String preview(String text) {
    String t = text.strip().replaceAll("\\s+", " ");
    if (t.codePointCount(0, t.length()) <= PREVIEW_CHARS) {
      return t;
    }
    return t.substring(0, t.offsetByCodePoints(0, PREVIEW_CHARS)) + "…";
  }

  private static long[] hist(long[] flat, int series) {
    return Arrays.copyOfRange(flat, series * BINS, (series + 1) * BINS);
  }

  /** The histogram bin of a value in [0, 1] (1 falls in the last bin; out-of-range values are clamped). */
  static int bin(double v) {
    return Math.max(0, Math.min(BINS - 1, (int) Math.floor(v * BINS)));
  }

  private static final int ROWS = 0;
  private static final int LABELED = 1;
  private static final int TRUSTED = 2;
  private static final int HELD_OUT = 3;
  private static final int CHANGEABLE = 4;
  private static final int CHANGED = 5;
  private static final int FILLED = 6;

  /** What a partition adds to its accumulator; holds only the small, immutable run constants. */
  private static final class Scan implements Serializable {
    private static final long serialVersionUID = 1L;
    private final int classes;
    private final Map<String, Integer> classIndex = new HashMap<>();
    private final Map<String, Integer> methodIndex = new HashMap<>();
    private final int methods;
    private final int samples;
    private final long seed;

    Scan(List<String> classes, List<String> methods, int samples, long seed) {
      this.classes = classes.size();
      for (int i = 0; i < classes.size(); i++) {
        classIndex.put(classes.get(i), i);
      }
      for (int i = 0; i < methods.size(); i++) {
        methodIndex.put(methods.get(i), i);
      }
      this.methods = methods.size();
      this.samples = samples;
      this.seed = seed;
    }

    Acc zero() {
      return new Acc(classes, methods, samples);
    }

    Acc add(Acc a, Row r) {
      a.counts[ROWS]++;
      Object id = r.get(0);
      Integer given = r.isNullAt(1) ? null : ((Number) r.get(1)).intValue();
      Integer corrected = r.isNullAt(2) ? null : ((Number) r.get(2)).intValue();
      double confidence = r.isNullAt(3) ? Double.NaN : ((Number) r.get(3)).doubleValue();
      boolean trusted = !r.isNullAt(4) && r.getBoolean(4);
      boolean heldOut = !r.isNullAt(5) && r.getBoolean(5);
      if (given == null) {
        if (corrected != null) {
          a.counts[FILLED]++;
          a.filledInto[corrected]++;
          count(a.confidence, 2, confidence);
        }
        return a;
      }
      a.counts[LABELED]++;
      boolean changed = corrected != null && !corrected.equals(given);
      if (corrected != null) {
        a.changes[given * classes + corrected]++;
      }
      if (changed) {
        a.counts[CHANGED]++;
      }
      if (trusted) {
        a.counts[TRUSTED]++;
      }
      if (heldOut) {
        a.counts[HELD_OUT]++;
      }
      if (trusted || heldOut) {
        return a;
      }
      a.counts[CHANGEABLE]++;
      count(a.confidence, changed ? 0 : 1, confidence);
      if (!r.isNullAt(6)) {
        a.hasQuality = true;
        count(a.quality, changed ? 0 : 1, ((Number) r.get(6)).doubleValue());
      }
      List<Row> reasons = r.isNullAt(7) ? List.of() : r.getList(7);
      int[] named = new int[methods];
      Arrays.fill(named, -2);
      for (Row reason : reasons) {
        Integer m = reason.isNullAt(0) ? null : methodIndex.get(reason.getString(0));
        if (m == null) {
          continue;
        }
        Integer cls = reason.isNullAt(1) ? null : classIndex.get(String.valueOf(reason.get(1)));
        named[m] = cls == null ? -1 : cls;
        a.flagged[m]++;
        if (changed && cls != null && cls.equals(corrected)) {
          a.followed[m]++;
        }
      }
      for (int i = 0; i < methods; i++) {
        if (named[i] == -2) {
          continue;
        }
        a.overlap[i * methods + i]++;
        for (int j = i + 1; j < methods; j++) {
          if (named[i] >= 0 && named[j] == named[i]) {
            a.overlap[i * methods + j]++;
            a.overlap[j * methods + i]++;
          }
        }
      }
      if (changed && samples > 0) {
        long key = RowSeeds.bits(seed, STAGE, id, 0);
        if (a.picked < samples || key < a.picks[a.picked - 1].key) {
          a.offer(new Pick(key, id, given, corrected, confidence, reasons));
        }
      }
      return a;
    }

    private static void count(long[] hist, int series, double v) {
      if (!Double.isNaN(v)) {
        hist[series * BINS + bin(v)]++;
      }
    }
  }

  /**
   * A partition's figures; fixed size whatever the partition holds (the sample is bounded by {@code samples}). A
   * final class of arrays, so that Kryo can carry it between executors and the driver.
   */
  static final class Acc implements Serializable {
    private static final long serialVersionUID = 1L;
    final long[] counts = new long[7];
    final long[] changes;
    final long[] filledInto;
    final long[] confidence = new long[3 * BINS];
    final long[] quality = new long[2 * BINS];
    boolean hasQuality;
    final long[] flagged;
    final long[] followed;
    final long[] overlap;
    /** The sampled rows, by ascending key; the first {@code picked} slots are used. */
    final Pick[] picks;
    int picked;

    Acc(int classes, int methods, int samples) {
      changes = new long[classes * classes];
      filledInto = new long[classes];
      flagged = new long[methods];
      followed = new long[methods];
      overlap = new long[methods * methods];
      picks = new Pick[samples];
    }

    /** Inserts a pick in key order, dropping the largest when full. */
    void offer(Pick p) {
      int at = picked;
      while (at > 0 && Pick.before(p, picks[at - 1])) {
        at--;
      }
      if (at >= picks.length) {
        return;
      }
      int last = Math.min(picked, picks.length - 1);
      System.arraycopy(picks, at, picks, at + 1, last - at);
      picks[at] = p;
      picked = Math.min(picked + 1, picks.length);
    }

    static Acc merge(Acc a, Acc b) {
      add(a.counts, b.counts);
      add(a.changes, b.changes);
      add(a.filledInto, b.filledInto);
      add(a.confidence, b.confidence);
      add(a.quality, b.quality);
      a.hasQuality |= b.hasQuality;
      add(a.flagged, b.flagged);
      add(a.followed, b.followed);
      add(a.overlap, b.overlap);
      for (int i = 0; i < b.picked; i++) {
        a.offer(b.picks[i]);
      }
      return a;
    }

    private static void add(long[] into, long[] from) {
      for (int i = 0; i < into.length; i++) {
        into[i] += from[i];
      }
    }
  }

  /** A sampled changed row, as the accumulator carries it. */
  static final class Pick implements Serializable {
    private static final long serialVersionUID = 1L;
    final long key;
    final Object id;
    final int given;
    final int corrected;
    final double confidence;
    final String[] methods;
    final String[] labels;
    final double[] confidences;

    Pick(long key, Object id, int given, int corrected, double confidence, List<Row> reasons) {
      this.key = key;
      this.id = id;
      this.given = given;
      this.corrected = corrected;
      this.confidence = confidence;
      methods = new String[reasons.size()];
      labels = new String[reasons.size()];
      confidences = new double[reasons.size()];
      for (int i = 0; i < methods.length; i++) {
        Row r = reasons.get(i);
        methods[i] = r.isNullAt(0) ? "?" : r.getString(0);
        labels[i] = r.isNullAt(1) ? null : String.valueOf(r.get(1));
        confidences[i] = r.isNullAt(2) ? Double.NaN : ((Number) r.get(2)).doubleValue();
      }
    }

    /** Key order; equal keys (a 64-bit collision) fall back to the id's string, so the order is total. */
    static boolean before(Pick a, Pick b) {
      return a.key != b.key ? a.key < b.key : String.valueOf(a.id).compareTo(String.valueOf(b.id)) < 0;
    }
  }
}
