package io.relabel.spark.io;

import io.relabel.core.config.RelabelParams;
import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.ml.linalg.DenseVector;
import org.apache.spark.ml.linalg.SparseVector;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.collection.Seq;

/**
 * Checks an input table against the {@link InputContract} before anything is computed from it, so that a bad row
 * stops the run in the first minute with a message naming the column, the row and the value, instead of surfacing
 * as a NaN loss or a crashed executor an hour later.
 *
 * <p>The table is never collected: the schema is checked on the driver, then one {@code mapPartitions} pass
 * computes counts, the label histogram and the first offender of every row-level check per partition, and those
 * small summaries are merged; one more aggregation looks for duplicate ids (which needs a shuffle). Where several
 * rows break a check, the one with the smallest id is reported with the total, so the same table always gives the
 * same message whatever its partitioning.
 */
public final class InputValidator {

  private static final Logger LOG = LoggerFactory.getLogger(InputValidator.class);

  /** Without a declared class list, more distinct labels than this means the label column is probably wrong. */
  static final int MAX_INFERRED_CLASSES = 10_000;

  static final String INTEGER_TYPES = "tinyint, smallint, int or bigint";
  static final String ID_TYPES = INTEGER_TYPES + " or string";
  static final String NUMERIC_FEATURE_TYPES = "array<float>, array<double> or an MLlib vector";
  static final String FEATURE_TYPES = "array<float>, array<double>, an MLlib vector or string (text)";

  private InputValidator() {}

