package io.relabel.spark.stage;

import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.spark.cl.ConfidentLearningStage;
import io.relabel.spark.io.FeatureKind;
import io.relabel.spark.io.RunManifest;
import io.relabel.spark.io.ValidatedInput;
import io.relabel.spark.report.HtmlReport;
import io.relabel.spark.report.ReportStats;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * The run report's link to {@link RelabelJob}: which of the job's columns the figures read, and the sidecar files
 * of the write. The figures come from the scored rows (narrow and persisted, one row per input row, labels as class
 * indices), not from the output table, whose join would otherwise run twice.
 */
final class RunReport {

  private RunReport() {}

  /** The figures of a run from its scored rows, or null when {@code relabel.report.enabled} is false. */
  static ReportStats.Stats stats(Dataset<Row> scored, Dataset<Row> canonical, ValidatedInput in,
      Decision.Setup decide, Settings settings) {
    if (!settings.get(RelabelParams.REPORT_ENABLED)) {
      return null;
    }
    String id = in.contract().idCol();
    boolean cl = decide.available().contains(Decision.Method.CL);
    ReportStats.Columns c = new ReportStats.Columns(id, RelabelJob.Y, Decision.CORRECTED_INDEX, "label_confidence",
        RelabelJob.TRUSTED, RelabelJob.HOLDOUT, cl ? ConfidentLearningStage.QUALITY : null, Decision.REASONS);
    List<String> methods = decide.available().stream().map(Decision.Method::key).toList();
    boolean text = in.featureKind() == FeatureKind.TEXT;
    return ReportStats.compute(scored, c, in.classes(), methods, settings.get(RelabelParams.REPORT_SAMPLES),
        settings.get(RelabelParams.SEED), text ? canonical : null, in.contract().featuresCol());
  }

  /** The write's sidecars: the manifest, and the report rendered from it when there are figures. */
  static Map<String, String> sidecars(String manifestJson, ReportStats.Stats stats) {
    return stats == null ? Map.of(RunManifest.FILE_NAME, manifestJson)
        : Map.of(RunManifest.FILE_NAME, manifestJson, HtmlReport.FILE_NAME, HtmlReport.render(manifestJson, stats));
  }
}
