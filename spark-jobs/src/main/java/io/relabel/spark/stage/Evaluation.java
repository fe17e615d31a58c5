package io.relabel.spark.stage;

import static io.relabel.spark.stage.RelabelJob.HOLDOUT;
import static io.relabel.spark.stage.RelabelJob.P_BASE;
import static io.relabel.spark.stage.RelabelJob.P_CEIL;
import static io.relabel.spark.stage.RelabelJob.P_FINAL;
import static io.relabel.spark.stage.RelabelJob.P_OOF;
import static io.relabel.spark.stage.RelabelJob.RETRAIN;
import static io.relabel.spark.stage.RelabelJob.TRUSTED;
import static io.relabel.spark.stage.RelabelJob.TRUTH;
import static io.relabel.spark.stage.RelabelJob.Y;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.when;

import io.relabel.core.consensus.ConsensusRetraining;
import io.relabel.core.metrics.LabelCounts;
import io.relabel.spark.hdl.Hdl;
import io.relabel.spark.io.RunManifest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.mllib.evaluation.BinaryClassificationMetrics;
import org.apache.spark.sql.types.DataTypes;
import scala.Tuple2;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Scores a run against the true labels (a column the pipeline itself never reads): label accuracy before and after
 * correction on the training rows, precision and recall of the changes against the truly wrong labels, the consensus
 * set's size and purity, and test accuracy of the baseline, the retrained model and the ceiling on held-out rows.
 * Counts are made per partition and merged; no row reaches the driver.
 */
final class Evaluation {

  private Evaluation() {}

  /**
   * @param compared the retraining recipe the final model did not use, when a model of it was trained for comparison
   *                 (its probabilities in {@code P_ALT}); null otherwise. Both recipes' test accuracies are then
   *                 reported under their own names (methods.md section 1).
   */
  static void evaluate(Dataset<Row> scored, boolean hasCeiling, ConsensusRetraining.Retrain compared,
      RunManifest manifest) {
    Column train = not(col(HOLDOUT)).and(col(Y).isNotNull()).and(col(TRUTH).isNotNull());
    LabelCounts counts = scored.filter(train)
        .select(col(Y), col(Decision.CORRECTED_INDEX), col(TRUTH))
        .toJavaRDD()
        .mapPartitions(it -> {
          LabelCounts c = new LabelCounts();
          while (it.hasNext()) {
            Row r = it.next();
            c.add(r.getInt(0), r.getInt(1), r.getInt(2));
          }
          return Collections.singletonList(c).iterator();
        })
        .fold(new LabelCounts(), LabelCounts::merge);
    if (counts.rows > 0) {
      manifest.putMetric("eval.train.rows", counts.rows);
      manifest.putMetric("eval.train.wrongGiven", counts.wrong);
      manifest.putMetric("eval.train.noiseRate", 1 - counts.givenAccuracy());
      manifest.putMetric("eval.train.givenAccuracy", counts.givenAccuracy());
      manifest.putMetric("eval.train.correctedAccuracy", counts.correctedAccuracy());
      manifest.putMetric("eval.train.changed", counts.changed);
      manifest.putMetric("eval.train.changePrecision", counts.changePrecision());
      manifest.putMetric("eval.train.changeRecall", counts.changeRecall());
    }

    Column testRow = col(HOLDOUT).and(col(TRUTH).isNotNull());
    Column inS = not(col(HOLDOUT)).and(not(col(TRUSTED))).and(col(RETRAIN).geq(0));
    Row agg = scored.agg(
        sum(when(testRow, 1).otherwise(0)),
        sum(when(testRow.and(RelabelJob.argmax(col(P_BASE)).equalTo(col(TRUTH))), 1).otherwise(0)),
        sum(when(testRow.and(RelabelJob.argmax(col(P_FINAL)).equalTo(col(TRUTH))), 1).otherwise(0)),
        hasCeiling ? sum(when(testRow.and(RelabelJob.argmax(col(P_CEIL)).equalTo(col(TRUTH))), 1).otherwise(0))
            : sum(lit(0)), // no ceiling model: a zero placeholder keeps the column positions fixed
        sum(when(inS.and(col(TRUTH).isNotNull()), 1).otherwise(0)),
        sum(when(inS.and(col(RETRAIN).equalTo(col(TRUTH))), 1).otherwise(0)),
        sum(when(train.and(col(P_OOF).isNotNull()), 1).otherwise(0)),
        sum(when(train.and(RelabelJob.argmax(col(P_OOF)).equalTo(col(TRUTH))), 1).otherwise(0)),
        sum(when(inS.and(col(Decision.CORRECTED_INDEX).equalTo(col(TRUTH))), 1).otherwise(0)),
        sum(when(inS.and(col(Decision.CORRECTED_INDEX).notEqual(col(RETRAIN))), 1).otherwise(0)),
        compared != null
            ? sum(when(testRow.and(RelabelJob.argmax(col(RelabelJob.P_ALT)).equalTo(col(TRUTH))), 1).otherwise(0))
            : sum(lit(0))
    ).first();
    long test = agg.getLong(0);
    if (test > 0) {
      manifest.putMetric("eval.test.rows", test);
      manifest.putMetric("eval.test.baselineAccuracy", (double) agg.getLong(1) / test);
      manifest.putMetric("eval.test.retrainedAccuracy", (double) agg.getLong(2) / test);
      if (hasCeiling) {
        manifest.putMetric("eval.test.ceilingAccuracy", (double) agg.getLong(3) / test);
      }
      if (compared != null) {
        double chosen = (double) agg.getLong(2) / test;
        double other = (double) agg.getLong(10) / test;
        boolean fullCompared = compared == ConsensusRetraining.Retrain.FULL;
        manifest.putMetric("eval.test.consensusRetrainAccuracy", fullCompared ? chosen : other);
        manifest.putMetric("eval.test.fullRetrainAccuracy", fullCompared ? other : chosen);
      }
    }
    if (agg.getLong(4) > 0) {
      manifest.putMetric("eval.consensus.labelAccuracyInS", (double) agg.getLong(5) / agg.getLong(4));
      // How the final model treats the rows it was trained on: does it keep the consensus labels?
      manifest.putMetric("eval.consensus.correctedAccuracyInS", (double) agg.getLong(8) / agg.getLong(4));
      manifest.putMetric("eval.consensus.changedInS", agg.getLong(9));
    }
    if (agg.getLong(6) > 0) {
      manifest.putMetric("eval.train.predictedLabelAccuracy", (double) agg.getLong(7) / agg.getLong(6));
    }
  }