  /**
   * Validates {@code table}; throws {@link InputValidationException} on the first broken rule (others found in the
   * same pass are logged).
   */
  public static ValidatedInput validate(Dataset<Row> table, InputContract c) {
    StructType schema = table.schema();
    ValueKind idKind = ValueKind.of(requireColumn(schema, c.idCol(), RelabelParams.ID_COL.key()));
    FeatureKind featureKind = FeatureKind.of(
        requireColumn(schema, c.featuresCol(), RelabelParams.FEATURES_COL.key()));
    DataType labelType = requireColumn(schema, c.labelCol(), RelabelParams.LABEL_COL.key());
    ValueKind labelKind = ValueKind.of(labelType);
    if (idKind == null) {
      throw wrongType(schema, c.idCol(), RelabelParams.ID_COL.key(), ID_TYPES);
    }
    if (featureKind == null) {
      throw wrongType(schema, c.featuresCol(), RelabelParams.FEATURES_COL.key(), FEATURE_TYPES);
    }
    if (labelKind == null) {
      throw wrongType(schema, c.labelCol(), RelabelParams.LABEL_COL.key(), ID_TYPES);
    }
    boolean trustedPresent = optionalColumn(schema, c.trustedCol(), RelabelParams.TRUSTED_COL.key(),
        t -> t.equals(DataTypes.BooleanType), "boolean");
    boolean splitPresent = optionalColumn(schema, c.splitCol(), RelabelParams.SPLIT_COL.key(),
        t -> t.equals(DataTypes.StringType), "string");
    String trueLabelAccepted = (labelKind == ValueKind.INTEGER ? INTEGER_TYPES : "string")
        + ", the kind of column '" + c.labelCol() + "'";
    boolean trueLabelPresent = optionalColumn(schema, c.trueLabelCol(), RelabelParams.TRUE_LABEL_COL.key(),
        t -> ValueKind.of(t) == labelKind, trueLabelAccepted);
    List<String> declared = declaredClasses(c, labelKind, labelType);
    LOG.info("validating input: id '{}' ({}), features '{}' ({}), label '{}' ({}), trusted {}, split {}, "
            + "true label {}, classes {}", c.idCol(), idKind, c.featuresCol(), featureKind, c.labelCol(), labelKind,
        presence(c.trustedCol(), trustedPresent), presence(c.splitCol(), splitPresent),
        presence(c.trueLabelCol(), trueLabelPresent), declared.isEmpty() ? "inferred" : "declared " + declared);

    // ---- pass 1: every row-level check, counts and the label histogram, one summary per partition
    List<Column> cols = new ArrayList<>(List.of(functions.col(c.idCol()), functions.col(c.featuresCol()),
        functions.col(c.labelCol())));
    int trustedIdx = -1;
    int splitIdx = -1;
    if (trustedPresent) {
      trustedIdx = cols.size();
      cols.add(functions.col(c.trustedCol()));
    }
    if (splitPresent) {
      splitIdx = cols.size();
      cols.add(functions.col(c.splitCol()));
    }
    int fileIdx = cols.size();
    cols.add(functions.input_file_name());
    Dataset<Row> projected = table.select(cols.toArray(new Column[0]));
    Summarize summarize = new Summarize(idKind, featureKind, labelKind, trustedIdx, splitIdx, fileIdx,
        c.holdoutSplit(), declared.isEmpty() ? null : new HashSet<>(declared),
        declared.isEmpty() ? MAX_INFERRED_CLASSES : declared.size());
    int maxClasses = summarize.maxClasses;
    ValidationSummary s = projected.toJavaRDD()
        .mapPartitionsWithIndex(summarize, false)
        .fold(new ValidationSummary(), (a, b) -> a.merge(b, maxClasses));
    LOG.info("validation pass: {} rows, {} labeled, {} trusted, {} held out", s.rows, s.labeled, s.trusted,
        s.heldOut);

    List<String> problems = new ArrayList<>();
    int featureDim = rowProblems(s, c, declared, problems);
    failIfAny(problems);

    // ---- pass 2: duplicate ids (a shuffle of the id column only)
    String duplicates = duplicateIds(table, c.idCol(), idKind);
    if (duplicates != null) {
      problems.add(duplicates);
    }
    failIfAny(problems);

    List<String> classes = declared.isEmpty() ? sortedClasses(s.classCounts.keySet(), labelKind) : declared;
    Map<String, Long> classCounts = new LinkedHashMap<>();
    for (String k : classes) {
      classCounts.put(k, s.classCounts.getOrDefault(k, 0L));
    }
    ValidatedInput v = new ValidatedInput(table, c, featureDim, featureKind, idKind, labelKind, classes,
        classCounts, trustedPresent, splitPresent, trueLabelPresent, s.rows, s.labeled, s.trusted, s.heldOut);
    LOG.info("validated input: {} rows ({} labeled, {} trusted, {} held out), {} features ({}), {} classes {}",
        v.rows(), v.labeledRows(), v.trustedRows(), v.heldOutRows(), featureDim, featureKind, classes.size(),
        classes.size() <= 20 ? classes : classes.subList(0, 20) + "...");
    return v;
  }

  // ------------------------------------------------------------------------------------------------ schema

  private static DataType requireColumn(StructType schema, String name, String key) {
    for (StructField f : schema.fields()) {
      if (f.name().equals(name)) {
        return f.dataType();
      }
    }
    throw new InputValidationException("column '" + name + "' (" + key + ") is missing; the table has columns: "
        + String.join(", ", schema.fieldNames()));
  }

  private static InputValidationException wrongType(StructType schema, String name, String key, String accepted) {
    return new InputValidationException("column '" + name + "' (" + key + ") has type "
        + schema.apply(name).dataType().simpleString() + "; accepted: " + accepted);
  }

  private static boolean optionalColumn(StructType schema, String name, String key,
      Predicate<DataType> ok, String accepted) {
    if (name.isEmpty() || !Arrays.asList(schema.fieldNames()).contains(name)) {
      return false;
    }
    if (!ok.test(schema.apply(name).dataType())) {
      throw wrongType(schema, name, key, accepted);
    }
    return true;
  }

  private static String presence(String name, boolean present) {
    if (name.isEmpty()) {
      return "not configured";
    }
    return "'" + name + "'" + (present ? "" : " (absent)");
  }

