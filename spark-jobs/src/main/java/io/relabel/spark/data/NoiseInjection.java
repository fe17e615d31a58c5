package io.relabel.spark.data;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.core.noise.EligibleRows;
import io.relabel.core.noise.ExactSelection;
import io.relabel.core.noise.LongTailPlan;
import io.relabel.core.noise.NoisePlan;
import io.relabel.core.noise.NoiseSpec;
import io.relabel.core.noise.NoiseStats;
import io.relabel.core.noise.NoiseType;
import io.relabel.core.noise.PairMap;
import io.relabel.core.noise.RowIds;
import io.relabel.core.noise.RowTest;
import io.relabel.core.noise.RowScan;
import io.relabel.spark.cli.RelabelException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.api.java.UDF3;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes an evaluation table for label cleaning out of a clean one: a trusted sample, then wrong labels at an exact
 * rate, with the true labels kept beside them. Evaluations need the real error rate to be the stated one (a
 * per-row coin flip only gets it on average) and need the same table whatever the cluster, so every choice is a
 * {@link NoisePlan}: thresholds on per-row hash keys, found by a few passes over the id and label columns only,
 * then applied to each row independently. The table itself is never sorted, shuffled or collected.
 *
 * <p>Output: every input column, {@code label} replaced by the noisy label, plus the true label
 * ({@code relabel.input.trueLabelCol}, same type) and a boolean trusted mark ({@code relabel.input.trustedCol}).
 * Rows of the noisy split ({@code relabel.noise.split}; every row when the table has no split column) with a label
 * are eligible: exactly {@code relabel.noise.trustedSize} of them are trusted and keep their label, and noise at the
 * exact rate is applied to the rest. Rows of other splits and unlabeled rows are unchanged and not trusted, so
 * trusted, noisy and held-out rows are disjoint by construction.
 *
 * <p>Two options turn the table into a long-tailed or a semi-supervised benchmark. {@code relabel.noise.longTailRatio}
 * R &gt; 1 first subsamples the eligible rows so that class sizes decay exponentially from the largest class to
 * 1/R of it ({@link LongTailPlan}); the dropped rows are not written, the held-out split is kept whole (its
 * accuracy then measures how well the tail classes are learned). {@code relabel.noise.labeledShare} s &lt; 1 then
 * keeps the label of exactly round(s * n) of the n non-trusted rows, stratified by class, and writes null for the
 * others (their true label stays in the true-label column); noise applies to the labeled rows only, so the stated
 * rate is the real error rate among the labels a learner sees. Trusted rows always keep their label. See
 * {@link io.relabel.core.noise.NoisePlan} for the order of draws.
 */
public final class NoiseInjection {

  /** At most this many distinct labels; more means the label column is not a class column. */
  public static final int MAX_CLASSES = 10_000;
  /** At most this many distinct split values are reported. */
  private static final int MAX_SPLITS = 1_000;

  private static final Logger LOG = LoggerFactory.getLogger(NoiseInjection.class);

  private NoiseInjection() {}

  /** The noisy table and what was done to it. */
  public record Result(Dataset<Row> table, Report report) {}

