package io.relabel.spark.cli;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.rand;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.spark.SparkSessions;
import io.relabel.spark.bench.BenchOutput;
import io.relabel.spark.embed.Embedding;
import io.relabel.spark.embed.Encoder;
import io.relabel.spark.embed.EncoderFactory;
import io.relabel.spark.embed.EncoderRunner;
import io.relabel.spark.embed.ModelIdentity;
import io.relabel.spark.io.InputReader;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code relabel bench embed}: the throughput of every encoder this machine can run, on real data: vectors and pca
 * (and dl4j-model when {@code relabel.embed.modelPath} is set) on Fashion-MNIST, the text encoders on WordNet noun
 * glosses. A data set that has not been fetched is skipped with a message. Written as JSON and a markdown table.
 *
 * <p>Each encoder's model is built before the clock starts (one row encoded first): the figure is the steady state
 * an executor reaches after its first batch; the build time is reported apart. Rows per second per core divides by
 * the cores the pass could use, the session's default parallelism capped by the table's partitions, as the embed
 * stage's manifest metric does. On a shared machine that figure drops with other people's load, so the CPU time of
 * the encoder's own calls is measured too: rows per encoder CPU-second is the encoder's speed on one core.
 */
@Command(name = "embed", mixinStandardHelpOptions = true,
    description = {"Measures the throughput (rows/s per core) of each available encoder:",
        "vectors and pca on Fashion-MNIST (bin/relabel fetch fashion-mnist),",
        "text-minilm and text-bge on WordNet noun glosses (bin/relabel fetch wordnet),",
        "both under relabel.data.dir; writes JSON and markdown under --out."})
public final class EmbedBenchCommand implements Callable<Integer> {

  private static final Logger LOG = LoggerFactory.getLogger(EmbedBenchCommand.class);

  @Mixin CommonOptions common;

  @Option(names = "--out", paramLabel = "DIR", description = "Where results go (default bench/results).")
  Path out = Path.of("bench", "results");

  @Option(names = "--rows", paramLabel = "N", description = "Rows of Fashion-MNIST per numeric encoder (default"
      + " 20000).")
  int numericRows = 20_000;

  @Option(names = "--text-rows", paramLabel = "N", description = "WordNet glosses per text encoder (default 4000).")
  int textRows = 4_000;

  @Override
  public Integer call() throws IOException {
    Settings settings = common.settings();
    SparkSession spark = SparkSessions.getOrCreate("relabel bench embed", common.master());
    String dataDir = settings.get(RelabelParams.DATA_DIR);
    ObjectMapper json = BenchOutput.JSON;
    ObjectNode doc = BenchOutput.start(spark);
    doc.put("defaultParallelism", spark.sparkContext().defaultParallelism());
    doc.put("loadAverageAtStart", loadAverage());
    ArrayNode runs = doc.putArray("runs");
    ArrayNode skipped = doc.putArray("skipped");
    int batch = settings.get(RelabelParams.EMBED_BATCH);

    Dataset<Row> images = table(spark, Path.of(dataDir, "fashion-mnist"), numericRows, skipped,
        "Fashion-MNIST; run `bin/relabel fetch fashion-mnist` (vectors, pca and dl4j-model skipped)");
    if (images != null) {
      String features = settings.get(RelabelParams.FEATURES_COL);
      int dim = ((List<?>) images.select(features).first().getList(0)).size();
      List<String> numeric = new ArrayList<>(List.of("vectors"));
      int pcaDims = settings.get(RelabelParams.EMBED_PCA_DIMS);
      if (pcaDims > 0 && pcaDims < dim) {
        numeric.add("pca");
      } else {
        skipped.add("pca: relabel.embed.pcaDims=" + pcaDims + " is not between 1 and " + (dim - 1));
      }
      if (!settings.get(RelabelParams.EMBED_MODEL_PATH).isEmpty()) {
        numeric.add("dl4j-model");
      } else {
        skipped.add("dl4j-model: relabel.embed.modelPath is not set");
      }
      Dataset<Row> fit = images.withColumn("_fit", lit(true))
          .withColumn("_u", rand(settings.get(RelabelParams.SEED)));
      for (String name : numeric) {
        runs.add(measure(json, name, "fashion-mnist", fit, features, dim, settings, batch));
      }
    }
    Dataset<Row> glosses = table(spark, Path.of(dataDir, "wordnet"), textRows, skipped,
        "WordNet glosses; run `bin/relabel fetch wordnet` (text-minilm and text-bge skipped)");
    if (glosses != null) {
      String text = textColumn(glosses, settings.get(RelabelParams.FEATURES_COL));
      if (text == null) {
        skipped.add("text encoders: the WordNet table has no string column to embed");
      } else {
        Dataset<Row> t = glosses.withColumn("_fit", lit(true)).withColumn("_u", lit(0.0));
        for (String name : List.of("text-minilm", "text-bge")) {
          runs.add(measure(json, name, "wordnet glosses (" + text + ")", t, text, 0, settings, batch));
        }
      }
    }
    BenchOutput.write(out, "embed-bench", doc, markdown(doc));
    return 0;
  }

