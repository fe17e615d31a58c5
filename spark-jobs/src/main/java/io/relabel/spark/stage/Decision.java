package io.relabel.spark.stage;

import static io.relabel.spark.stage.RelabelJob.HOLDOUT;
import static io.relabel.spark.stage.RelabelJob.P_FINAL;
import static io.relabel.spark.stage.RelabelJob.TRUSTED;
import static io.relabel.spark.stage.RelabelJob.Y;
import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.when;

import io.relabel.spark.hdl.Hdl;
import java.util.Arrays;
import java.util.Locale;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

/**
 * Turns the votes into the output columns. Trusted rows and held-out rows always keep their label (their confidence
 * is the model's probability of that label). Every other row follows {@code relabel.decide.policy}:
 * With the EMLC stage, "the model" below is EMLC's teacher: its soft label's argmax and probability.
 * <ul>
 *   <li>model: the retrained model's argmax, with its probability as the confidence;</li>
 *   <li>hdl: HDL's label where HDL decided one (its confidence), else the model's;</li>
 *   <li>agree: a given label changes only when the model and HDL both name the same other class; an unlabeled row
 *       takes HDL's label where HDL decided one, else the model's.</li>
 * </ul>
 * It works on the narrow table (class indices, not the input's label column): the label value is looked up in the
 * class list and cast back to the input label's type.
 */
final class Decision {

  /** Index of the corrected class, kept for evaluation and dropped before the write. */
  static final String CORRECTED_INDEX = "_rl_corrected";

  /** {@code relabel.decide.policy}. */
  enum Policy {
    MODEL,
    HDL,
    AGREE;

    static Policy of(String setting) {
      return valueOf(setting.toUpperCase(Locale.ROOT));
    }
  }

  private Decision() {}

  static Dataset<Row> apply(Dataset<Row> scored, DataType labelType, String[] classes, Policy policy,
      boolean withHdl) {
    return apply(scored, labelType, classes, policy, withHdl, P_FINAL);
  }

  /**
   * @param modelCol the class-probability column that speaks for "the model": the retrained model's, or with EMLC
   *                 the teacher's soft labels (methods.md section 3: the corrected label is the soft label's argmax)
   */
  static Dataset<Row> apply(Dataset<Row> scored, DataType labelType, String[] classes, Policy policy,
      boolean withHdl, String modelCol) {
    if (policy != Policy.MODEL && !withHdl) {
      throw new IllegalArgumentException("relabel.decide.policy=" + policy.name().toLowerCase(Locale.ROOT)
          + " needs the HDL stage; set relabel.hdl.mode to fill or noise, or the policy to model");
    }
    Column keep = col(TRUSTED).or(col(HOLDOUT));
    // element_at of a null index is null: unlabeled held-out rows stay unlabeled
    Column model = RelabelJob.argmax(col(modelCol));
    Column modelConfidence = element_at(col(modelCol), col(CORRECTED_INDEX).plus(1)).cast(DataTypes.DoubleType);
    Column chosen;
    Column confidence = modelConfidence;
    switch (policy) {
      case HDL -> {
        chosen = coalesce(col(Hdl.LABEL), model);
        confidence = when(col(Hdl.LABEL).isNotNull().and(col(CORRECTED_INDEX).equalTo(col(Hdl.LABEL))),
            col(Hdl.CONFIDENCE)).otherwise(modelConfidence);
      }
      case AGREE -> chosen = when(col(Y).isNull(), coalesce(col(Hdl.LABEL), model))
          .when(model.equalTo(col(Hdl.LABEL)), model)
          .otherwise(col(Y));
      default -> chosen = model;
    }
    Column names = array(Arrays.stream(classes).map(c -> lit(c)).toArray(Column[]::new));
    Dataset<Row> t = scored.withColumn(CORRECTED_INDEX, when(keep, col(Y)).otherwise(chosen))
        .withColumn("label_corrected", element_at(names, col(CORRECTED_INDEX).plus(1)).cast(labelType))
        .withColumn("label_confidence", when(keep, modelConfidence).otherwise(confidence));
    if (withHdl) {
      t = t.withColumn("hdl_label", element_at(names, col(Hdl.LABEL).plus(1)).cast(labelType))
          .withColumn("hdl_confidence", col(Hdl.CONFIDENCE))
          .withColumn("hdl_level", col(Hdl.LEVEL))
          .withColumn("cluster_path", col(Hdl.PATH));
    }
    return t;
  }
}