  /**
   * What noise injection did, exactly (every count is fixed before a row is written).
   *
   * @param rowsPerSplit rows per split value in the input ("(all)" when the table has no split column)
   * @param noisySplit   the split that got noise, or null when the table has no split column
   * @param unlabeled    rows of the noisy split without a label (left unchanged)
   * @param classes      the class list, in index order
   * @param pairMap      for pair noise, source class to target class; null for symmetric noise
   * @param longTail     the long-tail subsample of the noisy split, or null when relabel.noise.longTailRatio is 1
   * @param labeledShare relabel.noise.labeledShare
   */
  public record Report(Map<String, Long> rowsPerSplit, String noisySplit, long unlabeled, List<String> classes,
      NoiseType type, double rate, Map<String, String> pairMap, long seed, LongTail longTail, double labeledShare,
      NoiseStats stats) {

    /** The lines {@code relabel inject-noise} prints. */
    public List<String> lines() {
      List<String> lines = new ArrayList<>();
      StringBuilder splits = new StringBuilder();
      long total = 0;
      for (Map.Entry<String, Long> e : rowsPerSplit.entrySet()) {
        splits.append(splits.length() == 0 ? "" : ", ").append(e.getKey()).append(' ').append(e.getValue());
        total += e.getValue();
      }
      lines.add("rows: " + total + " (" + splits + ")");
      String where = noisySplit == null ? "the table" : "split '" + noisySplit + "'";
      if (longTail != null) {
        lines.add(String.format(Locale.ROOT, "long tail (ratio %s) in %s: kept %d of %d labeled rows (%d rows"
            + " written in all); rows per class kept:", longTail.ratio(), where, sum(longTail.kept()),
            sum(longTail.before()), rowsWritten()));
        for (int c = 0; c < classes.size(); c++) {
          lines.add("  class " + classes.get(c) + ": " + longTail.kept()[c] + " of " + longTail.before()[c]);
        }
      }
      lines.add("noisy split " + (noisySplit == null ? "(all rows)" : "'" + noisySplit + "'") + ": "
          + stats.eligible() + " labeled rows" + (unlabeled > 0 ? " (" + unlabeled + " unlabeled rows left as they are)"
          : "") + ", " + stats.trusted() + " trusted, " + stats.noisy() + " noisy"
          + (labeledShare < 1 ? ", " + stats.unlabeled() + " made unlabeled (labeled share " + labeledShare + ")" : ""));
      if (labeledShare < 1) {
        lines.add("rows that keep a label, per class (of the non-trusted rows):");
        for (int c = 0; c < classes.size(); c++) {
          lines.add("  class " + classes.get(c) + ": " + stats.noisyPerClass()[c] + " of "
              + stats.nonTrustedPerClass()[c]);
        }
      }
      if (pairMap != null) {
        for (int c = 0; c < classes.size(); c++) {
          String target = pairMap.get(classes.get(c));
          if (target != null) {
            lines.add(String.format(Locale.ROOT, "  class %s -> %s: %d of %d rows", classes.get(c), target,
                stats.flippedPerSource()[c], stats.noisyPerClass()[c]));
          }
        }
      }
      lines.add(String.format(Locale.ROOT, "flipped %d of %d noisy rows (%s noise, rate %s): real error rate %.6f",
          stats.flipped(), stats.noisy(), type.settingValue(), rate, stats.realErrorRate()));
      if (longTail != null || labeledShare < 1) {
        lines.add(String.format(Locale.ROOT, "labeled rows of %s: %d (%d trusted); real error rate among them %.6f",
            where, stats.labeled(), stats.trusted(), stats.labeledErrorRate()));
      }
      return lines;
    }

    /** The report as JSON, stored next to the table as {@code _noise.json}. */
    public String json() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("type", type.settingValue());
      m.put("rate", rate);
      if (pairMap != null) {
        m.put("pairs", pairMap);
      }
      m.put("seed", seed);
      m.put("noisySplit", noisySplit);
      m.put("rowsPerSplit", rowsPerSplit);
      m.put("classes", classes);
      m.put("eligible", stats.eligible());
      m.put("unlabeled", unlabeled);
      m.put("trusted", stats.trusted());
      m.put("noisy", stats.noisy());
      m.put("flipped", stats.flipped());
      m.put("realErrorRate", stats.realErrorRate());
      m.put("labeledShare", labeledShare);
      m.put("unlabeledByShare", stats.unlabeled());
      m.put("labeledRows", stats.labeled());
      m.put("labeledRealErrorRate", stats.labeledErrorRate());
      m.put("labeledPerClass", byClass(stats.noisyPerClass()));
      if (longTail != null) {
        Map<String, Object> lt = new LinkedHashMap<>();
        lt.put("ratio", longTail.ratio());
        lt.put("rowsPerClassBefore", byClass(longTail.before()));
        lt.put("rowsPerClassKept", byClass(longTail.kept()));
        lt.put("rowsWritten", rowsWritten());
        m.put("longTail", lt);
      }
      if (stats.flippedPerSource() != null) {
        Map<String, Long> per = new LinkedHashMap<>();
        for (int c = 0; c < classes.size(); c++) {
          if (stats.flippedPerSource()[c] > 0) {
            per.put(classes.get(c), stats.flippedPerSource()[c]);
          }
        }
        m.put("flippedPerClass", per);
      }
      try {
        return new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(m);
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }

    /** Rows of the output table: the input's, less those the long tail dropped. */
    public long rowsWritten() {
      long input = rowsPerSplit.values().stream().mapToLong(Long::longValue).sum();
      return longTail == null ? input : input - sum(longTail.before()) + sum(longTail.kept());
    }

    private Map<String, Long> byClass(long[] counts) {
      Map<String, Long> out = new LinkedHashMap<>();
      for (int c = 0; c < classes.size(); c++) {
        out.put(classes.get(c), counts[c]);
      }
      return out;
    }

    private static long sum(long[] a) {
      return Arrays.stream(a).sum();
    }
  }