  /**
   * HDL's own labels against the truth: on labeled training rows (how often HDL's label is right, and its changes'
   * precision and recall), on unlabeled training rows (pseudo-label accuracy and coverage) and on held-out rows.
   */
  static void evaluateHdl(Dataset<Row> scored, RunManifest manifest) {
    Column train = not(col(HOLDOUT)).and(col(TRUTH).isNotNull());
    Column labeled = train.and(col(Y).isNotNull());
    Column unlabeled = train.and(col(Y).isNull());
    Column test = col(HOLDOUT).and(col(TRUTH).isNotNull());
    Column decided = col(Hdl.LABEL).isNotNull();
    Column right = decided.and(col(Hdl.LABEL).equalTo(col(TRUTH)));
    Column changed = decided.and(col(Hdl.LABEL).notEqual(col(Y)));
    Column wrongGiven = col(Y).notEqual(col(TRUTH));
    Row a = scored.agg(count(labeled), count(labeled.and(right)), count(labeled.and(changed)),
        count(labeled.and(changed).and(right)), count(labeled.and(wrongGiven)),
        count(unlabeled), count(unlabeled.and(decided)), count(unlabeled.and(right)),
        count(test), count(test.and(decided)), count(test.and(right))).first();
    if (a.getLong(0) > 0) {
      manifest.putMetric("eval.hdl.labeledAccuracy", (double) a.getLong(1) / a.getLong(0));
      manifest.putMetric("eval.hdl.changed", a.getLong(2));
      manifest.putMetric("eval.hdl.changePrecision", a.getLong(2) == 0 ? 0.0 : (double) a.getLong(3) / a.getLong(2));
      manifest.putMetric("eval.hdl.changeRecall", a.getLong(4) == 0 ? 0.0 : (double) a.getLong(3) / a.getLong(4));
    }
    if (a.getLong(5) > 0) {
      manifest.putMetric("eval.hdl.unlabeledRows", a.getLong(5));
      manifest.putMetric("eval.hdl.pseudoLabelCoverage", (double) a.getLong(6) / a.getLong(5));
      manifest.putMetric("eval.hdl.pseudoLabelAccuracy", a.getLong(6) == 0 ? 0.0 : (double) a.getLong(7) / a.getLong(6));
    }
    if (a.getLong(8) > 0) {
      manifest.putMetric("eval.hdl.testCoverage", (double) a.getLong(9) / a.getLong(8));
      manifest.putMetric("eval.hdl.testAccuracy", a.getLong(9) == 0 ? 0.0 : (double) a.getLong(10) / a.getLong(9));
    }
  }

