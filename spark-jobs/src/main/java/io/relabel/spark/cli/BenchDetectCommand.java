package io.relabel.spark.cli;

import static io.relabel.spark.bench.BenchOutput.f4;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.spark.SparkSessions;
import io.relabel.spark.bench.BenchOutput;
import io.relabel.spark.stage.RelabelJob;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code relabel bench detect}: every detector of a run, and the one decision made from them, scored against the truly
 * wrong rows of Fashion-MNIST with injected noise. One pipeline run per noise setting computes all of them on the
 * same rows (out-of-fold consensus, confident learning, HDL, EMLC with a disjoint trusted set, the retrained model),
 * so the table compares like with like.
 */
@Command(name = "detect", mixinStandardHelpOptions = true,
    description = {"Benchmarks each detector (model, consensus, confident learning, HDL, EMLC) and the combined",
        "decision as detectors of wrong labels (precision, recall, AUROC) on Fashion-MNIST; writes",
        "bench-detect-<time>.json and .md under --out."})
public final class BenchDetectCommand implements Callable<Integer> {

  private static final List<String> METHODS = List.of("model", "consensus", "cl", "hdl", "emlc", "decision");

  @Mixin CommonOptions common;

  @Option(names = "--out", paramLabel = "DIR", description = "Where results go (default bench/results).")
  Path out = Path.of("bench", "results");

  @Option(names = "--settings", split = ";", paramLabel = "TYPE:RATE",
      description = "Noise settings, ';'-separated (default symmetric:0.4;pair:0.4).")
  List<String> cases = List.of("symmetric:0.4", "pair:0.4");

  @Option(names = "--trusted", paramLabel = "N", description = "Trusted rows for EMLC (default 1000; 0: no EMLC).")
  int trusted = 1000;

  @Option(names = "--from", paramLabel = "DIR", description = "Fashion-MNIST IDX files in DIR instead of apt.")
  Path fromDir;

  @Override
  public Integer call() throws IOException {
    // the decision rule under test unless --set overrides it
    Settings base = common.settings(common.overrides.containsKey("relabel.decide.policy") ? Map.of()
        : Map.of("relabel.decide.policy", "vote"));
    SparkSession spark = SparkSessions.getOrCreate("relabel bench detect", common.master());
    String clean = DemoSteps.fetch(spark, base, fromDir);
    ObjectNode doc = BenchOutput.start(spark);
    doc.put("trustedRows", trusted);
    ArrayNode runs = doc.putArray("cases");
    StringBuilder md = new StringBuilder("# relabel bench detect: detectors of wrong labels on Fashion-MNIST\n\n")
        .append(BenchOutput.machineLine(doc));
    for (String c : cases) {
      Map<String, String> noise = BenchCommand.noiseSettings(c);
      noise.put("relabel.noise.trustedSize", String.valueOf(trusted));
      noise.put("relabel.emlc.mode", trusted > 0 ? "emlc" : "off");
      Settings s = base.with(noise);
      String noisy = DemoSteps.noisyCopy(spark, s, clean);
      BenchOutput.resetPeaks();
      long t0 = System.nanoTime();
      RelabelJob.Result r = new RelabelJob(spark, s).run(noisy, noisy + "-detect", true, "bench detect");
      double seconds = (System.nanoTime() - t0) / 1e9;
      ObjectNode run = runs.addObject();
      run.put("noise", c);
      run.put("pipelineSeconds", seconds);
      JsonNode manifest = BenchOutput.JSON.readTree(r.manifest().toJson());
      run.set("manifest", manifest);
      JsonNode m = manifest.path("metrics");
      JsonNode d = m.path("eval").path("detect");
      md.append(String.format(Locale.ROOT, "## %s noise (real error rate %s; %s of %s scored rows wrong; policy %s;"
              + " run took %.0f s)%n%n", c, f4(m.path("eval").path("train").path("noiseRate")),
          d.path("wrongRows").asText("-"), d.path("rows").asText("-"),
          s.get(RelabelParams.DECIDE_POLICY), seconds));
      md.append("| detector | rows flagged | precision | recall | AUROC |\n|---|---|---|---|---|\n");
      for (String method : METHODS) {
        JsonNode x = d.path(method);
        if (x.isMissingNode()) {
          continue;
        }
        md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s |%n", label(method),
            x.path("flagged").asText("-"), f4(x.path("precision")), f4(x.path("recall")), f4(x.path("auroc"))));
      }
      md.append(String.format(Locale.ROOT, "%nCorrected-label accuracy of the decision: %s (given %s); test"
              + " accuracy of the retrained model %s, EMLC's student %s.%n%n",
          f4(m.path("eval").path("train").path("correctedAccuracy")),
          f4(m.path("eval").path("train").path("givenAccuracy")),
          f4(m.path("eval").path("test").path("retrainedAccuracy")),
          f4(m.path("eval").path("test").path("emlcStudentAccuracy"))));
    }
    BenchOutput.write(out, "bench-detect", doc, md.toString());
    return 0;
  }

  private static String label(String method) {
    return switch (method) {
      case "model" -> "retrained model";
      case "consensus" -> "consensus (out-of-fold ỹ ≠ given)";
      case "cl" -> "confident learning (prune by noise rate)";
      case "hdl" -> "HDL";
      case "emlc" -> "EMLC soft label";
      default -> "**decision**";
    };
  }
}