  /**
   * The long-tail subsample of the noisy split.
   *
   * @param before rows per class before it
   * @param kept   rows per class it keeps
   */
  public record LongTail(double ratio, long[] before, long[] kept) {}

  /** The noisy table (lazy; computing it reads {@code input} once more). */
  public static Dataset<Row> inject(Dataset<Row> input, Settings settings) {
    return injectWithReport(input, settings).table();
  }

  /** The noisy table and the report; the counts in the report are final. */
  public static Result injectWithReport(Dataset<Row> input, Settings settings) {
    return injectWithReport(input, settings, ExactSelection.DEFAULT_CANDIDATE_LIMIT);
  }

  static Result injectWithReport(Dataset<Row> input, Settings settings, int candidateLimit) {
    Cols c = Cols.resolve(input.schema(), settings);
    NoiseType type = NoiseType.parse(settings.get(RelabelParams.NOISE_TYPE));
    double rate = settings.get(RelabelParams.NOISE_RATE);
    long trustedSize = settings.get(RelabelParams.NOISE_TRUSTED);
    long seed = settings.get(RelabelParams.SEED);
    double labeledShare = settings.get(RelabelParams.NOISE_LABELED_SHARE);
    double longTailRatio = settings.get(RelabelParams.NOISE_LONG_TAIL);
    String pairs = settings.get(RelabelParams.NOISE_PAIRS);
    String noiseSplit = settings.get(RelabelParams.NOISE_SPLIT);
    String holdout = settings.get(RelabelParams.HOLDOUT_SPLIT);
    if (c.split != null && noiseSplit.equals(holdout)) {
      throw new RelabelException("relabel.noise.split and relabel.input.holdoutSplit are both '" + noiseSplit
          + "'; noise must not touch the held-out rows");
    }

    List<Column> narrowCols = new ArrayList<>(List.of(input.col(c.id), input.col(c.label)));
    if (c.split != null) {
      narrowCols.add(input.col(c.split));
    }
    Dataset<Row> narrow = input.select(narrowCols.toArray(new Column[0])).persist(StorageLevel.MEMORY_AND_DISK());
    try {
      checkIds(narrow, c);
      Map<String, long[]> perSplit = splitCounts(narrow, c);
      Map<String, Long> rowsPerSplit = new LinkedHashMap<>();
      perSplit.forEach((k, v) -> rowsPerSplit.put(k, v[0]));
      LOG.info("input: {} rows; per split: {}", rowsPerSplit.values().stream().mapToLong(Long::longValue).sum(),
          rowsPerSplit);
      long[] noisyCounts;
      if (c.split == null) {
        noisyCounts = perSplit.getOrDefault("(all)", new long[2]);
      } else {
        noisyCounts = perSplit.get(noiseSplit);
        if (noisyCounts == null) {
          throw new RelabelException("relabel.noise.split is '" + noiseSplit + "', but column '" + c.split
              + "' has no such rows (values: " + String.join(", ", rowsPerSplit.keySet()) + ")");
        }
      }
      long eligible = noisyCounts[1];
      long unlabeled = noisyCounts[0] - noisyCounts[1];
      String where = c.split == null ? "the table" : "split '" + noiseSplit + "'";
      LOG.info("{}: {} labeled rows are eligible for noise, {} unlabeled rows are left as they are", where, eligible,
          unlabeled);

      Object[] classes = classList(narrow, c, settings);
      List<String> classNames = new ArrayList<>();
      for (Object k : classes) {
        classNames.add(String.valueOf(k));
      }
      LOG.info("{} classes: {}", classes.length, PairMap.listed(classNames));
      HashMap<Object, Integer> classIndex = new HashMap<>();
      for (int i = 0; i < classes.length; i++) {
        classIndex.put(classes[i], i);
      }
      RowMapper mapper = new RowMapper(new Eligibility(c.split == null ? null : noiseSplit), classIndex);
      EligibleRows rows = new SparkRows(narrow.javaRDD(), mapper);
      LongTailPlan longTail = null;
      String after = "";
      if (longTailRatio > 1) {
        longTail = LongTailPlan.build(rows, longTailRatio, seed, classes.length, candidateLimit);
        rows = rows.where(longTail);
        LOG.info("long tail (ratio {}): {} keeps {} of {} labeled rows; per class {}", longTailRatio, where,
            longTail.keptTotal(), eligible, Arrays.toString(longTail.kept()));
        eligible = longTail.keptTotal();
        after = " after the long-tail subsample (relabel.noise.longTailRatio " + longTailRatio + ")";
      }
      if (trustedSize > eligible) {
        throw new RelabelException("relabel.noise.trustedSize is " + trustedSize + ", but " + where + " has only "
            + eligible + " labeled rows" + after);
      }
      long labeled = labeledShare < 1 ? NoisePlan.exactCount(labeledShare, eligible - trustedSize)
          : eligible - trustedSize;
      int[] pairTargets = null;
      if (type == NoiseType.PAIR) {
        pairTargets = PairMap.parse(pairs, classNames, "column '" + c.label + "'");
      } else if (classes.length < 2 && NoisePlan.exactCount(rate, labeled) > 0) {
        throw new RelabelException("symmetric noise needs at least 2 classes, but column '" + c.label + "' has "
            + classes.length + (classes.length == 1 ? " (" + classNames.get(0) + ")" : ""));
      }
      NoiseSpec spec = new NoiseSpec(type, rate, trustedSize, labeledShare, seed, pairTargets);
      NoisePlan plan = NoisePlan.build(rows, spec, classes.length, candidateLimit);
      Map<String, String> pairMap = null;
      if (pairTargets != null) {
        pairMap = new LinkedHashMap<>();
        for (int k = 0; k < classes.length; k++) {
          if (pairTargets[k] >= 0) {
            pairMap.put(classNames.get(k), classNames.get(pairTargets[k]));
          }
        }
      }
      Report report = new Report(rowsPerSplit, c.split == null ? null : noiseSplit, unlabeled, classNames, type, rate,
          pairMap, seed, longTail == null ? null : new LongTail(longTailRatio, longTail.before(), longTail.kept()),
          labeledShare, plan.stats());
      for (String line : report.lines()) {
        LOG.info(line);
      }
      return new Result(apply(input, c, plan, longTail, mapper, classes), report);
    } finally {
      narrow.unpersist();
    }
  }

