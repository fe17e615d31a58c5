package io.relabel.spark.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.spark.SparkSessions;
import io.relabel.spark.bench.BenchOutput;
import io.relabel.spark.bench.HdlBench;
import io.relabel.spark.data.DatasetFetcher;
import io.relabel.spark.data.Datasets;
import io.relabel.spark.data.NoiseInjection;
import io.relabel.spark.io.InputReader;
import io.relabel.spark.io.TableWriter;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code relabel bench hdl}: HDL against flat kNN (fixed k) and confidence-thresholded classifier pseudo-labels, on
 * Fashion-MNIST with 1% and 5% of the training labels kept (and a long-tailed 5% version), and on WordNet noun
 * glosses (5% labels; 30% symmetric noise). Data are fetched and prepared by the project's own commands' code.
 */
@Command(name = "hdl", mixinStandardHelpOptions = true,
    description = {"Benchmarks HDL pseudo-labels (fill mode) and corrections (noise mode) against flat kNN with a",
        "fixed k and thresholded classifier pseudo-labels, then the test accuracy of the MLP trained on each;",
        "writes bench-hdl-<time>.json and .md under --out."})
public final class BenchHdlCommand implements Callable<Integer> {

  /** A benchmark case: data set, how its labels are prepared, HDL mode, extra settings. */
  record Case(String name, String dataset, Map<String, String> prepare, String mode, Map<String, String> extra) {}

  static final List<Case> CASES = List.of(
      new Case("fashion-mnist-labeled-1", "fashion-mnist", Map.of("relabel.noise.rate", "0",
          "relabel.noise.labeledShare", "0.01"), "fill", Map.of()),
      new Case("fashion-mnist-labeled-5", "fashion-mnist", Map.of("relabel.noise.rate", "0",
          "relabel.noise.labeledShare", "0.05"), "fill", Map.of()),
      new Case("fashion-mnist-labeled-5-longtail-100", "fashion-mnist", Map.of("relabel.noise.rate", "0",
          "relabel.noise.labeledShare", "0.05", "relabel.noise.longTailRatio", "100"), "fill", Map.of()),
      new Case("wordnet-labeled-5", "wordnet", Map.of("relabel.noise.rate", "0",
          "relabel.noise.labeledShare", "0.05"), "fill", Map.of("relabel.input.featuresCol", "text")),
      new Case("wordnet-symmetric-30", "wordnet", Map.of("relabel.noise.type", "symmetric",
          "relabel.noise.rate", "0.3"), "noise", Map.of("relabel.input.featuresCol", "text")));

  @Mixin CommonOptions common;

  @Option(names = "--out", paramLabel = "DIR", description = "Where results go (default bench/results).")
  Path out = Path.of("bench", "results");

  @Option(names = "--cases", split = ",", paramLabel = "NAME",
      description = "Cases to run, comma-separated (default all): fashion-mnist-labeled-1, fashion-mnist-labeled-5,"
          + " fashion-mnist-labeled-5-longtail-100, wordnet-labeled-5, wordnet-symmetric-30.")
  List<String> names = CASES.stream().map(Case::name).toList();

  @Option(names = "--flat-k", paramLabel = "K", description = "k of the flat kNN baseline (default 10).")
  int flatK = 10;

  @Option(names = "--threshold", paramLabel = "P",
      description = "Confidence a classifier pseudo-label needs (default 0.95, FixMatch's).")
  double threshold = 0.95;

  @Override
  public Integer call() throws IOException {
    Settings base = common.settings();
    List<Case> chosen = new ArrayList<>();
    for (String n : names) {
      chosen.add(CASES.stream().filter(c -> c.name().equals(n)).findFirst().orElseThrow(() ->
          new RelabelException("unknown case '" + n + "'; known: "
              + String.join(", ", CASES.stream().map(Case::name).toList()))));
    }
    SparkSession spark = SparkSessions.getOrCreate("relabel bench hdl", common.master());
    ObjectNode doc = BenchOutput.start(spark);
    doc.put("flatK", flatK);
    doc.put("threshold", threshold);
    ArrayNode runs = doc.putArray("cases");
    StringBuilder md = new StringBuilder("# relabel bench hdl\n\n").append(BenchOutput.machineLine(doc));
    for (Case c : chosen) {
      Settings s = base.with(c.prepare()).with(c.extra());
      String input = prepare(spark, s, c);
      BenchOutput.resetPeaks();
      long t0 = System.nanoTime();
      Map<String, Object> m = HdlBench.run(spark, s, input, c.mode(), flatK, threshold);
      double seconds = (System.nanoTime() - t0) / 1e9;
      ObjectNode run = runs.addObject();
      run.put("case", c.name());
      run.put("mode", c.mode());
      run.put("seconds", seconds);
      run.put("peakHeapMiB", BenchOutput.peakHeapBytes() / (double) (1 << 20));
      run.set("settings", BenchOutput.JSON.valueToTree(new LinkedHashMap<>(s.asMap())));
      run.set("figures", BenchOutput.JSON.valueToTree(m));
      md.append(table(c, m, seconds));
    }
    BenchOutput.write(out, "bench-hdl", doc, md.toString());
    return 0;
  }