  /** The first {@code rows} rows by id of the table at {@code path}, cached in the session's parallelism. */
  private static Dataset<Row> table(SparkSession spark, Path path, int rows, ArrayNode skipped, String what) {
    if (!Files.isDirectory(path)) {
      String msg = "no table at " + path + ": " + what;
      LOG.info("bench embed: {}", msg);
      System.out.println(msg);
      skipped.add(msg);
      return null;
    }
    Dataset<Row> t = InputReader.read(spark, path.toString()).orderBy(col("id")).limit(rows)
        .repartition(spark.sparkContext().defaultParallelism()).persist(StorageLevel.MEMORY_AND_DISK());
    LOG.info("bench embed: {} rows of {}", t.count(), path);
    return t;
  }

  /** The configured features column when it holds strings, else the first string column that is not an id. */
  private static String textColumn(Dataset<Row> t, String configured) {
    List<String> roles = List.of("id", "label", "label_true", "split");
    String first = null;
    for (StructField f : t.schema().fields()) {
      if (f.dataType().equals(DataTypes.StringType)) {
        if (f.name().equals(configured)) {
          return configured;
        }
        if (first == null && !roles.contains(f.name())) {
          first = f.name();
        }
      }
    }
    return first;
  }

  private static ObjectNode measure(ObjectMapper json, String name, String data, Dataset<Row> table, String features,
      int dim, Settings settings, int batch) {
    long t0 = System.nanoTime();
    Encoder enc = EncoderFactory.fitted(name, table, features, dim, new EncoderFactory.FitColumns(null, "_fit",
        null, "_u"), settings, settings.get(RelabelParams.SEED));
    double fitSeconds = (System.nanoTime() - t0) / 1e9;
    long t1 = System.nanoTime();
    enc.encode(List.of(EncoderRunner.input(table.select(features).first().get(0))));
    double buildSeconds = (System.nanoTime() - t1) / 1e9;
    long cpu0 = CpuTimed.NANOS.get();
    Embedding.Pass p = Embedding.encode(table, features, new CpuTimed(enc), batch, "_emb", List.of("id"));
    double cpuSeconds = (CpuTimed.NANOS.get() - cpu0) / 1e9;
    p.table().unpersist(true);
    ObjectNode run = json.createObjectNode();
    run.put("encoder", enc.name());
    run.put("data", data);
    run.put("rows", p.rows());
    run.put("dim", enc.dim());
    run.put("batchSize", batch);
    run.put("fitSeconds", fitSeconds);
    run.put("modelBuildSeconds", buildSeconds);
    run.put("encodeSeconds", p.seconds());
    run.put("cores", p.cores());
    run.put("rowsPerSecond", p.rows() / p.seconds());
    run.put("rowsPerSecondPerCore", p.rowsPerSecondPerCore());
    run.put("encoderCpuSeconds", cpuSeconds);
    run.put("rowsPerEncoderCpuSecond", p.rows() / Math.max(cpuSeconds, 1e-9));
    run.put("modelHash", enc instanceof ModelIdentity m ? m.modelHash() : "");
    run.put("loadAverageAfter", loadAverage());
    LOG.info("bench embed: {} on {}: {} rows in {} s on {} cores, {} rows/s per core", enc.name(), data, p.rows(),
        String.format(Locale.ROOT, "%.2f", p.seconds()), p.cores(),
        String.format(Locale.ROOT, "%.1f", p.rowsPerSecondPerCore()));
    return run;
  }

