package io.relabel.spark.cli;

import static io.relabel.spark.bench.BenchOutput.f4;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.relabel.core.config.Settings;
import io.relabel.spark.SparkSessions;
import io.relabel.spark.bench.BenchOutput;
import io.relabel.spark.stage.RelabelJob;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code relabel bench emlc}: EMLC against what a user would otherwise run, on Fashion-MNIST with a trusted set drawn
 * disjointly from the noisy rows: training on the noisy labels as they are, consensus retraining, the MLC baseline
 * teacher, EMLC, and the ceiling (the same classifier on the true labels). For each noise setting the pipeline runs
 * once per teacher mode on the same noisy table with the same seed, so the rows, the split and every stage before
 * the teacher are the same; the bench checks that the baseline and consensus figures agree between the runs.
 */
@Command(name = "emlc", mixinStandardHelpOptions = true,
    description = {"Benchmarks the EMLC teacher against the noisy baseline, consensus retraining, the MLC teacher",
        "and the ceiling on Fashion-MNIST with a disjoint trusted set; writes bench-emlc-<time>.json and .md",
        "under --out."})
public final class BenchEmlcCommand implements Callable<Integer> {

  @Mixin CommonOptions common;

  @Option(names = "--out", paramLabel = "DIR", description = "Where results go (default bench/results).")
  Path out = Path.of("bench", "results");

  @Option(names = "--settings", split = ";", paramLabel = "TYPE:RATE",
      description = "Noise settings, ';'-separated (default symmetric:0.2;symmetric:0.5;symmetric:0.8;"
          + "symmetric:0.9;pair:0.4). Rates are real error rates.")
  List<String> cases = List.of("symmetric:0.2", "symmetric:0.5", "symmetric:0.8", "symmetric:0.9", "pair:0.4");

  @Option(names = "--trusted", paramLabel = "N", description = "Trusted rows (default 1000).")
  int trusted = 1000;

  @Option(names = "--modes", split = ",", paramLabel = "MODE",
      description = "Teacher modes to run, comma-separated (default mlc,emlc).")
  List<String> modes = List.of("mlc", "emlc");

  @Option(names = "--from", paramLabel = "DIR", description = "Fashion-MNIST IDX files in DIR instead of apt.")
  Path fromDir;

  @Override
  public Integer call() throws IOException {
    for (String m : modes) {
      if (!m.equals("emlc") && !m.equals("mlc")) {
        throw new RelabelException("--modes: unknown mode '" + m + "'; accepted: emlc, mlc");
      }
    }
    Settings base = common.settings();
    SparkSession spark = SparkSessions.getOrCreate("relabel bench emlc", common.master());
    String clean = DemoSteps.fetch(spark, base, fromDir);
    ObjectNode doc = BenchOutput.start(spark);
    doc.put("trustedRows", trusted);
    ArrayNode runs = doc.putArray("cases");
    List<String> rows = new ArrayList<>();
    for (String c : cases) {
      Map<String, String> noise = BenchCommand.noiseSettings(c);
      noise.put("relabel.noise.trustedSize", String.valueOf(trusted));
      noise.put("relabel.hdl.mode", "off");
      Settings s = base.with(noise);
      String noisy = DemoSteps.noisyCopy(spark, s, clean);
      ObjectNode run = runs.addObject();
      run.put("noise", c);
      ObjectNode byMode = run.putObject("modes");
      for (int i = 0; i < modes.size(); i++) {
        // the ceiling is the same in every run of a case: it is trained once
        // the teacher's soft labels decide (policy model), so the corrected-label column is the teacher's own
        Settings ms = s.with(Map.of("relabel.emlc.mode", modes.get(i), "relabel.decide.policy", "model",
            "relabel.eval.ceiling", String.valueOf(i == 0)));
        BenchOutput.resetPeaks();
        long t0 = System.nanoTime();
        RelabelJob.Result r = new RelabelJob(spark, ms).run(noisy, noisy + "-" + modes.get(i), true, "bench emlc");
        ObjectNode one = byMode.putObject(modes.get(i));
        one.put("pipelineSeconds", (System.nanoTime() - t0) / 1e9);
        one.put("peakHeapMiB", BenchOutput.peakHeapBytes() / (double) (1 << 20));
        one.set("manifest", BenchOutput.JSON.readTree(r.manifest().toJson()));
      }
      rows.add(markdownRow(c, run));
    }
    BenchOutput.write(out, "bench-emlc", doc, markdown(doc, rows));
    return 0;
  }

  private static JsonNode metrics(ObjectNode run, String mode) {
    return run.path("modes").path(mode).path("manifest").path("metrics");
  }

  private String markdown(ObjectNode doc, List<String> rows) {
    StringBuilder sb = new StringBuilder();
    sb.append("# relabel bench emlc: Fashion-MNIST, ").append(trusted)
        .append(" trusted rows (disjoint), 10k held-out test\n\n");
    sb.append(BenchOutput.machineLine(doc));
    sb.append("Test accuracy of each method's final model; corrected-label accuracy on the untrusted training rows;"
        + " seconds per teacher epoch.\n\n");
    sb.append("| noise | real error rate | noisy baseline | consensus | MLC | EMLC | ceiling | EMLC - ceiling"
        + " | consensus set purity | corrected labels: MLC / EMLC | s/epoch MLC | s/epoch EMLC"
        + " | baseline same in every run |\n");
    sb.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    rows.forEach(sb::append);
    return sb.toString();
  }

  private String markdownRow(String noise, ObjectNode run) {
    String first = modes.get(0);
    JsonNode m0 = metrics(run, first);
    JsonNode e = metrics(run, "emlc");
    JsonNode l = metrics(run, "mlc");
    boolean same = true;
    for (String mode : modes) {
      JsonNode mm = metrics(run, mode);
      same &= mm.path("eval").path("test").path("baselineAccuracy").equals(m0.path("eval").path("test")
          .path("baselineAccuracy"))
          && mm.path("eval").path("test").path("retrainedAccuracy").equals(m0.path("eval").path("test")
          .path("retrainedAccuracy"));
    }
    run.put("baselineSameInEveryRun", same);
    double ceiling = m0.path("eval").path("test").path("ceilingAccuracy").asDouble(Double.NaN);
    double emlc = e.path("eval").path("test").path("emlcStudentAccuracy").asDouble(Double.NaN);
    // with a teacher a run's corrected labels are the teacher's, so consensus is shown by the label accuracy of
    // its retraining set S (its own corrected labels would need a run without a teacher)
    return String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s / %s | %s | %s | %s |%n",
        noise, f4(m0.path("eval").path("train").path("noiseRate")),
        f4(m0.path("eval").path("test").path("baselineAccuracy")),
        f4(m0.path("eval").path("test").path("retrainedAccuracy")),
        f4(l.path("eval").path("test").path("emlcStudentAccuracy")), f4(e.path("eval").path("test")
            .path("emlcStudentAccuracy")), f4(m0.path("eval").path("test").path("ceilingAccuracy")),
        Double.isNaN(emlc) || Double.isNaN(ceiling) ? "-" : String.format(Locale.ROOT, "%+.4f", emlc - ceiling),
        f4(m0.path("eval").path("consensus").path("labelAccuracyInS")),
        f4(l.path("eval").path("train").path("correctedAccuracy")),
        f4(e.path("eval").path("train").path("correctedAccuracy")),
        f4(l.path("emlc").path("secondsPerEpoch")), f4(e.path("emlc").path("secondsPerEpoch")), same);
  }
}