  /** The output table: long-tail rows dropped, label replaced, true label and trusted mark appended. */
  private static Dataset<Row> apply(Dataset<Row> input, Cols c, NoisePlan plan, LongTailPlan longTail,
      RowMapper mapper, Object[] classes) {
    DataType labelType = input.schema().apply(c.label).dataType();
    UserDefinedFunction newLabel = functions.udf(new NewLabel(plan, mapper, classes), labelType);
    UserDefinedFunction trusted = functions.udf(new RowFlag((rowId, cls) -> plan.isTrusted(rowId), false, mapper),
        DataTypes.BooleanType);
    Column id = input.col(c.id);
    Column label = input.col(c.label);
    Column split = c.split == null ? lit(null).cast(DataTypes.StringType) : input.col(c.split);
    Dataset<Row> kept = input;
    if (longTail != null) {
      UserDefinedFunction keep = functions.udf(new RowFlag(longTail, true, mapper), DataTypes.BooleanType);
      kept = input.where(keep.apply(id, label, split));
    }
    List<Column> out = new ArrayList<>();
    for (String name : input.columns()) {
      out.add(name.equals(c.label) ? newLabel.apply(id, label, split).as(c.label) : input.col(name));
    }
    out.add(label.as(c.trueLabelOut));
    out.add(functions.coalesce(trusted.apply(id, label, split), lit(false)).as(c.trustedOut));
    return kept.select(out.toArray(new Column[0]));
  }

