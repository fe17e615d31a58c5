package io.relabel.spark.cli;

import io.relabel.core.config.Settings;
import io.relabel.spark.SparkSessions;
import io.relabel.spark.stage.RelabelJob;
import io.relabel.spark.stage.Report;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code relabel demo}: README's main command, on real data end to end. */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = {"Fetches Fashion-MNIST (Debian package dataset-fashion-mnist), makes 40%% of its training labels",
        "wrong (exact, symmetric, seeded), runs the pipeline and prints what it fixed against the true labels.",
        "Tables go under relabel.data.dir (default ./data): fashion-mnist/, demo/<noisy copy>[-relabeled]/."})
public final class DemoCommand implements Callable<Integer> {

  @Mixin CommonOptions common;

  @Option(names = "--noise-rate", paramLabel = "R", description = "Real error rate of the noisy rows (default 0.4).")
  Double noiseRate;

  @Option(names = "--noise-type", paramLabel = "TYPE", description = "symmetric (default) or pair.")
  String noiseType;

  @Option(names = "--trusted-size", paramLabel = "N", description = "Training rows kept clean and marked trusted"
      + " (default 0).")
  Integer trustedSize;

  @Option(names = "--from", paramLabel = "DIR", description = "Read the Fashion-MNIST IDX files from DIR instead of"
      + " downloading the Debian package.")
  Path fromDir;

  @Override
  public Integer call() {
    Map<String, String> extra = new LinkedHashMap<>();
    if (noiseRate != null) {
      extra.put("relabel.noise.rate", noiseRate.toString());
    }
    if (noiseType != null) {
      extra.put("relabel.noise.type", noiseType);
    }
    if (trustedSize != null) {
      extra.put("relabel.noise.trustedSize", trustedSize.toString());
    }
    Settings settings = common.settings(extra);
    SparkSession spark = SparkSessions.getOrCreate("relabel demo", common.master());
    String clean = DemoSteps.fetch(spark, settings, fromDir);
    String noisy = DemoSteps.noisyCopy(spark, settings, clean);
    RelabelJob.Result r = DemoSteps.relabel(spark, settings, noisy, "demo");
    System.out.print(Report.render(r.manifest().toJson()));
    System.out.println("input:  " + noisy);
    System.out.println("output: " + r.outputPath());
    return 0;
  }
}
