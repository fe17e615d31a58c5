package io.relabel.spark.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.relabel.spark.SparkTestSession;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The loopback cluster tier: {@code relabel run} in-process and submitted to a real Spark standalone cluster
 * (a Master and a Worker on 127.0.0.1, with their own executor JVM, started by {@code bin/spark-cluster}) gives the
 * same table.
 *
 * <p>Both runs read the same input with the same settings and seed, with the same parallelism (local[2] against one
 * executor with 2 cores) and one BLAS thread per JVM (OMP_NUM_THREADS=1 in-process, the launcher's default
 * spark.executorEnv.OMP_NUM_THREADS=1 on the cluster). relabel derives its randomness from (seed, stage, row id) and
 * trains with a fixed number of partitions, so the outputs must agree exactly, confidences bit for bit.
 *
 * <p>Needs the jars built first from the same sources (bin/test does it): spark-jobs-*-uber.jar and, with
 * -Pspark-provided, spark-jobs-*-app.jar.
 */
@Tag("cluster")
class ClusterRunIT {

  private static final int ROWS = 1500;
  private static final int DIMS = 16;
  private static final int CLASSES = 3;
  private static final long SEED = 20240611L;
  private static final List<String> SETTINGS = List.of(
      "--set", "relabel.train.epochs=2", "--set", "relabel.consensus.retrainEpochs=2",
      "--set", "relabel.embed.pcaDims=8", "--set", "relabel.embed.fitRows=600", "--set", "relabel.seed=7");

  private static Path repo;
  private static Path work;
  private static boolean clusterStarted;

  @BeforeAll
  static void startCluster() throws IOException {
    repo = findRepo();
    // both runs must run the same code: the spark-submit jar is built by a separate mvn run (bin/test step 1)
    Map<String, Long> uber = relabelClasses(jar("uber"));
    Map<String, Long> app = relabelClasses(jar("app"));
    Set<String> differ = new TreeSet<>(uber.keySet());
    differ.addAll(app.keySet());
    differ.removeIf(name -> Objects.equals(uber.get(name), app.get(name)));
    assertTrue(differ.isEmpty(), "the uber jar and the app jar were built from different sources (rebuild both; "
        + "bin/test does); differing classes: " + differ);
    work = repo.resolve("spark-jobs/target/cluster-it");
    if (Files.isDirectory(work.resolve("cluster"))) {
      stopQuietly(); // a cluster an aborted earlier run left behind
    }
    deleteRecursively(work);
    Files.createDirectories(work.resolve("logs"));
    run("assemble", 900, repo.resolve("bin/spark-cluster").toString(), "assemble");
    clusterStarted = true; // from here on, tear down whatever part of it came up
    Runtime.getRuntime().addShutdownHook(new Thread(ClusterRunIT::stopIfStillRunning, "cluster-it-stop"));
    run("start", 300, repo.resolve("bin/spark-cluster").toString(), "start");
  }

  @AfterAll
  static void stopCluster() throws IOException {
    if (clusterStarted) {
      run("stop", 120, repo.resolve("bin/spark-cluster").toString(), "stop");
      clusterStarted = false;
    }
  }

  /** Last resort when the test JVM is ended before {@link #stopCluster} ran. */
  private static void stopIfStillRunning() {
    if (clusterStarted) {
      stopQuietly();
    }
  }