  private static void checkIds(Dataset<Row> narrow, Cols c) {
    long nullIds = narrow.where(col(c.id).isNull()).count();
    if (nullIds > 0) {
      throw new RelabelException("column '" + c.id + "' (relabel.input.idCol) is null in " + nullIds
          + " rows; every row needs a unique id");
    }
    List<Row> dup = narrow.groupBy(col(c.id)).agg(count(lit(1)).as("n")).where(col("n").gt(1)).limit(1)
        .collectAsList();
    if (!dup.isEmpty()) {
      throw new RelabelException("column '" + c.id + "' (relabel.input.idCol) has the value " + dup.get(0).get(0)
          + " in " + dup.get(0).getLong(1) + " rows; row ids must be unique");
    }
  }

  /** Per split value: {rows, labeled rows}. */
  private static Map<String, long[]> splitCounts(Dataset<Row> narrow, Cols c) {
    Map<String, long[]> out = new TreeMap<>();
    if (c.split == null) {
      Row r = narrow.agg(count(lit(1)), count(col(c.label))).first();
      out.put("(all)", new long[] {r.getLong(0), r.getLong(1)});
      return out;
    }
    List<Row> rows = narrow.groupBy(col(c.split)).agg(count(lit(1)), count(col(c.label))).limit(MAX_SPLITS + 1)
        .collectAsList();
    if (rows.size() > MAX_SPLITS) {
      throw new RelabelException("column '" + c.split + "' (relabel.input.splitCol) has more than " + MAX_SPLITS
          + " distinct values; is it a split column?");
    }
    for (Row r : rows) {
      out.put(r.isNullAt(0) ? "(null)" : String.valueOf(r.get(0)), new long[] {r.getLong(1), r.getLong(2)});
    }
    return out;
  }

  /** The classes: relabel.input.classes when declared (every label must be in it), else the labels seen, sorted. */
  private static Object[] classList(Dataset<Row> narrow, Cols c, Settings settings) {
    DataType type = narrow.schema().apply(c.label).dataType();
    String declared = settings.get(RelabelParams.CLASSES).trim();
    if (!declared.isEmpty()) {
      List<Object> list = new ArrayList<>();
      for (String name : declared.split(",")) {
        list.add(parseLabel(name.trim(), type, c.label));
      }
      Object[] classes = list.toArray();
      List<Row> outside = narrow.where(col(c.label).isNotNull().and(functions.not(col(c.label).isin(classes))))
          .limit(1).collectAsList();
      if (!outside.isEmpty()) {
        throw new RelabelException("column '" + c.label + "' has the value " + outside.get(0).get(1) + " at "
            + c.id + " " + outside.get(0).get(0) + ", which is not in relabel.input.classes (" + declared + ")");
      }
      return classes;
    }
    List<Row> distinct = narrow.select(col(c.label)).where(col(c.label).isNotNull()).distinct()
        .limit(MAX_CLASSES + 1).collectAsList();
    if (distinct.size() > MAX_CLASSES) {
      throw new RelabelException("column '" + c.label + "' (relabel.input.labelCol) has more than " + MAX_CLASSES
          + " distinct values; is it a class label?");
    }
    Object[] classes = new Object[distinct.size()];
    for (int i = 0; i < classes.length; i++) {
      classes[i] = distinct.get(i).get(0);
    }
    Arrays.sort(classes, (a, b) -> a instanceof String x ? x.compareTo((String) b)
        : Long.compare(((Number) a).longValue(), ((Number) b).longValue()));
    return classes;
  }

