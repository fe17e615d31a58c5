package io.relabel.spark.io;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * An input table that passed {@link InputValidator}, with what the validation pass learnt about it. Stages read
 * the dimension, class list and counts from here instead of running their own jobs to find them out.
 *
 * @param table             the input table, unchanged
 * @param contract          the column names it was validated against
 * @param featureDim        the length of every feature vector; 0 for text features (the text encoder decides the
 *                          embedding's width)
 * @param featureKind       the physical type of the features column
 * @param idKind            whether ids are integers or strings
 * @param labelKind         whether labels are integers or strings
 * @param classes           the class list: the declared one in declared order, else the labels seen, integers
 *                          sorted numerically and strings lexicographically
 * @param classCounts       labeled rows per class, in the order of {@code classes} (0 for a declared class unseen)
 * @param trustedPresent    whether the trusted column exists (and is boolean)
 * @param splitPresent      whether the split column exists (and is a string)
 * @param trueLabelPresent  whether the true-label column exists (and is of the label's kind)
 * @param rows              all rows
 * @param labeledRows       rows with a non-null label
 * @param trustedRows       rows whose trusted column is true
 * @param heldOutRows       rows whose split is the held-out split
 */
public record ValidatedInput(Dataset<Row> table, InputContract contract, int featureDim, FeatureKind featureKind,
    ValueKind idKind, ValueKind labelKind, List<String> classes, Map<String, Long> classCounts,
    boolean trustedPresent, boolean splitPresent, boolean trueLabelPresent, long rows, long labeledRows,
    long trustedRows, long heldOutRows) {

  public ValidatedInput {
    classes = List.copyOf(classes);
    classCounts = Collections.unmodifiableMap(new LinkedHashMap<>(classCounts));
  }

  public boolean labelIsInteger() {
    return labelKind == ValueKind.INTEGER;
  }

  /** The trusted column's name when present, else null. */
  public String trustedColOrNull() {
    return trustedPresent ? contract.trustedCol() : null;
  }

  /** The split column's name when present, else null. */
  public String splitColOrNull() {
    return splitPresent ? contract.splitCol() : null;
  }

  /** The true-label column's name when present, else null. */
  public String trueLabelColOrNull() {
    return trueLabelPresent ? contract.trueLabelCol() : null;
  }

  /** Row counts for the run manifest. */
  public Map<String, Long> counts() {
    Map<String, Long> m = new LinkedHashMap<>();
    m.put("rows", rows);
    m.put("labeledRows", labeledRows);
    m.put("trustedRows", trustedRows);
    m.put("heldOutRows", heldOutRows);
    return m;
  }
}
