package io.relabel.spark.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.spark.SparkSessions;
import io.relabel.spark.bench.BenchOutput;
import io.relabel.spark.data.DatasetFetcher;
import io.relabel.spark.data.Datasets;
import io.relabel.spark.stage.EmbedJob;
import io.relabel.spark.stage.RelabelJob;
import java.io.IOException;
import java.nio.file.Files;
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
 * {@code relabel bench privacy}: retraining with predicted hard labels under label differential privacy (methods.md
 * section 1). For each data set, ε and seed the pipeline privatises the training labels once (LP-2ST by default) and
 * reports, on the clean held-out split, the baseline trained on the privatised labels, full retraining and consensus
 * retraining, with the consensus set's share |S|/n and its label accuracy. Embeddings are computed once per data set
 * and reused, so the runs differ only in the privatised labels and the seeds.
 */
@Command(name = "privacy", mixinStandardHelpOptions = true,
    description = {"Benchmarks baseline vs full vs consensus retraining on label-DP (privatised) labels of",
        "Fashion-MNIST (PCA-128) and WordNet noun glosses (MiniLM) at several epsilon and seeds; writes",
        "bench-privacy-<time>.json and .md under --out."})
public final class BenchPrivacyCommand implements Callable<Integer> {

  @Mixin CommonOptions common;

  @Option(names = "--out", paramLabel = "DIR", description = "Where results go (default bench/results).")
  Path out = Path.of("bench", "results");

  @Option(names = "--datasets", split = ",", paramLabel = "NAME",
      description = "Data sets, comma-separated (default fashion-mnist,wordnet).")
  List<String> datasets = List.of("fashion-mnist", "wordnet");

  @Option(names = "--fashion-epsilons", split = ",", paramLabel = "EPS",
      description = "Epsilons for Fashion-MNIST (default 0.2,0.4,0.8,1.6).")
  List<Double> fashionEpsilons = List.of(0.2, 0.4, 0.8, 1.6);

  @Option(names = "--wordnet-epsilons", split = ",", paramLabel = "EPS",
      description = "Epsilons for WordNet (default 0.5,1,2,3).")
  List<Double> wordnetEpsilons = List.of(0.5, 1.0, 2.0, 3.0);

  @Option(names = "--seeds", split = ",", paramLabel = "SEED", description = "Seeds (default 1,2,3).")
  List<Long> seeds = List.of(1L, 2L, 3L);

  @Option(names = "--mechanism", paramLabel = "NAME", description = "rr or lp-2st (default lp-2st).")
  String mechanism = "lp-2st";