  private static Object parseLabel(String text, DataType type, String column) {
    if (type.equals(DataTypes.StringType)) {
      return text;
    }
    long v;
    try {
      v = Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw new RelabelException("relabel.input.classes has '" + text + "', but column '" + column
          + "' holds integers");
    }
    if (type.equals(DataTypes.LongType)) {
      return v;
    }
    if (type.equals(DataTypes.IntegerType)) {
      return (int) v;
    }
    if (type.equals(DataTypes.ShortType)) {
      return (short) v;
    }
    return (byte) v;
  }

  /** The column names of one run, checked against the input schema. */
  private static final class Cols {
    final String id;
    final String label;
    final String split;
    final String trueLabelOut;
    final String trustedOut;

    private Cols(String id, String label, String split, String trueLabelOut, String trustedOut) {
      this.id = id;
      this.label = label;
      this.split = split;
      this.trueLabelOut = trueLabelOut;
      this.trustedOut = trustedOut;
    }

    static Cols resolve(StructType schema, Settings s) {
      String id = s.get(RelabelParams.ID_COL);
      String label = s.get(RelabelParams.LABEL_COL);
      String split = s.get(RelabelParams.SPLIT_COL);
      String trueLabel = s.get(RelabelParams.TRUE_LABEL_COL);
      String trusted = s.get(RelabelParams.TRUSTED_COL);
      List<String> names = Arrays.asList(schema.fieldNames());
      require(schema, id, "relabel.input.idCol");
      require(schema, label, "relabel.input.labelCol");
      if (trueLabel.isEmpty()) {
        throw new RelabelException("relabel.input.trueLabelCol is empty; inject-noise needs a column name for the"
            + " true labels");
      }
      if (trusted.isEmpty()) {
        throw new RelabelException("relabel.input.trustedCol is empty; inject-noise needs a column name for the"
            + " trusted marks");
      }
      refuseExisting(names, trueLabel, "relabel.input.trueLabelCol");
      refuseExisting(names, trusted, "relabel.input.trustedCol");
      if (trueLabel.equalsIgnoreCase(trusted)) {
        throw new RelabelException("relabel.input.trueLabelCol and relabel.input.trustedCol are both '" + trusted
            + "'");
      }
      DataType idType = schema.apply(id).dataType();
      if (!isIntegral(idType) && !idType.equals(DataTypes.StringType)) {
        throw new RelabelException("column '" + id + "' has type " + idType.simpleString()
            + "; row ids must be integers or strings");
      }
      DataType labelType = schema.apply(label).dataType();
      if (!isIntegral(labelType) && !labelType.equals(DataTypes.StringType)) {
        throw new RelabelException("column '" + label + "' has type " + labelType.simpleString()
            + "; labels must be integers or strings");
      }
      String splitCol = null;
      if (!split.isEmpty()) {
        if (names.contains(split)) {
          splitCol = split;
        } else {
          LOG.warn("input has no column '{}' (relabel.input.splitCol): every row is in the noisy split", split);
        }
      }
      return new Cols(id, label, splitCol, trueLabel, trusted);
    }

    private static void require(StructType schema, String name, String key) {
      if (!Arrays.asList(schema.fieldNames()).contains(name)) {
        throw new RelabelException("input has no column '" + name + "' (" + key + "); its columns: "
            + String.join(", ", schema.fieldNames()));
      }
    }

    private static void refuseExisting(List<String> names, String name, String key) {
      for (String n : names) {
        if (n.equalsIgnoreCase(name)) {
          throw new RelabelException("input already has a column '" + n + "' (" + key + "); inject-noise needs a"
              + " table without true labels or trusted marks (was noise injected already?)");
        }
      }
    }

