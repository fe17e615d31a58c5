package io.relabel.spark.cli;

import static io.relabel.spark.bench.BenchOutput.f4;
import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.core.util.RowSeeds;
import io.relabel.spark.SparkSessions;
import io.relabel.spark.bench.BenchOutput;
import io.relabel.spark.data.DatasetFetcher;
import io.relabel.spark.data.Datasets;
import io.relabel.spark.data.NoiseInjection;
import io.relabel.spark.io.InputReader;
import io.relabel.spark.io.TableWriter;
import io.relabel.spark.stage.Incremental;
import io.relabel.spark.stage.RelabelJob;
import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code relabel bench incremental}: what a nightly run saves. Day 1 is a noisy copy of a real data set without a
 * seeded share of its rows; day 2 is the whole table, those rows new, and another seeded share of day 1's training
 * labels changed. After a dated run of day 1, day 2 runs in each incremental mode against day 1's state, and the
 * table compares the time, the rows embedded and scored, and the corrected labels' accuracy on the training rows.
 */
@Command(name = "incremental", mixinStandardHelpOptions = true,
    description = {"Benchmarks dated nightly runs: a full run of day 2 against refresh and reuse runs that start",
        "from day 1's state; writes bench-incremental-<time>.json and .md under --out."})
public final class BenchIncrementalCommand implements Callable<Integer> {

  @Mixin CommonOptions common;

  @Option(names = "--out", paramLabel = "DIR", description = "Where results go (default bench/results).")
  Path out = Path.of("bench", "results");

  @Option(names = "--dataset", paramLabel = "NAME", description = "fashion-mnist (default) or wordnet.")
  String dataset = "fashion-mnist";

  @Option(names = "--new", paramLabel = "SHARE", description = "Share of the rows that are new on day 2 (0.01).")
  double newShare = 0.01;

  @Option(names = "--changed", paramLabel = "SHARE",
      description = "Share of day 1's training rows whose label changes on day 2 (0.01).")
  double changedShare = 0.01;

  @Option(names = "--modes", split = ",", paramLabel = "MODE",
      description = "Day-2 modes to run after day 1 (default off,refresh,reuse).")
  List<String> modes = List.of("off", "refresh", "reuse");

  @Override
  public Integer call() throws IOException {
    Settings base = common.settings(common.overrides.containsKey(RelabelParams.NOISE_RATE.key()) ? Map.of()
        : Map.of(RelabelParams.NOISE_TYPE.key(), "symmetric", RelabelParams.NOISE_RATE.key(), "0.3"));
    SparkSession spark = SparkSessions.getOrCreate("relabel bench incremental", common.master());
    long seed = base.get(RelabelParams.SEED);
    String dataDir = base.get(RelabelParams.DATA_DIR);
    DatasetFetcher fetcher = Datasets.byName(dataset).orElseThrow(() -> new RelabelException("--dataset: no data"
        + " set named " + dataset)).fetcher();
    String clean = fetcher.fetch(new DatasetFetcher.Request(dataDir, false, null, seed), () -> spark).table();
    String root = Path.of(dataDir, "bench", "incremental-" + dataset + "-seed" + seed).toString();
    Dataset<Row> noisy = NoiseInjection.injectWithReport(InputReader.read(spark, clean), base).table();
    String idCol = base.get(RelabelParams.ID_COL);
    String labelCol = base.get(RelabelParams.LABEL_COL);
    UserDefinedFunction draw = udf((UDF1<Object, Double>) id -> RowSeeds.uniform(seed, "bench-new", id, 0),
        DataTypes.DoubleType);
    UserDefinedFunction change = udf((UDF1<Object, Double>) id -> RowSeeds.uniform(seed, "bench-change", id, 0),
        DataTypes.DoubleType);
    List<Row> classes = noisy.select(labelCol).distinct().orderBy(labelCol).collectAsList();
    String day1 = root + "/day1";
    String day2 = root + "/day2";
    TableWriter.writeAtomically(noisy.filter(draw.apply(col(idCol)).geq(newShare)), day1, true, Map.of());
    // a changed label moves to the next class in the class list (a relabeling a user would make)
    Dataset<Row> day2Table = noisy.withColumn(labelCol, when(change.apply(col(idCol)).lt(changedShare)
        .and(draw.apply(col(idCol)).geq(newShare)).and(col(base.get(RelabelParams.SPLIT_COL)).notEqual("test")),
        nextClass(col(labelCol), classes)).otherwise(col(labelCol)));
    TableWriter.writeAtomically(day2Table, day2, true, Map.of());

    String output = root + "/nightly";
    ObjectNode doc = BenchOutput.start(spark);
    doc.put("dataset", dataset);
    doc.put("newShare", newShare);
    doc.put("changedShare", changedShare);
    ArrayNode runs = doc.putArray("runs");
    StringBuilder md = new StringBuilder("# relabel bench incremental: nightly runs on " + dataset + "\n\n")
        .append(BenchOutput.machineLine(doc))
        .append(String.format(Locale.ROOT, "Day 2 = day 1 plus %.1f%% new rows, with %.1f%% of the training labels"
            + " changed; every day-2 run starts from day 1's committed state.%n%n", 100 * newShare,
            100 * changedShare))
        .append("| run | mode | seconds | rows | rows embedded | rows scored | corrected accuracy (train) |\n")
        .append("|---|---|---|---|---|---|---|\n");
    LocalDate d1 = LocalDate.of(2026, 1, 1);
    LocalDate d2 = d1.plusDays(1);
    run(spark, base, "day 1", day1, output, d1, "off", runs, md);
    for (String mode : modes) {
      run(spark, base, "day 2", day2, output, d2, mode, runs, md);
    }
    BenchOutput.write(out, "bench-incremental", doc, md.toString());
    return 0;
  }