  @Override
  public Integer call() throws IOException {
    if (!mechanism.equals("rr") && !mechanism.equals("lp-2st")) {
      throw new RelabelException("--mechanism: unknown mechanism '" + mechanism + "'; accepted: rr, lp-2st");
    }
    Settings base = common.settings().with(Map.of(
        "relabel.privacy.mechanism", mechanism,
        "relabel.eval.compareRetrain", "true",
        "relabel.hdl.mode", "off",
        "relabel.emlc.mode", "off",
        "relabel.consensus.retrain", "consensus"));
    SparkSession spark = SparkSessions.getOrCreate("relabel bench privacy", common.master());
    ObjectNode doc = BenchOutput.start(spark);
    doc.put("mechanism", mechanism);
    ArrayNode cases = doc.putArray("cases");
    StringBuilder md = new StringBuilder("# relabel bench privacy: retraining on label-DP labels (" + mechanism
        + ")\n\n").append(BenchOutput.machineLine(doc));
    md.append("Test accuracy on the clean held-out split, mean ± standard deviation over seeds ")
        .append(seeds).append(". |S|/n: share of the privatised rows in the consensus set; acc in S: how many of"
            + " their labels are right; privatised labels right: share of training labels RR left unchanged.\n\n");
    for (String name : datasets) {
      DatasetFetcher fetcher = Datasets.byName(name).orElseThrow(() -> new RelabelException(
          "--datasets: unknown data set '" + name + "'; accepted: fashion-mnist, wordnet")).fetcher();
      Settings ds = name.equals("wordnet") ? base.with(Map.of("relabel.input.featuresCol", "text")) : base;
      String clean = fetcher.fetch(new DatasetFetcher.Request(ds.get(RelabelParams.DATA_DIR), false, null,
          ds.get(RelabelParams.SEED)), () -> spark).table();
      String embeddings = embedOnce(spark, ds, name, clean);
      Settings withEmb = ds.with(Map.of("relabel.embed.reuse", embeddings));
      List<Double> epsilons = name.equals("wordnet") ? wordnetEpsilons : fashionEpsilons;
      // the ceiling (the same classifier on the true labels) does not depend on epsilon: it is trained once
      boolean first = true;
      JsonNode ceiling = null;
      md.append("## ").append(name).append("\n\n| ε | privatised labels right | baseline | full RT | consensus RT"
          + " | consensus RT − baseline | |S|/n | acc in S | s per run |\n|---|---|---|---|---|---|---|---|---|\n");
      for (double eps : epsilons) {
        ObjectNode c = cases.addObject();
        c.put("dataset", name);
        c.put("epsilon", eps);
        ArrayNode runs = c.putArray("runs");
        Map<String, List<Double>> figures = new LinkedHashMap<>();
        for (long seed : seeds) {
          Settings s = withEmb.with(Map.of("relabel.seed", String.valueOf(seed),
              "relabel.privacy.epsilon", String.valueOf(eps), "relabel.eval.ceiling", String.valueOf(first)));
          long t0 = System.nanoTime();
          RelabelJob.Result r = new RelabelJob(spark, s).run(clean,
              Path.of(s.get(RelabelParams.DATA_DIR), "bench", "privacy-out").toString(), true, "bench privacy");
          double seconds = (System.nanoTime() - t0) / 1e9;
          JsonNode manifest = BenchOutput.JSON.readTree(r.manifest().toJson());
          ObjectNode run = runs.addObject();
          run.put("seed", seed);
          run.put("pipelineSeconds", seconds);
          run.set("manifest", manifest);
          JsonNode m = manifest.path("metrics");
          if (first) {
            ceiling = m.path("eval").path("test").path("ceilingAccuracy");
            first = false;
          }
          add(figures, "kept", m.path("eval").path("privacy").path("keptShare"));
          add(figures, "baseline", m.path("eval").path("test").path("baselineAccuracy"));
          add(figures, "full", m.path("eval").path("test").path("fullRetrainAccuracy"));
          add(figures, "consensus", m.path("eval").path("test").path("consensusRetrainAccuracy"));
          add(figures, "share", m.path("consensus").path("share"));
          add(figures, "accInS", m.path("eval").path("consensus").path("labelAccuracyInS"));
          figures.computeIfAbsent("gain", k -> new ArrayList<>()).add(
              m.path("eval").path("test").path("consensusRetrainAccuracy").asDouble(Double.NaN)
                  - m.path("eval").path("test").path("baselineAccuracy").asDouble(Double.NaN));
          figures.computeIfAbsent("seconds", k -> new ArrayList<>()).add(seconds);
        }
        ObjectNode summary = c.putObject("summary");
        figures.forEach((k, v) -> {
          summary.putObject(k).put("mean", mean(v)).put("sd", sd(v));
        });
        md.append(String.format(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %s | %s | %.0f |%n", eps,
            ms(figures.get("kept")), ms(figures.get("baseline")), ms(figures.get("full")),
            ms(figures.get("consensus")), signed(figures.get("gain")), ms(figures.get("share")),
            ms(figures.get("accInS")), mean(figures.get("seconds"))));
      }
      md.append(String.format(Locale.ROOT, "%nCeiling (the same classifier on the true labels, seed %d): %s.%n%n",
          seeds.get(0), ceiling != null && ceiling.isNumber() ? String.format(Locale.ROOT, "%.4f", ceiling.asDouble())
              : "-"));
    }
    BenchOutput.write(out, "bench-privacy", doc, md.toString());
    return 0;
  }

  /** Embeds the data set once (PCA-128 for images, MiniLM for glosses) under data/bench and returns the path. */
  private static String embedOnce(SparkSession spark, Settings s, String name, String clean) {
    Path path = Path.of(s.get(RelabelParams.DATA_DIR), "bench", name + "-embeddings-seed" + s.get(RelabelParams.SEED));
    if (!Files.exists(path.resolve("_SUCCESS"))) {
      new EmbedJob(spark, s).run(clean, path.toString(), true);
    }
    return path.toString();
  }

  private static void add(Map<String, List<Double>> figures, String key, JsonNode v) {
    figures.computeIfAbsent(key, k -> new ArrayList<>()).add(v.isNumber() ? v.asDouble() : Double.NaN);
  }

  static double mean(List<Double> v) {
    return v.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
  }

  /** Sample standard deviation (n − 1); 0 for one value. */
  static double sd(List<Double> v) {
    if (v.size() < 2) {
      return 0;
    }
    double m = mean(v);
    return Math.sqrt(v.stream().mapToDouble(x -> (x - m) * (x - m)).sum() / (v.size() - 1));
  }

  private static String ms(List<Double> v) {
    return String.format(Locale.ROOT, "%.4f ± %.4f", mean(v), sd(v));
  }

  static String signed(List<Double> v) {
    return String.format(Locale.ROOT, "%+.4f ± %.4f", mean(v), sd(v));
  }
}