    private static boolean isIntegral(DataType t) {
      return t.equals(DataTypes.LongType) || t.equals(DataTypes.IntegerType) || t.equals(DataTypes.ShortType)
          || t.equals(DataTypes.ByteType);
    }
  }

  /** Whether a row may get noise: it has a label and is in the noisy split (or there is no split column). */
  private static final class Eligibility implements Serializable {
    private static final long serialVersionUID = 1L;
    private final String noisySplit;

    Eligibility(String noisySplit) {
      this.noisySplit = noisySplit;
    }

    boolean test(Object split, Object label) {
      return label != null && (noisySplit == null || (split != null && noisySplit.equals(String.valueOf(split))));
    }
  }

  /** Turns a row of the narrow projection (id, label[, split]) into what the noise plan sees. */
  private static final class RowMapper implements Serializable {
    private static final long serialVersionUID = 1L;
    final Eligibility eligibility;
    final HashMap<Object, Integer> classIndex;

    RowMapper(Eligibility eligibility, HashMap<Object, Integer> classIndex) {
      this.eligibility = eligibility;
      this.classIndex = classIndex;
    }

    <A> A add(RowScan<A> scan, A acc, Row row) {
      Object split = row.size() > 2 ? row.get(2) : null;
      Object label = row.get(1);
      if (!eligibility.test(split, label)) {
        return acc;
      }
      return scan.add(acc, RowIds.normalize(row.get(0)), classOf(label, row.get(0)));
    }

    int classOf(Object label, Object id) {
      Integer cls = classIndex.get(label);
      if (cls == null) {
        throw new IllegalStateException("label " + label + " of row " + id + " is not in the class list");
      }
      return cls;
    }
  }

  /** The eligible rows of a cached narrow projection, scanned per partition and merged as a tree. */
  private static final class SparkRows implements EligibleRows {
    private final JavaRDD<Row> rdd;
    private final RowMapper mapper;

    SparkRows(JavaRDD<Row> rdd, RowMapper mapper) {
      this.rdd = rdd;
      this.mapper = mapper;
    }

    @Override
    public <A> A scan(RowScan<A> scan) {
      RowMapper m = mapper;
      Function2<A, Row, A> seq = (acc, row) -> m.add(scan, acc, row);
      Function2<A, A, A> comb = scan::merge;
      return rdd.treeAggregate(scan.zero(), seq, comb);
    }
  }

  /** The label a row gets: its own, a noisy one, or null when the labeled share removes it. */
  private static final class NewLabel implements UDF3<Object, Object, Object, Object> {
    private static final long serialVersionUID = 1L;
    private final NoisePlan plan;
    private final RowMapper mapper;
    private final Object[] classes;

    NewLabel(NoisePlan plan, RowMapper mapper, Object[] classes) {
      this.plan = plan;
      this.mapper = mapper;
      this.classes = classes;
    }

    @Override
    public Object call(Object id, Object label, Object split) {
      if (!mapper.eligibility.test(split, label)) {
        return label;
      }
      Object nid = RowIds.normalize(id);
      int cls = mapper.classOf(label, id);
      if (!plan.keepsLabel(nid, cls)) {
        return null;
      }
      int noisy = plan.noisyClass(nid, cls);
      return noisy == cls ? label : classes[noisy];
    }
  }

  /**
   * A yes/no column from a {@link RowTest} on the eligible rows, {@code otherRows} for the rest: the long-tail
   * filter (rows it does not draw from are kept) and the trusted mark (only eligible rows can be trusted).
   */
  private static final class RowFlag implements UDF3<Object, Object, Object, Boolean> {
    private static final long serialVersionUID = 1L;
    private final RowTest test;
    private final boolean otherRows;
    private final RowMapper mapper;

    RowFlag(RowTest test, boolean otherRows, RowMapper mapper) {
      this.test = test;
      this.otherRows = otherRows;
      this.mapper = mapper;
    }

    @Override
    public Boolean call(Object id, Object label, Object split) {
      if (!mapper.eligibility.test(split, label)) {
        return otherRows;
      }
      return test.test(RowIds.normalize(id), mapper.classOf(label, id));
    }
  }
}