  private static void stopQuietly() {
    try {
      processBuilder(repo.resolve("bin/spark-cluster").toString(), "stop").inheritIO()
          .start().waitFor(60, TimeUnit.SECONDS);
    } catch (IOException e) {
      System.err.println("cluster-it: could not stop the cluster: " + e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Test
  void runOnTheClusterEqualsRunInProcess() throws IOException {
    String input = work.resolve("input").toString();
    String outLocal = work.resolve("out-local").toString();
    String outCluster = work.resolve("out-cluster").toString();
    writeInput(input);

    List<String> local = new ArrayList<>(List.of(repo.resolve("bin/relabel").toString(), "run",
        "--input", input, "--output", outLocal, "--master", "local[2]"));
    local.addAll(SETTINGS);
    run("run-local", 600, local.toArray(String[]::new));

    List<String> cluster = new ArrayList<>(List.of(repo.resolve("bin/spark-cluster").toString(), "submit", "run",
        "--input", input, "--output", outCluster));
    cluster.addAll(SETTINGS);
    run("run-cluster", 600, cluster.toArray(String[]::new));

    // the cluster run really ran in an executor JVM of the worker: it left that executor's logs in the work dir
    try (Stream<Path> apps = Files.list(work.resolve("cluster/worker"))) {
      List<Path> executorLogs = apps.filter(p -> p.getFileName().toString().startsWith("app-"))
          .map(p -> p.resolve("0/stderr")).filter(Files::isRegularFile).toList();
      assertEquals(1, executorLogs.size(), "executor logs of exactly one application in " + work.resolve("cluster"));
    }
    for (String out : List.of(outLocal, outCluster)) {
      assertTrue(Files.isRegularFile(Path.of(out, "_manifest.json")), "no _manifest.json in " + out);
      assertTrue(Files.isRegularFile(Path.of(out, "_report.html")), "no _report.html in " + out);
    }

    SparkSession spark = SparkTestSession.get();
    List<Row> a = corrections(spark, outLocal);
    List<Row> b = corrections(spark, outCluster);
    assertEquals(ROWS, a.size(), "rows in " + outLocal);
    assertEquals(ROWS, b.size(), "rows in " + outCluster);
    int labelDiffs = 0;
    int confidenceDiffs = 0;
    double maxConfidenceDiff = 0;
    for (int i = 0; i < ROWS; i++) {
      Row x = a.get(i);
      Row y = b.get(i);
      assertEquals(x.getLong(0), y.getLong(0), "ids of row " + i);
      if (((Number) x.get(1)).longValue() != ((Number) y.get(1)).longValue()) {
        labelDiffs++;
      }
      double cx = ((Number) x.get(2)).doubleValue();
      double cy = ((Number) y.get(2)).doubleValue();
      if (Double.doubleToLongBits(cx) != Double.doubleToLongBits(cy)) {
        confidenceDiffs++;
        maxConfidenceDiff = Math.max(maxConfidenceDiff, Math.abs(cx - cy));
      }
    }
    assertEquals(0, labelDiffs, "rows whose label_corrected differs between in-process and cluster");
    assertEquals(0, confidenceDiffs, "rows whose label_confidence differs between in-process and cluster "
        + "(largest difference " + maxConfidenceDiff + ")");
  }

  /** (id, label_corrected, label_confidence) of an output table, sorted by id. */
  private static List<Row> corrections(SparkSession spark, String path) {
    return spark.read().parquet(path).select("id", "label_corrected", "label_confidence").orderBy("id")
        .collectAsList();
  }

  /**
   * Three Gaussian blobs in 16 dimensions (class c centred at +3 on dimensions 5c..5c+4), 500 rows each; 15% of the
   * labels moved to the next class by a seeded draw; every fifth row is in the test split.
   */
  private static void writeInput(String path) {
    Random rnd = new Random(SEED);
    List<Row> rows = new ArrayList<>(ROWS);
    for (int i = 0; i < ROWS; i++) {
      int cls = i % CLASSES;
      float[] f = new float[DIMS];
      for (int d = 0; d < DIMS; d++) {
        f[d] = (float) ((d / 5 == cls ? 3.0 : 0.0) + rnd.nextGaussian());
      }
      int label = rnd.nextDouble() < 0.15 ? (cls + 1) % CLASSES : cls;
      rows.add(RowFactory.create((long) i, f, label, i % 5 == 0 ? "test" : "train"));
    }
    StructType schema = new StructType()
        .add("id", DataTypes.LongType, false)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)
        .add("label", DataTypes.IntegerType, false)
        .add("split", DataTypes.StringType, false);
    Dataset<Row> table = SparkTestSession.get().createDataFrame(rows, schema);
    table.coalesce(1).write().parquet(path);
  }

  /** Runs a command; its output goes to logs/NAME.log, whose tail is shown when it fails or outlives the limit. */
  private static void run(String name, long timeoutSeconds, String... command) throws IOException {
    Path log = work.resolve("logs/" + name + ".log");
    Process p = processBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    boolean done;
    try {
      done = p.waitFor(timeoutSeconds, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      done = false;
    }
    if (!done) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      fail(name + " did not finish within " + timeoutSeconds + " s:\n" + tail(log));
    }
    if (p.exitValue() != 0) {
      fail(String.join(" ", command) + " exited with " + p.exitValue() + ":\n" + tail(log));
    }
  }

  /** A command run in the checkout, with this test's cluster directory, small heaps and one BLAS thread. */
  private static ProcessBuilder processBuilder(String... command) {
    ProcessBuilder pb = new ProcessBuilder(command).directory(repo.toFile());
    Map<String, String> env = pb.environment();
    env.put("RELABEL_CLUSTER_DIR", work.resolve("cluster").toString());
    env.put("RELABEL_DRIVER_MEMORY", "2g");
    env.put("RELABEL_CLUSTER_WORKER_CORES", "2");
    env.put("RELABEL_CLUSTER_WORKER_MEMORY", "3g");
    env.put("RELABEL_EXECUTOR_MEMORY", "2g");
    env.put("OMP_NUM_THREADS", "1");
    env.put("SPARK_LOCAL_IP", "127.0.0.1");
    env.remove("RELABEL_SPARK_SUBMIT_OPTS");
    return pb;
  }

  private static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /** spark-jobs/target/spark-jobs-*-CLASSIFIER.jar, which the build must have made. */
  private static Path jar(String classifier) throws IOException {
    Path target = repo.resolve("spark-jobs/target");
    try (Stream<Path> files = Files.isDirectory(target) ? Files.list(target) : Stream.empty()) {
      return files.filter(p -> p.getFileName().toString().matches("spark-jobs-.*-" + classifier + "\\.jar"))
          .findFirst().orElseThrow(() -> new AssertionError("spark-jobs/target/spark-jobs-*-" + classifier
              + ".jar is missing; the cluster test runs against the packaged jars: build them with bin/test, or "
              + "`mvn -B -DskipTests package` and `mvn -B -DskipTests -Pspark-provided package`"));
    }
  }

  /** Name to CRC of every io/relabel class in a jar. */
  private static Map<String, Long> relabelClasses(Path jar) throws IOException {
    try (ZipFile zip = new ZipFile(jar.toFile())) {
      return zip.stream().filter(e -> e.getName().startsWith("io/relabel/") && e.getName().endsWith(".class"))
          .collect(Collectors.toMap(ZipEntry::getName, ZipEntry::getCrc));
    }
  }

  /** The checkout: relabel.project.dir (set by the build), else the nearest directory above with bin/relabel. */
  private static Path findRepo() {
    String prop = System.getProperty("relabel.project.dir");
    if (prop != null && Files.isExecutable(Path.of(prop, "bin/spark-cluster"))) {
      return Path.of(prop).toAbsolutePath().normalize();
    }
    for (Path d = Path.of("").toAbsolutePath(); d != null; d = d.getParent()) {
      if (Files.isExecutable(d.resolve("bin/spark-cluster"))) {
        return d;
      }
    }
    throw new IllegalStateException("cannot find the repository (no bin/spark-cluster above " + Path.of("")
        .toAbsolutePath() + ")");
  }

  private static void deleteRecursively(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> all = Files.walk(dir)) {
      all.sorted(Comparator.reverseOrder()).forEach(p -> {
        try {
          Files.delete(p);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
  }
}
