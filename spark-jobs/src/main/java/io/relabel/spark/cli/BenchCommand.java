package io.relabel.spark.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.relabel.core.config.Settings;
import io.relabel.spark.SparkSessions;
import io.relabel.spark.bench.BenchOutput;
import io.relabel.spark.stage.RelabelJob;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code relabel bench}: the demo at several noise settings on the full Fashion-MNIST training split, in one JVM,
 * written as JSON (every run's manifest included) and as a markdown table. A benchmark, not a test: it asserts
 * nothing and its figures are whatever this machine measured.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = {"Without a subcommand: runs the demo at 20%%, 40%% and 60%% symmetric noise and 40%% pair noise",
        "(T-shirt<->shirt, pullover<->coat) and writes bench results as JSON and markdown under --out.",
        "Subcommands: hdl (HDL against flat kNN and thresholded pseudo-labels), scale (the hierarchy on 1M rows",
        "against flat k-means), embed (encoder throughput), emlc (the EMLC teacher against its alternatives),",
        "privacy (retraining on label-DP labels), detect (each detector and the combined decision),",
        "retriever (zero-shot vs GPL vs R-GPL on Cranfield and CISI)."},
    subcommands = {BenchHdlCommand.class, BenchScaleCommand.class, EmbedBenchCommand.class, BenchEmlcCommand.class,
        BenchPrivacyCommand.class, BenchDetectCommand.class, BenchRetrieverCommand.class,
        BenchIncrementalCommand.class})
public final class BenchCommand implements Callable<Integer> {

  @Mixin CommonOptions common;

  @Option(names = "--out", paramLabel = "DIR", description = "Where results go (default bench/results).")
  Path out = Path.of("bench", "results");

  @Option(names = "--settings", split = ";", paramLabel = "TYPE:RATE",
      description = "Noise settings to run, ';'-separated (default symmetric:0.2;symmetric:0.4;symmetric:0.6;"
          + "pair:0.4).")
  List<String> cases = List.of("symmetric:0.2", "symmetric:0.4", "symmetric:0.6", "pair:0.4");

  @Option(names = "--from", paramLabel = "DIR", description = "Fashion-MNIST IDX files in DIR instead of apt.")
  Path fromDir;

  @Override
  public Integer call() throws IOException {
    Settings base = common.settings();
    SparkSession spark = SparkSessions.getOrCreate("relabel bench", common.master());
    String clean = DemoSteps.fetch(spark, base, fromDir);
    ObjectMapper json = BenchOutput.JSON;
    ObjectNode doc = BenchOutput.start(spark);
    ArrayNode runs = doc.putArray("runs");
    List<String> rows = new ArrayList<>();
    for (String c : cases) {
      Settings s = base.with(noiseSettings(c));
      String noisy = DemoSteps.noisyCopy(spark, s, clean);
      BenchOutput.resetPeaks();
      long t0 = System.nanoTime();
      RelabelJob.Result r = DemoSteps.relabel(spark, s, noisy, "bench");
      double seconds = (System.nanoTime() - t0) / 1e9;
      ObjectNode run = runs.addObject();
      run.put("noise", c);
      run.put("pipelineSeconds", seconds);
      run.put("peakHeapMiB", BenchOutput.peakHeapBytes() / (double) (1 << 20));
      run.put("peakRssMiB", BenchOutput.peakRssKiB() / 1024.0);
      JsonNode manifest = json.readTree(r.manifest().toJson());
      run.set("manifest", manifest);
      rows.add(markdownRow(c, seconds, run, manifest));
    }
    BenchOutput.write(out, "bench", doc, markdown(doc, rows));
    return 0;
  }

  /** The settings of a --settings entry TYPE:RATE (noise type and real error rate); benches share the form. */
  static Map<String, String> noiseSettings(String entry) {
    String[] parts = entry.split(":");
    if (parts.length != 2) {
      throw new RelabelException("--settings entry '" + entry + "' is not TYPE:RATE");
    }
    Map<String, String> noise = new LinkedHashMap<>();
    noise.put("relabel.noise.type", parts[0]);
    noise.put("relabel.noise.rate", parts[1]);
    return noise;
  }

  private static String markdown(ObjectNode doc, List<String> rows) {
    StringBuilder sb = new StringBuilder();
    sb.append("# relabel bench: Fashion-MNIST, full 60k training split, 10k held-out test\n\n");
    sb.append(BenchOutput.machineLine(doc));
    sb.append("| noise | real noise rate | noisy-label acc | corrected-label acc | change precision | change recall"
        + " | test acc baseline | test acc retrained | test acc ceiling | pipeline s | rows/s by stage"
        + " | peak heap MiB | peak RSS MiB |\n");
    sb.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    rows.forEach(sb::append);
    return sb.toString();
  }

  private static String markdownRow(String noise, double seconds, ObjectNode run, JsonNode m) {
    JsonNode train = m.path("metrics").path("eval").path("train");
    JsonNode test = m.path("metrics").path("eval").path("test");
    StringBuilder stages = new StringBuilder();
    for (JsonNode s : m.path("stages")) {
      double sec = s.path("seconds").asDouble();
      long in = s.path("rowsIn").asLong();
      if (sec > 0 && in > 0) {
        stages.append(stages.length() == 0 ? "" : ", ").append(s.path("name").asText()).append(' ')
            .append(String.format(Locale.ROOT, "%.0f", in / sec));
      }
    }
    return String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %.0f | %s | %.0f | %.0f |%n",
        noise, f(train.path("noiseRate")), f(train.path("givenAccuracy")), f(train.path("correctedAccuracy")),
        f(train.path("changePrecision")), f(train.path("changeRecall")), f(test.path("baselineAccuracy")),
        f(test.path("retrainedAccuracy")), f(test.path("ceilingAccuracy")), seconds, stages,
        run.get("peakHeapMiB").asDouble(), run.get("peakRssMiB").asDouble());
  }

  private static String f(JsonNode v) {
    return v.isNumber() ? String.format(Locale.ROOT, "%.4f", v.asDouble()) : "-";
  }
}