  private static org.apache.spark.sql.Column nextClass(org.apache.spark.sql.Column label, List<Row> classes) {
    org.apache.spark.sql.Column c = lit(null).cast(classes.get(0).schema().fields()[0].dataType());
    for (int i = classes.size() - 1; i >= 0; i--) {
      Object next = classes.get((i + 1) % classes.size()).get(0);
      c = when(label.equalTo(lit(classes.get(i).get(0))), lit(next)).otherwise(c);
    }
    return c;
  }

  private static void run(SparkSession spark, Settings base, String name, String input, String output,
      LocalDate date, String mode, ArrayNode runs, StringBuilder md) throws IOException {
    Settings s = base.with(Map.of(RelabelParams.INCREMENTAL_MODE.key(), mode));
    long t0 = System.nanoTime();
    RelabelJob.Result r = new RelabelJob(spark, s).run(input, output, false, "bench incremental", date);
    double seconds = (System.nanoTime() - t0) / 1e9;
    Dataset<Row> o = spark.read().parquet(r.outputPath());
    String truth = s.get(RelabelParams.TRUE_LABEL_COL);
    Row acc = o.filter(not(col(s.get(RelabelParams.SPLIT_COL)).equalTo("test")).and(col(truth).isNotNull()))
        .agg(avg(when(col("label_corrected").equalTo(col(truth)), 1.0).otherwise(0.0)), org.apache.spark.sql.functions.count(lit(1)))
        .first();
    JsonNode m = BenchOutput.JSON.readTree(r.manifest().toJson()).path("metrics");
    long rows = o.count();
    JsonNode inc = m.path("incremental");
    ObjectNode run = runs.addObject();
    run.put("run", name);
    run.put("mode", mode);
    run.put("seconds", seconds);
    run.put("rows", rows);
    run.put("correctedAccuracyTrain", acc.getDouble(0));
    run.set("incremental", inc);
    run.set("stages", BenchOutput.JSON.readTree(r.manifest().toJson()).path("stages"));
    String embedded = inc.path("rowsEmbedded").isMissingNode() ? String.valueOf(rows)
        : inc.path("rowsEmbedded").asText();
    String scored = inc.path("rowsScored").isMissingNode() ? String.valueOf(rows) : inc.path("rowsScored").asText();
    md.append(String.format(Locale.ROOT, "| %s | %s | %.1f | %d | %s | %s | %s |%n", name, mode, seconds, rows,
        embedded, scored, f4(acc.getDouble(0))));
    System.out.println(name + " " + mode + ": " + String.format(Locale.ROOT, "%.1f", seconds) + " s, "
        + Incremental.partitionPath(output, date));
  }
}