  private static String markdown(ObjectNode doc) {
    StringBuilder sb = new StringBuilder("# relabel bench embed: encoder throughput\n\n");
    sb.append("Machine: ").append(doc.get("machine").asText()).append("; Spark master ")
        .append(doc.get("sparkMaster").asText()).append(" (default parallelism ")
        .append(doc.get("defaultParallelism").asInt()).append("); load average at start ")
        .append(doc.get("loadAverageAtStart").asText()).append("; started ").append(doc.get("startedAt").asText())
        .append(".\n\n");
    sb.append("| encoder | data | rows | dim | batch | fit s | model build s | encode s | cores | rows/s"
        + " | rows/s per core | encoder CPU s | rows per encoder CPU s |\n");
    sb.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (var r : doc.get("runs")) {
      sb.append(String.format(Locale.ROOT,
          "| %s | %s | %d | %d | %d | %.2f | %.2f | %.2f | %d | %.1f | %.1f | %.2f | %.1f |%n",
          r.get("encoder").asText(), r.get("data").asText(), r.get("rows").asLong(), r.get("dim").asInt(),
          r.get("batchSize").asInt(), r.get("fitSeconds").asDouble(), r.get("modelBuildSeconds").asDouble(),
          r.get("encodeSeconds").asDouble(), r.get("cores").asInt(), r.get("rowsPerSecond").asDouble(),
          r.get("rowsPerSecondPerCore").asDouble(), r.get("encoderCpuSeconds").asDouble(),
          r.get("rowsPerEncoderCpuSecond").asDouble()));
    }
    sb.append("\n*rows/s per core*: rows / (wall seconds x cores), what the embed stage records; other work on the"
        + " machine lowers it. *rows per encoder CPU s*: rows / CPU time of the threads inside encode(), which other"
        + " work does not lower: the encoder's own speed on one core.\n");
    if (!doc.get("skipped").isEmpty()) {
      sb.append("\nSkipped:\n");
      doc.get("skipped").forEach(s -> sb.append("- ").append(s.asText()).append('\n'));
    }
    return sb.toString();
  }

  /**
   * An encoder that adds the CPU time of its calling thread during {@link #encode} to {@link #NANOS}. The sum is
   * read in this JVM, so it counts executors' time only in local mode, which is how the benchmark runs.
   */
  static final class CpuTimed implements Encoder {
    private static final long serialVersionUID = 1L;
    static final AtomicLong NANOS = new AtomicLong();
    private final Encoder inner;

    CpuTimed(Encoder inner) {
      this.inner = inner;
    }

    @Override
    public String name() {
      return inner.name();
    }

    @Override
    public int dim() {
      return inner.dim();
    }

    @Override
    public float[][] encode(List<Object> values) {
      ThreadMXBean threads = ManagementFactory.getThreadMXBean();
      long t0 = threads.getCurrentThreadCpuTime();
      try {
        return inner.encode(values);
      } finally {
        NANOS.addAndGet(threads.getCurrentThreadCpuTime() - t0);
      }
    }
  }

  /** /proc/loadavg's 1-minute figure: other work on the machine lowers every throughput here. */
  private static String loadAverage() {
    try {
      return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
    } catch (IOException | RuntimeException e) {
      return "unknown";
    }
  }
}