  /** The declared list in the label's own spelling: integers normalised ("007" to "7"), checked to be integers. */
  private static List<String> declaredClasses(InputContract c, ValueKind labelKind, DataType labelType) {
    if (labelKind == ValueKind.STRING) {
      return c.classes();
    }
    List<String> out = new ArrayList<>();
    for (String k : c.classes()) {
      try {
        out.add(Long.toString(Long.parseLong(k)));
      } catch (NumberFormatException e) {
        throw new InputValidationException(RelabelParams.CLASSES.key() + " lists '" + k + "', but column '"
            + c.labelCol() + "' holds integers (" + labelType.simpleString() + ")");
      }
    }
    if (new HashSet<>(out).size() < out.size()) {
      throw new InputValidationException(RelabelParams.CLASSES.key() + " lists the same integer class twice: "
          + String.join(", ", c.classes()));
    }
    return out;
  }

  /**
   * The corpus contract of {@code relabel adapt-retriever}: an id column (integer or string, non-null, unique) and a
   * text column (string, never null or blank). One aggregate pass for the row checks, one shuffle of the ids for
   * uniqueness; the first problem found stops the job before anything is written.
   *
   * @return the number of documents
   */
  public static long validateCorpus(Dataset<Row> table, String idCol, String textCol) {
    StructType schema = table.schema();
    ValueKind idKind = ValueKind.of(requireColumn(schema, idCol, RelabelParams.RGPL_ID_COL.key()));
    if (idKind == null) {
      throw wrongType(schema, idCol, RelabelParams.RGPL_ID_COL.key(), ID_TYPES);
    }
    if (!requireColumn(schema, textCol, RelabelParams.RGPL_TEXT_COL.key()).equals(DataTypes.StringType)) {
      throw wrongType(schema, textCol, RelabelParams.RGPL_TEXT_COL.key(), "string");
    }
    Column id = functions.col(idCol);
    Column text = functions.col(textCol);
    Column badText = id.isNotNull().and(text.isNull().or(functions.trim(text).equalTo("")));
    Row r = table.agg(functions.count(functions.lit(1)),
        functions.sum(functions.when(id.isNull(), 1).otherwise(0)),
        functions.sum(functions.when(badText, 1).otherwise(0)),
        functions.min(functions.when(badText, functions.struct(id.as("id"), text.as("text"))))).first();
    long rows = r.getLong(0);
    List<String> problems = new ArrayList<>();
    if (rows == 0) {
      problems.add("the corpus has no rows");
    } else {
      if (r.getLong(1) > 0) {
        problems.add("column '" + idCol + "' (the document id) is null in " + rows(r.getLong(1)));
      }
      if (r.getLong(2) > 0) {
        Row first = r.getStruct(3);
        problems.add("column '" + textCol + "' is null or blank in " + rows(r.getLong(2)) + "; the first is row id "
            + formatValue(idKind.normalize(first.get(0))) + " with value "
            + (first.isNullAt(1) ? "null" : formatValue(first.getString(1))) + "; every document needs some text");
      }
    }
    failIfAny(problems);
    String duplicates = duplicateIds(table, idCol, idKind);
    if (duplicates != null) {
      problems.add(duplicates);
    }
    failIfAny(problems);
    return rows;
  }

  // ------------------------------------------------------------------------------------------------ row checks