  /**
   * EMLC's own figures: how often the teacher's soft label names the true class on the noisy (untrusted, labeled
   * training) rows, how its changes fare, and the student's test accuracy.
   */
  static void evaluateEmlc(Dataset<Row> scored, RunManifest manifest) {
    Column noisy = not(col(HOLDOUT)).and(not(col(TRUSTED))).and(col(Y).isNotNull()).and(col(TRUTH).isNotNull());
    Column soft = RelabelJob.argmax(col(io.relabel.spark.emlc.Emlc.SOFT_LABEL));
    Column test = col(HOLDOUT).and(col(TRUTH).isNotNull());
    Column changed = soft.notEqual(col(Y));
    Row a = scored.agg(count(noisy), count(noisy.and(soft.equalTo(col(TRUTH)))), count(noisy.and(changed)),
        count(noisy.and(changed).and(soft.equalTo(col(TRUTH)))), count(noisy.and(col(Y).notEqual(col(TRUTH)))),
        count(test), count(test.and(RelabelJob.argmax(col(RelabelJob.P_EMLC)).equalTo(col(TRUTH))))).first();
    if (a.getLong(0) > 0) {
      manifest.putMetric("eval.emlc.noisyRows", a.getLong(0));
      manifest.putMetric("eval.emlc.softLabelAccuracy", (double) a.getLong(1) / a.getLong(0));
      manifest.putMetric("eval.emlc.changed", a.getLong(2));
      manifest.putMetric("eval.emlc.changePrecision", a.getLong(2) == 0 ? 0.0 : (double) a.getLong(3) / a.getLong(2));
      manifest.putMetric("eval.emlc.changeRecall", a.getLong(4) == 0 ? 0.0 : (double) a.getLong(3) / a.getLong(4));
    }
    if (a.getLong(5) > 0) {
      manifest.putMetric("eval.test.emlcStudentAccuracy", (double) a.getLong(6) / a.getLong(5));
    }
  }

  /**
   * Each method as a detector of wrong labels, and the combined decision, on the labeled untrusted training rows
   * whose true label is known: how many rows it flags (names another class than the given label), the precision and
   * recall of those flags against the truly wrong rows, and the AUROC of its suspicion score
   * ({@link Decision#suspicion}); the decision's flag is a changed label and its score the mean suspicion of the
   * voters ({@code relabel.decide.voters}). AUROC is exact (MLlib's BinaryClassificationMetrics without binning:
   * a distributed sort of the scores, ties counted once).
   */
  static void evaluateDetectors(Dataset<Row> scored, Decision.Setup setup, RunManifest manifest) {
    Column rows = not(col(HOLDOUT)).and(not(col(TRUSTED))).and(col(Y).isNotNull()).and(col(TRUTH).isNotNull());
    Column wrong = col(Y).notEqual(col(TRUTH));
    Dataset<Row> t = scored.filter(rows);
    Map<String, Column> flags = new LinkedHashMap<>();
    Map<String, Column> scores = new LinkedHashMap<>();
    for (Decision.Method m : setup.available()) {
      flags.put(m.key(), Decision.flags(m));
      scores.put(m.key(), Decision.suspicion(m));
    }
    flags.put("decision", col(Decision.CORRECTED_INDEX).notEqual(col(Y)));
    // the voters' suspicions averaged: the ranking a reviewer of the combined result would sort by
    Column combined = lit(0.0);
    for (Decision.Method m : setup.voters()) {
      combined = combined.plus(coalesce(Decision.suspicion(m), lit(0.0)));
    }
    scores.put("decision", combined.divide(setup.voters().size()));
    List<Column> sums = new ArrayList<>();
    sums.add(count(lit(true)));
    sums.add(count(wrong));
    for (Column f : flags.values()) {
      sums.add(count(f));
      sums.add(count(f.and(wrong)));
    }
    Row a = t.agg(sums.get(0), sums.subList(1, sums.size()).toArray(new Column[0])).first();
    // no labeled untrusted row with a known true label (e.g. only held-out rows carry the truth): nothing to score
    if (a.isNullAt(0) || a.getLong(0) == 0) {
      return;
    }
    long n = a.getLong(0);
    long positives = a.getLong(1);
    manifest.putMetric("eval.detect.rows", n);
    manifest.putMetric("eval.detect.wrongRows", positives);
    int i = 2;
    for (String name : flags.keySet()) {
      long flagged = a.getLong(i++);
      long hits = a.getLong(i++);
      String prefix = "eval.detect." + name + ".";
      manifest.putMetric(prefix + "flagged", flagged);
      manifest.putMetric(prefix + "precision", flagged == 0 ? 0.0 : (double) hits / flagged);
      manifest.putMetric(prefix + "recall", positives == 0 ? 0.0 : (double) hits / positives);
      if (positives > 0 && positives < n) {
        JavaRDD<Tuple2<Object, Object>> pairs = t
            .select(coalesce(scores.get(name).cast(DataTypes.DoubleType), lit(0.0)),
                when(wrong, 1.0).otherwise(0.0))
            .javaRDD()
            .map(r -> new Tuple2<>(r.getDouble(0), r.getDouble(1)));
        BinaryClassificationMetrics metrics = new BinaryClassificationMetrics(pairs.rdd());
        manifest.putMetric(prefix + "auroc", metrics.areaUnderROC());
        metrics.unpersist();
      }
    }
  }

  private static Column count(Column condition) {
    return sum(when(condition, 1L).otherwise(0L));
  }
}