  /** Fetches the data set (once) and writes the case's prepared copy under relabel.data.dir/bench/. */
  static String prepare(SparkSession spark, Settings s, Case c) {
    String dataDir = s.get(RelabelParams.DATA_DIR);
    DatasetFetcher fetcher = Datasets.byName(c.dataset()).orElseThrow().fetcher();
    String clean = fetcher.fetch(new DatasetFetcher.Request(dataDir, false, null, s.get(RelabelParams.SEED)), () -> spark).table();
    String path = Path.of(dataDir, "bench", c.name() + "-seed" + s.get(RelabelParams.SEED)).toString();
    NoiseInjection.Result prepared = NoiseInjection.injectWithReport(InputReader.read(spark, clean), s);
    TableWriter.writeAtomically(prepared.table(), path, true, Map.of("_noise.json", prepared.report().json()));
    return path;
  }

  private static String table(Case c, Map<String, Object> m, double seconds) {
    StringBuilder sb = new StringBuilder();
    sb.append("## ").append(c.name()).append(" (").append(c.mode()).append(" mode; ")
        .append(m.get("rows")).append(" rows; HDL k = ").append(m.get("hdl.k")).append(", ")
        .append(m.get("hdl.leaves")).append(" leaves; case took ").append(String.format("%.0f", seconds))
        .append(" s, HDL ").append(String.format("%.0f", ((Number) m.get("seconds.hdl")).doubleValue()))
        .append(" s)\n\n");
    if (c.mode().equals("fill")) {
      sb.append("| method | pseudo-label accuracy | coverage of unlabeled rows | test acc of MLP on labeled + pseudo |\n");
      sb.append("|---|---|---|---|\n");
      sb.append(row("HDL", m.get("pseudo.hdl.accuracy"), m.get("pseudo.hdl.coverage"), m.get("test.hdl")));
      sb.append(row("flat kNN", m.get("pseudo.flatKnn.accuracy"), m.get("pseudo.flatKnn.coverage"),
          m.get("test.flatKnn")));
      sb.append(row("classifier >= threshold", m.get("pseudo.threshold.accuracy"), m.get("pseudo.threshold.coverage"),
          m.get("test.threshold")));
      sb.append(row("HDL, most confident rows", m.get("pseudo.hdlMatched.accuracy"),
          m.get("pseudo.hdlMatched.coverage"), null));
      sb.append(row("flat kNN, most confident rows", m.get("pseudo.flatKnnMatched.accuracy"),
          m.get("pseudo.flatKnnMatched.coverage"), null));
      sb.append(row("labeled rows only", null, null, m.get("test.labeledOnly")));
      sb.append(row("true labels (ceiling)", null, null, m.get("test.ceiling")));
    } else {
      sb.append("| labels | accuracy on training rows | change precision | change recall | test acc of MLP trained on them |\n");
      sb.append("|---|---|---|---|---|\n");
      sb.append("| noisy as given | ").append(BenchOutput.f4(m.get("labels.given.accuracy")))
          .append(" | - | - | ").append(BenchOutput.f4(m.get("test.noisy"))).append(" |\n");
      sb.append("| HDL (noise mode) | ").append(BenchOutput.f4(m.get("labels.hdl.accuracy"))).append(" | ")
          .append(BenchOutput.f4(m.get("labels.hdl.changePrecision"))).append(" | ")
          .append(BenchOutput.f4(m.get("labels.hdl.changeRecall"))).append(" | ")
          .append(BenchOutput.f4(m.get("test.hdl"))).append(" |\n");
      sb.append("| flat kNN (leave-one-out) | ").append(BenchOutput.f4(m.get("labels.flatKnn.accuracy"))).append(" | ")
          .append(BenchOutput.f4(m.get("labels.flatKnn.changePrecision"))).append(" | ")
          .append(BenchOutput.f4(m.get("labels.flatKnn.changeRecall"))).append(" | ")
          .append(BenchOutput.f4(m.get("test.flatKnn"))).append(" |\n");
      sb.append("| true labels (ceiling) | - | - | - | ").append(BenchOutput.f4(m.get("test.ceiling"))).append(" |\n");
    }
    sb.append("\nHeld-out rows (never vote): HDL label accuracy ").append(BenchOutput.f4(m.get("heldOut.hdlAccuracy")))
        .append(", flat kNN ").append(BenchOutput.f4(m.get("heldOut.flatKnnAccuracy"))).append(".\n\n");
    return sb.toString();
  }

  private static String row(String name, Object a, Object b, Object c) {
    return "| " + name + " | " + BenchOutput.f4(a) + " | " + BenchOutput.f4(b) + " | " + BenchOutput.f4(c) + " |\n";
  }
}