  /** Turns the merged summary into messages (in a fixed order); returns the feature dimension. */
  private static int rowProblems(ValidationSummary s, InputContract c, List<String> declared,
      List<String> problems) {
    if (s.rows == 0) {
      problems.add("the input table has no rows");
      return 0;
    }
    if (s.nullIdCount > 0) {
      problems.add("column '" + c.idCol() + "' (the row id) is null in " + rows(s.nullIdCount)
          + "; the first is row " + s.nullIdPosition + " of input partition " + s.nullIdPartition
          + (s.nullIdFile.isEmpty() ? "" : " (file " + s.nullIdFile + ")"));
    }
    if (s.nullFeatures.count > 0) {
      problems.add("column '" + c.featuresCol() + "' is null in " + rows(s.nullFeatures.count)
          + first(s.nullFeatures, ""));
    }
    int featureDim = 0;
    if (!s.lengths.isEmpty()) {
      Map.Entry<Integer, ValidationSummary.Offender> expected = Collections.max(s.lengths.entrySet(),
          Comparator.<Map.Entry<Integer, ValidationSummary.Offender>>comparingLong(e -> e.getValue().count)
              .thenComparing((a, b) -> -compareNullableIds(a.getValue().minId, b.getValue().minId)));
      featureDim = expected.getKey();
      ValidationSummary.Offender off = new ValidationSummary.Offender();
      for (Map.Entry<Integer, ValidationSummary.Offender> e : s.lengths.entrySet()) {
        if (!e.getKey().equals(expected.getKey())) {
          ValidationSummary.Offender o = e.getValue();
          ValidationSummary.Offender asOff = new ValidationSummary.Offender();
          asOff.count = o.count;
          asOff.minId = o.minId;
          asOff.detail = Integer.toString(e.getKey());
          off.merge(asOff);
        }
      }
      off.merge(s.otherLengths);
      long withFeatures = s.rows - s.nullFeatures.count;
      if (off.count > 0) {
        problems.add("column '" + c.featuresCol() + "' has inconsistent lengths: " + rows(off.count)
            + (off.count == 1 ? " differs" : " differ") + " from the expected length " + featureDim + " (the length of " + expected.getValue().count
            + " of " + rows(withFeatures) + ")" + first(off, " with length " + off.detail));
      } else if (featureDim == 0) {
        problems.add("column '" + c.featuresCol() + "' has length 0 in every row; at least one feature is needed");
      }
    }
    if (s.blankText.count > 0) {
      problems.add("column '" + c.featuresCol() + "' has blank text in " + rows(s.blankText.count)
          + first(s.blankText, " with value " + s.blankText.detail) + "; a text encoder needs some text");
    }
    if (s.nonFinite.count > 0) {
      problems.add("column '" + c.featuresCol() + "' has NaN, infinite or null elements in "
          + rows(s.nonFinite.count) + first(s.nonFinite, ", " + s.nonFinite.detail));
    }
    if (s.outsideClasses.count > 0) {
      problems.add("column '" + c.labelCol() + "' has values outside " + RelabelParams.CLASSES.key() + " in "
          + rows(s.outsideClasses.count) + first(s.outsideClasses, " with label " + s.outsideClasses.detail)
          + "; declared classes: " + String.join(", ", declared));
    }
    if (s.trustedNullLabel.count > 0) {
      problems.add("column '" + c.labelCol() + "' is null in " + rows(s.trustedNullLabel.count)
          + " that column '" + c.trustedCol() + "' marks as trusted" + first(s.trustedNullLabel, ""));
    }
    if (s.blankLabel.count > 0) {
      problems.add("column '" + c.labelCol() + "' has an empty or blank label in " + rows(s.blankLabel.count)
          + first(s.blankLabel, " with value " + s.blankLabel.detail)
          + "; write null for an unlabeled row");
    }
    String lookalikes = lookalikeLabels(s.classCounts.keySet());
    if (lookalikes != null) {
      problems.add("column '" + c.labelCol() + "' has " + lookalikes);
    }
    if (s.labeled == 0) {
      problems.add("column '" + c.labelCol() + "' is null in all " + rows(s.rows)
          + "; at least one labeled row is needed");
    }
    if (s.tooManyClasses && declared.isEmpty()) {
      problems.add("column '" + c.labelCol() + "' has more than " + MAX_INFERRED_CLASSES
          + " distinct values; declare the classes with " + RelabelParams.CLASSES.key() + " or check that '"
          + c.labelCol() + "' is the label column");
    }
    return featureDim;
  }

