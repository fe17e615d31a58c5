package io.relabel.spark.cli;

import static org.apache.spark.sql.functions.col;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.core.hdl.HdlSpec;
import io.relabel.core.util.RowSeeds;
import io.relabel.spark.SparkSessions;
import io.relabel.spark.bench.BenchOutput;
import io.relabel.spark.bench.HdlBench;
import io.relabel.spark.hdl.Hdl;
import io.relabel.spark.io.TableWriter;
import io.relabel.spark.stage.RelabelJob;
import io.relabel.spark.train.Features;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;
import org.apache.spark.ml.clustering.KMeans;
import org.apache.spark.ml.linalg.VectorUDT;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code relabel bench scale}: HDL's hierarchy and labeling on up to a million 128-d rows, against a flat MLlib
 * k-means with as many clusters as HDL has leaves, in the same run. The rows are derived from real embeddings: the
 * 70,000 Fashion-MNIST rows projected to 128 PCA dimensions, each copied with a small seeded Gaussian perturbation
 * (scale {@code --perturbation} of the row's RMS value per dimension) until the wanted count; 5% keep their label.
 */
@Command(name = "scale", mixinStandardHelpOptions = true,
    description = {"Times HDL (per step) on N rows of 128-d embeddings derived from Fashion-MNIST by seeded",
        "perturbation, and a flat MLlib KMeans with the same number of clusters as HDL's leaves;",
        "writes bench-scale-<time>.json and .md under --out."})
public final class BenchScaleCommand implements Callable<Integer> {

  @Mixin CommonOptions common;

  @Option(names = "--out", paramLabel = "DIR", description = "Where results go (default bench/results).")
  Path out = Path.of("bench", "results");

  @Option(names = "--rows", split = ",", paramLabel = "N",
      description = "Row counts to run, comma-separated (default 1000000).")
  List<Long> sizes = List.of(1_000_000L);

  @Option(names = "--perturbation", paramLabel = "S",
      description = "Noise scale relative to each row's RMS value (default 0.05).")
  double perturbation = 0.05;

  @Option(names = "--labeled-share", paramLabel = "P", description = "Share of rows keeping a label (default 0.05).")
  double labeledShare = 0.05;

  @Option(names = "--kmeans", negatable = true, defaultValue = "true", fallbackValue = "true",
      description = "Also run flat KMeans with HDL's leaf count on the largest size (default on).")
  boolean kmeans;

  @Option(names = "--kmeans-limit", paramLabel = "SECONDS",
      description = "Stop the flat KMeans after this long and report it as slower than the limit (default 1200).")
  long kmeansLimit = 1200;

  @Override
  public Integer call() throws IOException {
    Settings s = common.settings().with(Map.of("relabel.embed.pcaDims", "128", "relabel.hdl.mode", "fill"));
    SparkSession spark = SparkSessions.getOrCreate("relabel bench scale", common.master());
    long seed = s.get(RelabelParams.SEED);
    int workers = s.get(RelabelParams.TRAIN_WORKERS);
    String clean = DemoSteps.fetch(spark, s, null);
    HdlBench.Embedded source = HdlBench.embed(spark, s, clean);
    ObjectNode doc = BenchOutput.start(spark);
    doc.put("derivation", "Fashion-MNIST (70,000 rows) -> PCA 128 -> copies with Gaussian perturbation of "
        + perturbation + " x row RMS per dimension, seeded by (seed, copy, id); " + labeledShare
        + " of rows keep their label");
    ArrayNode runs = doc.putArray("runs");
    StringBuilder md = new StringBuilder("# relabel bench scale\n\n").append(BenchOutput.machineLine(doc))
        .append(doc.get("derivation").asText()).append(".\n\n")
        .append("| rows | HDL s | top levels s | lower levels s | cluster labels + groups s | adaptive k s"
            + " | leaf level s | leaves | k | pseudo-label acc | flat KMeans s (same k) | peak heap MiB"
            + " | peak RSS MiB |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    long largest = sizes.stream().mapToLong(Long::longValue).max().orElse(0);
    for (long n : sizes) {
      String path = derive(spark, source, n, seed, s.get(RelabelParams.DATA_DIR), perturbation, labeledShare);
      Dataset<Row> rows = spark.read().parquet(path).repartition(workers, col("key")).sortWithinPartitions("key")
          .persist(StorageLevel.MEMORY_AND_DISK_SER());
      rows.count();
      BenchOutput.resetPeaks();
      long t0 = System.nanoTime();
      Hdl.Result h = Hdl.apply(rows, "key", "x", "label", source.classes(), HdlSpec.from(s), seed, workers);
      Row acc = h.table().filter(col("label").isNull()).agg(
          org.apache.spark.sql.functions.count(col(Hdl.LABEL)),
          org.apache.spark.sql.functions.sum(org.apache.spark.sql.functions.when(col(Hdl.LABEL)
              .equalTo(col("truth")), 1L).otherwise(0L))).first();
      double hdlSeconds = (System.nanoTime() - t0) / 1e9;
      h.release();
      ObjectNode run = runs.addObject();
      run.put("rows", n);
      run.put("hdlSeconds", hdlSeconds);
      run.put("pseudoLabelAccuracy", acc.getLong(0) == 0 ? 0 : (double) acc.getLong(1) / acc.getLong(0));
      run.set("hdl", BenchOutput.JSON.valueToTree(h.metrics()));
      run.put("peakHeapMiB", BenchOutput.peakHeapBytes() / (double) (1 << 20));
      run.put("peakRssMiB", BenchOutput.peakRssKiB() / 1024.0);
      int leaves = ((Number) h.metrics().get("hdl.leaves")).intValue();
      double kmSeconds = -1;
      if (kmeans && n == largest) {
        Dataset<Row> vec = rows.select(col("key"), toUnitVector(col("x")).as("v"));
        kmSeconds = timedKMeans(spark, vec, leaves, seed, s.get(RelabelParams.HDL_MAX_ITER), kmeansLimit);
        run.put("flatKMeansSeconds", kmSeconds);
        run.put("flatKMeansFinished", kmSeconds <= kmeansLimit);
        run.put("flatKMeansK", leaves);
      }
      rows.unpersist(false);
      Map<String, Object> m = h.metrics();
      md.append(String.format(java.util.Locale.ROOT,
          "| %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f | %d | %s | %s | %s | %.0f | %.0f |%n", n, hdlSeconds,
          m.get("hdl.seconds.topLevels"), m.get("hdl.seconds.lowerLevels"), m.get("hdl.seconds.clusterLabelsAndGroups"),
          m.get("hdl.seconds.adaptiveK"), m.get("hdl.seconds.leafLevel"), leaves, m.get("hdl.k"),
          BenchOutput.f4(run.get("pseudoLabelAccuracy").asDouble()),
          kmSeconds < 0 ? "-" : kmSeconds > kmeansLimit ? "> " + kmeansLimit + " (stopped)"
              : String.format(java.util.Locale.ROOT, "%.0f", kmSeconds),
          run.get("peakHeapMiB").asDouble(), run.get("peakRssMiB").asDouble()));
    }
    md.append("\nKMeans: MLlib org.apache.spark.ml.clustering.KMeans (k-means|| init), maxIter = relabel.hdl"
        + ".maxIterations, on the same L2-normalised rows, fitted on all of them; HDL fits its top levels on a seeded"
        + " sample of relabel.hdl.fitRows rows and assigns every row.\n");
    BenchOutput.write(out, "bench-scale", doc, md.toString());
    return 0;
  }

  /**
   * Fits flat KMeans in its own Spark job group and cancels it after {@code limit} seconds; returns the seconds it
   * took, or a value above the limit when it was stopped.
   */
  private static double timedKMeans(SparkSession spark, Dataset<Row> vec, int k, long seed, int maxIter,
      long limit) {
    java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newSingleThreadExecutor();
    long t0 = System.nanoTime();
    java.util.concurrent.Future<?> fit = pool.submit(() -> {
      spark.sparkContext().setJobGroup("bench-kmeans", "flat KMeans k=" + k, true);
      new KMeans().setK(k).setSeed(seed).setMaxIter(maxIter).setFeaturesCol("v").fit(vec);
    });
    try {
      fit.get(limit, java.util.concurrent.TimeUnit.SECONDS);
      return (System.nanoTime() - t0) / 1e9;
    } catch (java.util.concurrent.TimeoutException e) {
      spark.sparkContext().cancelJobGroup("bench-kmeans");
      return limit + 1;
    } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("flat KMeans failed", e);
    } finally {
      pool.shutdownNow();
    }
  }

  /** Writes (once) the derived table of n rows: key, x (array<float>, 128), label (5% kept), truth. */
  private static String derive(SparkSession spark, HdlBench.Embedded source, long n, long seed, String dataDir,
      double scale, double labeledShare) {
    String path = Path.of(dataDir, "bench", String.format(java.util.Locale.ROOT, "scale-%d-p%s-l%s-seed%d", n,
        scale, labeledShare, seed)).toString();
    if (Files.isDirectory(Path.of(path))) {
      return path;
    }
    long base = source.rows();
    int copies = (int) ((n + base - 1) / base);
    StructType schema = new StructType().add("key", DataTypes.LongType, false)
        .add("x", DataTypes.createArrayType(DataTypes.FloatType), false).add("label", DataTypes.IntegerType, true)
        .add("truth", DataTypes.IntegerType, false);
    int dim = source.dim();
    // the source is the clean table: its given label is the truth
    Dataset<Row> rows = spark.createDataFrame(source.table().select(col(HdlBench.RANK), col(RelabelJob.X),
        org.apache.spark.sql.functions.coalesce(col(RelabelJob.TRUTH), col(RelabelJob.Y))).toJavaRDD().flatMap(r -> {
          long rank = r.getLong(0);
          float[] x = Features.floats(r.getList(1));
          double rms = 0;
          for (float v : x) {
            rms += v * v;
          }
          rms = Math.sqrt(rms / dim);
          List<Row> out = new ArrayList<>();
          for (int c = 0; c < copies; c++) {
            long key = c * base + rank;
            if (key >= n) {
              break;
            }
            Random rnd = new Random(RowSeeds.bits(seed, "scale", key, 0));
            float[] y = new float[dim];
            for (int j = 0; j < dim; j++) {
              y[j] = (float) (x[j] + scale * rms * rnd.nextGaussian());
            }
            boolean keep = RowSeeds.uniform(seed, "scale-label", key, 0) < labeledShare;
            out.add(RowFactory.create(key, Features.seq(y), keep ? r.getInt(2) : null, r.getInt(2)));
          }
          return out.iterator();
        }), schema);
    TableWriter.writeAtomically(rows, path, true, Map.of());
    return path;
  }

  private static org.apache.spark.sql.Column toUnitVector(org.apache.spark.sql.Column x) {
    return org.apache.spark.sql.functions.udf((org.apache.spark.sql.api.java.UDF1<scala.collection.Seq<Float>,
        org.apache.spark.ml.linalg.Vector>) v -> {
          double[] d = new double[v.length()];
          double s = 0;
          for (int i = 0; i < d.length; i++) {
            d[i] = v.apply(i);
            s += d[i] * d[i];
          }
          double inv = s == 0 ? 0 : 1 / Math.sqrt(s);
          for (int i = 0; i < d.length; i++) {
            d[i] *= inv;
          }
          return Vectors.dense(d);
        }, new VectorUDT()).apply(x);
  }
}
