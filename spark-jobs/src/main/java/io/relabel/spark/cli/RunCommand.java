package io.relabel.spark.cli;

import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.spark.SparkSessions;
import io.relabel.spark.report.HtmlReport;
import io.relabel.spark.stage.Incremental;
import io.relabel.spark.stage.RelabelJob;
import io.relabel.spark.stage.Report;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code relabel run}: the pipeline on one input table. */
@Command(name = "run", mixinStandardHelpOptions = true,
    description = {"Finds and fixes wrong labels in a Parquet table and writes a corrected copy with an audit.",
        "Output: every input column plus label_given, label_corrected, label_confidence, label_changed and",
        "relabel_run_id, with the run manifest as _manifest.json and the run report as _report.html inside;",
        "staged, then committed atomically.",
        "Settings: see conf/relabel.properties (override with --conf FILE or --set key=value)."})
public final class RunCommand implements Callable<Integer> {

  @Mixin CommonOptions common;

  @Option(names = "--input", required = true, paramLabel = "PATH", description = "Input Parquet table (file or dir).")
  String input;

  @Option(names = "--output", required = true, paramLabel = "PATH", description = "Output directory (must not exist"
      + " unless --overwrite).")
  String output;

  @Option(names = "--overwrite", description = "Replace an existing output (atomically).")
  boolean overwrite;

  @Option(names = "--run-date", paramLabel = "YYYY-MM-DD", description = {"Write the partition run_date=DATE under"
      + " --output (a re-run of a date replaces its partition atomically; other dates are kept) with relabel's"
      + " state for the next run.", "For nightly schedules; see --incremental."})
  String runDate;

  @Option(names = "--incremental", paramLabel = "MODE", description = "With --run-date: off, refresh (embed only"
      + " new or changed rows, retrain on all) or reuse (embed and score only new or changed rows with the last"
      + " run's models). Sets relabel.incremental.mode.")
  String incremental;

  @Option(names = "--manifest", paramLabel = "FILE", description = "Also write the run manifest (JSON) here.")
  Path manifestCopy;

  @Override
  public Integer call() throws IOException {
    java.util.Map<String, String> flags = new java.util.HashMap<>();
    CommonOptions.putFlag(flags, RelabelParams.INCREMENTAL_MODE, incremental);
    Settings settings = common.settings(flags);
    LocalDate date = runDate == null ? null : Incremental.parseDate(runDate);
    SparkSession spark = SparkSessions.getOrCreate("relabel run", common.master());
    RelabelJob.Result r = new RelabelJob(spark, settings).run(input, output, overwrite, "run", date);
    String json = r.manifest().toJson();
    if (manifestCopy != null) {
      Path parent = manifestCopy.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
      Files.writeString(manifestCopy, json, StandardCharsets.UTF_8);
    }
    System.out.print(Report.render(json));
    System.out.println("output: " + r.outputPath());
    // an incremental reuse run scores only the changed rows and writes no report
    if (settings.get(RelabelParams.REPORT_ENABLED) && r.manifest().getMetric("incremental.rowsScored") == null) {
      System.out.println("report: " + new org.apache.hadoop.fs.Path(r.outputPath(), HtmlReport.FILE_NAME));
    }
    return 0;
  }
}