  /**
   * Two distinct labels that become one after Unicode NFC normalisation and stripping surrounding whitespace
   * ('café' typed on two systems, 'cat ' next to 'cat'): almost always one class spelled twice, which the run would
   * treat as two classes that cannot be told apart. Labels are otherwise taken byte for byte (emoji, right-to-left
   * text, joiners and marks round-trip unchanged). Null when there is no such pair; else the first pair in sorted
   * order, so the message is the same whatever the partitioning.
   */
  static String lookalikeLabels(Set<String> labels) {
    Map<String, String> byKey = new HashMap<>();
    List<String> sorted = new ArrayList<>(labels);
    Collections.sort(sorted);
    for (String label : sorted) {
      String key = Normalizer.normalize(label.strip(), Normalizer.Form.NFC);
      String before = byKey.putIfAbsent(key, label);
      if (before != null) {
        return "labels " + formatValue(escapeInvisible(before)) + " and " + formatValue(escapeInvisible(label))
            + ", which are the same after Unicode NFC normalisation and trimming; write each class one way";
      }
    }
    return null;
  }

  /** A label in a message, with everything but printable ASCII as Java escapes, so look-alikes look different. */
  static String escapeInvisible(String text) {
    StringBuilder sb = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char ch = text.charAt(i);
      if (ch >= 0x20 && ch < 0x7f) {
        sb.append(ch);
      } else {
        sb.append(String.format("\\u%04x", (int) ch));
      }
    }
    return sb.toString();
  }

  private static String duplicateIds(Dataset<Row> table, String idCol, ValueKind idKind) {
    Dataset<Row> dup = table.groupBy(functions.col(idCol).as("id"))
        .agg(functions.count(functions.lit(1)).as("n"))
        .where(functions.col("n").gt(1));
    Row r = dup.agg(functions.count(functions.lit(1)), functions.sum(functions.col("n")),
        functions.min(functions.struct(functions.col("id"), functions.col("n")))).first();
    long dupIds = r.getLong(0);
    if (dupIds == 0) {
      LOG.info("validation: ids are unique");
      return null;
    }
    Row first = r.getStruct(2);
    return "column '" + idCol + "' must be unique, but " + dupIds + (dupIds == 1 ? " id occurs" : " ids occur")
        + " more than once (" + rows(r.getLong(1)) + " in all); the first is id "
        + formatValue(idKind.normalize(first.get(0))) + ", which occurs " + first.getLong(1) + " times";
  }

  private static void failIfAny(List<String> problems) {
    if (problems.isEmpty()) {
      return;
    }
    for (int i = 1; i < problems.size(); i++) {
      LOG.warn("input also breaks the contract: {}", problems.get(i));
    }
    throw new InputValidationException(problems.get(0));
  }

  private static String first(ValidationSummary.Offender o, String suffix) {
    return o.minId == null ? "" : "; the first is row id " + formatValue(o.minId) + suffix;
  }

  private static String rows(long n) {
    return n == 1 ? "1 row" : n + " rows";
  }

  private static int compareNullableIds(Object a, Object b) {
    if (a == null || b == null) {
      return a == null ? (b == null ? 0 : 1) : -1;
    }
    return ValidationSummary.compareIds(a, b);
  }

  /** A text in a one-line message: line breaks, tabs and other control characters as Java escapes. */
  static String escapeControls(String text) {
    StringBuilder sb = new StringBuilder(text.length());
    for (int i = 0; i < text.length(); i++) {
      char ch = text.charAt(i);
      switch (ch) {
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (Character.isISOControl(ch)) {
            sb.append(String.format("\\u%04x", (int) ch));
          } else {
            sb.append(ch);
          }
        }
      }
    }
    return sb.toString();
  }

  /** An id or label in a message: integers bare, strings quoted. */
  public static String formatValue(Object v) {
    return v instanceof String str ? "'" + str + "'" : String.valueOf(v);
  }

  static List<String> sortedClasses(Set<String> seen, ValueKind kind) {
    List<String> out = new ArrayList<>(seen);
    if (kind == ValueKind.INTEGER) {
      out.sort(Comparator.comparingLong(Long::parseLong));
    } else {
      Collections.sort(out);
    }
    return out;
  }

  /** The per-partition half of the validation pass; only plain, serialisable fields travel to executors. */
  private static final class Summarize
      implements Function2<Integer, Iterator<Row>, Iterator<ValidationSummary>> {

    private static final long serialVersionUID = 1L;

    private final ValueKind idKind;
    private final FeatureKind featureKind;
    private final ValueKind labelKind;
    private final int trustedIdx;
    private final int splitIdx;
    private final int fileIdx;
    private final String holdout;
    private final HashSet<String> declared;
    final int maxClasses;

    Summarize(ValueKind idKind, FeatureKind featureKind, ValueKind labelKind, int trustedIdx, int splitIdx,
        int fileIdx, String holdout, HashSet<String> declared, int maxClasses) {
      this.idKind = idKind;
      this.featureKind = featureKind;
      this.labelKind = labelKind;
      this.trustedIdx = trustedIdx;
      this.splitIdx = splitIdx;
      this.fileIdx = fileIdx;
      this.holdout = holdout;
      this.declared = declared;
      this.maxClasses = maxClasses;
    }

    @Override
    public Iterator<ValidationSummary> call(Integer partition, Iterator<Row> it) {
      ValidationSummary s = new ValidationSummary();
      long position = 0;
      while (it.hasNext()) {
        Row row = it.next();
        s.rows++;
        Object id = idKind.normalize(row.get(0));
        if (id == null) {
          s.nullId(partition, position, row.getString(fileIdx));
        }
        features(s, row, id);
        Object label = labelKind.normalize(row.get(2));
        boolean trusted = trustedIdx >= 0 && !row.isNullAt(trustedIdx) && row.getBoolean(trustedIdx);
        if (trusted) {
          s.trusted++;
          if (label == null) {
            s.trustedNullLabel.offer(id, null);
          }
        }
        if (splitIdx >= 0 && holdout.equals(row.getString(splitIdx))) {
          s.heldOut++;
        }
        if (label != null) {
          s.labeled++;
          String k = label.toString();
          if (labelKind == ValueKind.STRING && k.isBlank()) {
            s.blankLabel.offer(id, formatValue(escapeControls(k)));
          }
          if (declared != null && !declared.contains(k)) {
            s.outsideClasses.offer(id, formatValue(label));
          } else {
            s.label(k, maxClasses);
          }
        }
        position++;
      }
      return Collections.singletonList(s).iterator();
    }

    private void features(ValidationSummary s, Row row, Object id) {
      if (row.isNullAt(1)) {
        s.nullFeatures.offer(id, null);
        return;
      }
      if (featureKind == FeatureKind.TEXT) {
        // A text has no length to agree on (the encoder decides the width); an empty or all-whitespace one would
        // embed as the model's bias alone, the same point for every such row, whatever its label.
        String text = row.getString(1);
        if (text.isBlank()) {
          s.blankText.offer(id, formatValue(escapeControls(text)));
        }
        return;
      }
      if (featureKind == FeatureKind.VECTOR) {
        Vector v = (Vector) row.get(1);
        s.length(v.size(), id);
        if (v instanceof SparseVector sv) {
          checkValues(s, id, sv.values(), sv.indices());
        } else {
          checkValues(s, id, ((DenseVector) v).values(), null);
        }
        return;
      }
      Seq<?> values = row.getSeq(1);
      int n = values.length();
      s.length(n, id);
      for (int j = 0; j < n; j++) {
        Object e = values.apply(j);
        if (e == null) {
          s.nonFinite.offer(id, "element " + j + " = null");
          return;
        }
        double d = ((Number) e).doubleValue();
        if (Double.isNaN(d) || Double.isInfinite(d)) {
          s.nonFinite.offer(id, "element " + j + " = " + e);
          return;
        }
      }
    }

    private static void checkValues(ValidationSummary s, Object id, double[] values, int[] indices) {
      for (int k = 0; k < values.length; k++) {
        double d = values[k];
        if (Double.isNaN(d) || Double.isInfinite(d)) {
          s.nonFinite.offer(id, "element " + (indices == null ? k : indices[k]) + " = " + d);
          return;
        }
      }
    }
  }
}
