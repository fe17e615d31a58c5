package io.relabel.spark.io;

import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.spark.cli.RelabelException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The columns relabel expects in its input table, as named by the {@code relabel.input.*} settings.
 *
 * <p>Column names are settings rather than constants so that a user never has to rewrite a large table just to
 * rename a column. The three required columns (id, features, label) must exist; the optional ones (trusted, split,
 * true label) carry default names that most tables will simply not have, so an absent optional column is not an
 * error, while a present one of the wrong type is (it would otherwise be silently ignored or misread).
 *
 * @param idCol        required: unique, non-null row id
 * @param featuresCol  required: array&lt;float&gt;, array&lt;double&gt;, an MLlib vector or a string (text)
 * @param labelCol     required: the given label (null = unlabeled)
 * @param trustedCol   optional boolean column; empty string when not configured
 * @param splitCol     optional string column; empty string when not configured
 * @param holdoutSplit value of the split column that marks held-out rows
 * @param trueLabelCol optional true-label column (evaluation only); empty string when not configured
 * @param classes      the declared class list, in declared order; empty means "infer from the labels"
 */
public record InputContract(String idCol, String featuresCol, String labelCol, String trustedCol, String splitCol,
    String holdoutSplit, String trueLabelCol, List<String> classes) {

  public InputContract {
    Objects.requireNonNull(idCol, "idCol");
    Objects.requireNonNull(featuresCol, "featuresCol");
    Objects.requireNonNull(labelCol, "labelCol");
    trustedCol = trustedCol == null ? "" : trustedCol;
    splitCol = splitCol == null ? "" : splitCol;
    trueLabelCol = trueLabelCol == null ? "" : trueLabelCol;
    holdoutSplit = Objects.requireNonNull(holdoutSplit, "holdoutSplit");
    classes = List.copyOf(classes);
    checkDistinctColumns(idCol, featuresCol, labelCol, trustedCol, splitCol, trueLabelCol);
    checkDistinctClasses(classes);
  }

  /** The contract of a run's settings. */
  public static InputContract from(Settings s) {
    return new InputContract(
        s.get(RelabelParams.ID_COL),
        s.get(RelabelParams.FEATURES_COL),
        s.get(RelabelParams.LABEL_COL),
        s.get(RelabelParams.TRUSTED_COL),
        s.get(RelabelParams.SPLIT_COL),
        s.get(RelabelParams.HOLDOUT_SPLIT),
        s.get(RelabelParams.TRUE_LABEL_COL),
        parseClasses(s.get(RelabelParams.CLASSES)));
  }

  /** {@code "a, b,c"} to {@code [a, b, c]}; blank text to an empty list. */
  static List<String> parseClasses(String text) {
    List<String> out = new ArrayList<>();
    if (text == null || text.isBlank()) {
      return out;
    }
    for (String part : text.split(",", -1)) {
      String t = part.trim();
      if (t.isEmpty()) {
        throw new RelabelException(RelabelParams.CLASSES.key() + " has an empty class name in '" + text + "'");
      }
      out.add(t);
    }
    return out;
  }

  public boolean hasDeclaredClasses() {
    return !classes.isEmpty();
  }

  /** Configured names of the optional columns by role (trusted, split, trueLabel); unconfigured roles left out. */
  public Map<String, String> optionalColumns() {
    Map<String, String> m = new LinkedHashMap<>();
    if (!trustedCol.isEmpty()) {
      m.put("trusted", trustedCol);
    }
    if (!splitCol.isEmpty()) {
      m.put("split", splitCol);
    }
    if (!trueLabelCol.isEmpty()) {
      m.put("trueLabel", trueLabelCol);
    }
    return m;
  }

  private static void checkDistinctColumns(String id, String features, String label, String trusted, String split,
      String trueLabel) {
    String[][] roles = {
        {RelabelParams.ID_COL.key(), id}, {RelabelParams.FEATURES_COL.key(), features},
        {RelabelParams.LABEL_COL.key(), label}, {RelabelParams.TRUSTED_COL.key(), trusted},
        {RelabelParams.SPLIT_COL.key(), split}, {RelabelParams.TRUE_LABEL_COL.key(), trueLabel}};
    Map<String, String> seen = new LinkedHashMap<>();
    for (String[] role : roles) {
      if (role[1].isEmpty()) {
        continue;
      }
      String before = seen.putIfAbsent(role[1], role[0]);
      if (before != null) {
        throw new RelabelException(before + " and " + role[0] + " both name column '" + role[1] + "'");
      }
    }
  }

  private static void checkDistinctClasses(List<String> classes) {
    Set<String> seen = new LinkedHashSet<>();
    for (String c : classes) {
      if (!seen.add(c)) {
        throw new RelabelException(RelabelParams.CLASSES.key() + " lists class '" + c + "' twice");
      }
    }
  }
}
