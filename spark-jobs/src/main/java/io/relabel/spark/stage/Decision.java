package io.relabel.spark.stage;

import static io.relabel.spark.stage.RelabelJob.HOLDOUT;
import static io.relabel.spark.stage.RelabelJob.P_FINAL;
import static io.relabel.spark.stage.RelabelJob.TRUSTED;
import static io.relabel.spark.stage.RelabelJob.Y;
import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import java.util.Arrays;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

/**
 * Turns the retrained model's probabilities into the output columns. The first version's policy: trusted rows and
 * held-out rows keep their label (their confidence is the model's probability of that label); every other row takes
 * the retrained model's argmax, with its probability as the confidence. Unlabeled rows are filled the same way.
 * It works on the narrow table (class indices, not the input's label column): the label value is looked up in the
 * class list and cast back to the input label's type.
 */
final class Decision {

  /** Index of the corrected class, kept for evaluation and dropped before the write. */
  static final String CORRECTED_INDEX = "_rl_corrected";

  private Decision() {}

  static Dataset<Row> apply(Dataset<Row> scored, DataType labelType, String[] classes) {
    Column keep = col(TRUSTED).or(col(HOLDOUT));
    // element_at of a null index is null: unlabeled held-out rows stay unlabeled
    Column predicted = RelabelJob.argmax(col(P_FINAL));
    Column correctedIndex = when(keep, col(Y)).otherwise(predicted);
    Column names = array(Arrays.stream(classes).map(c -> lit(c)).toArray(Column[]::new));
    Dataset<Row> t = scored.withColumn(CORRECTED_INDEX, correctedIndex)
        .withColumn("label_corrected", element_at(names, col(CORRECTED_INDEX).plus(1)).cast(labelType))
        .withColumn("label_confidence",
            element_at(col(P_FINAL), col(CORRECTED_INDEX).plus(1)).cast(DataTypes.DoubleType));
    return t;
  }
}
