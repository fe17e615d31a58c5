package io.relabel.spark.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.relabel.spark.FileTrees;
import io.relabel.spark.SparkTestSession;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * The loopback cluster of the {@code cluster} tier and what its tests share: a Master and a Worker on 127.0.0.1
 * started by {@code bin/spark-cluster} (authentication and encryption on, its default), the input table, the
 * settings, and one undisturbed cluster run of them (the reference every other run must equal bit for bit).
 *
 * <p>Failsafe runs every {@code *IT} class in one JVM; the cluster starts once, for the first class that uses this
 * extension, and stops after the last one (the root context's store closes it). Outputs must agree exactly: relabel
 * derives its randomness from (seed, stage, row id) and trains with a fixed number of partitions, and both
 * in-process (local[2], OMP_NUM_THREADS=1) and cluster runs (one executor with 2 cores, the launcher's
 * spark.executorEnv.OMP_NUM_THREADS=1) have the same parallelism and one BLAS thread per JVM.
 *
 * <p>Needs the jars built first from the same sources (bin/test does it): spark-jobs-*-uber.jar and, with
 * -Pspark-provided, spark-jobs-*-app.jar.
 */
final class LoopbackCluster implements BeforeAllCallback {

  static final int ROWS = 1500;
  private static final int DIMS = 16;
  private static final int CLASSES = 3;
  private static final long SEED = 20240611L;
  /** Small settings: a cluster run takes about 45 s on the 2-core machine (9 stages, 1,500 rows). */
  static final List<String> SETTINGS = List.of(
      "--set", "relabel.train.epochs=2", "--set", "relabel.consensus.retrainEpochs=2",
      "--set", "relabel.embed.pcaDims=8", "--set", "relabel.embed.fitRows=600", "--set", "relabel.seed=7");
  private static final ExtensionContext.Namespace NS = ExtensionContext.Namespace.create(LoopbackCluster.class);

  private static Path repo;
  private static Path work;
  private static Path input;
  private static Path reference;
  private static String referenceApp;

  @Override
  public void beforeAll(ExtensionContext context) {
    context.getRoot().getStore(NS).getOrComputeIfAbsent(Running.class, k -> Running.start(), Running.class);
  }

  /** The started cluster; closing it (after the last test class) stops it. */
  static final class Running implements AutoCloseable {
    private boolean started;

    static Running start() {
      Running r = new Running();
      try {
        repo = findRepo();
        checkJarsMatch();
        work = repo.resolve("spark-jobs/target/cluster-it");
        if (Files.isDirectory(work.resolve("cluster"))) {
          r.stopQuietly(); // a cluster an aborted earlier run left behind
        }
        FileTrees.deleteRecursively(work);
        Files.createDirectories(work.resolve("logs"));
        run("assemble", 900, script(), "assemble");
        r.started = true; // from here on, tear down whatever part of it came up
        Runtime.getRuntime().addShutdownHook(new Thread(r::stopQuietly, "cluster-it-stop"));
        run("start", 300, script(), "start");
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return r;
    }

    @Override
    public void close() throws IOException {
      if (started) {
        run("stop", 120, script(), "stop");
        started = false;
      }
    }

    /** Last resort when the test JVM is ended before {@link #close} ran. */
    private void stopQuietly() {
      if (work == null || (!started && !Files.isDirectory(work.resolve("cluster")))) {
        return;
      }
      try {
        processBuilder(script(), "stop").inheritIO().start().waitFor(60, TimeUnit.SECONDS);
        started = false;
      } catch (IOException e) {
        System.err.println("cluster-it: could not stop the cluster: " + e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  static Path repo() {
    return repo;
  }

  /** spark-jobs/target/cluster-it: logs/ of every command, cluster/ (RELABEL_CLUSTER_DIR), inputs and outputs. */
  static Path work() {
    return work;
  }

  static Path clusterDir() {
    return work.resolve("cluster");
  }

  static String script() {
    return repo.resolve("bin/spark-cluster").toString();
  }

  /** {@code bin/spark-cluster submit run} of the shared input and settings to {@code output}, then {@code extra}. */
  static String[] submitRun(Path output, String... extra) throws IOException {
    List<String> c = new ArrayList<>(List.of(script(), "submit", "run", "--input", input().toString(),
        "--output", output.toString()));
    c.addAll(SETTINGS);
    c.addAll(Arrays.asList(extra));
    return c.toArray(String[]::new);
  }

  /**
   * Three Gaussian blobs in 16 dimensions (class c centred at +3 on dimensions 5c..5c+4), 500 rows each; 15% of the
   * labels moved to the next class by a seeded draw; every fifth row is in the test split. Written once.
   */
  static synchronized Path input() {
    if (input == null) {
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
      Path path = work.resolve("input");
      table.coalesce(1).write().parquet(path.toString());
      input = path;
    }
    return input;
  }

  /** The output of one undisturbed cluster run of the shared input and settings, made on first use. */
  static synchronized Path reference() throws IOException {
    if (reference == null) {
      Path out = work.resolve("out-reference");
      Set<String> before = apps();
      run("run-reference", 600, submitRun(out));
      referenceApp = newApp(before);
      reference = out;
    }
    return reference;
  }

  /** The application id of the reference run. */
  static synchronized String referenceApp() throws IOException {
    reference();
    return referenceApp;
  }

  /** Application ids with a directory in the worker's work dir (one per application it ran executors for). */
  static Set<String> apps() throws IOException {
    try (Stream<Path> s = Files.list(clusterDir().resolve("worker"))) {
      return s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("app-"))
          .collect(Collectors.toCollection(TreeSet::new));
    }
  }

  /** The one application that is not in {@code before}. */
  static String newApp(Set<String> before) throws IOException {
    Set<String> now = apps();
    now.removeAll(before);
    assertEquals(1, now.size(), "new applications on the worker: " + now);
    return now.iterator().next();
  }

  /** The live executor JVMs of application {@code app}: their working directory is the app's dir in the worker's. */
  static List<ProcessHandle> executors(String app) {
    Path appDir = clusterDir().resolve("worker").resolve(app);
    return ProcessHandle.allProcesses().filter(p -> {
      try {
        return Files.readSymbolicLink(Path.of("/proc", Long.toString(p.pid()), "cwd")).startsWith(appDir);
      } catch (IOException | UnsupportedOperationException | SecurityException e) {
        return false; // gone meanwhile, or not ours to read
      }
    }).toList();
  }

  /** Waits until application {@code app} has no executor JVM left (the worker ends them once the driver is gone). */
  static void awaitNoExecutors(String app, long timeoutSeconds) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
    while (!executors(app).isEmpty()) {
      if (System.nanoTime() > deadline) {
        fail("executors of " + app + " still run " + timeoutSeconds + " s after its driver ended");
      }
      Thread.sleep(200);
    }
  }

  /** A command started in the checkout; its output goes to logs/NAME.log. */
  static final class Command {
    final String name;
    final Process process;
    final Path log;

    private Command(String name, Process process, Path log) {
      this.name = name;
      this.process = process;
      this.log = log;
    }

    static Command start(String name, String... command) throws IOException {
      return start(name, Map.of(), command);
    }

    static Command start(String name, Map<String, String> env, String... command) throws IOException {
      Path log = work.resolve("logs/" + name + ".log");
      ProcessBuilder pb = processBuilder(command);
      pb.environment().putAll(env);
      return new Command(name, pb.redirectErrorStream(true).redirectOutput(log.toFile()).start(), log);
    }

    String output() throws IOException {
      return Files.readString(log, StandardCharsets.UTF_8);
    }

    /** Waits for the first line of the output that {@code regex} finds something in; fails if the command ends. */
    String awaitLine(String regex, long timeoutSeconds) throws IOException, InterruptedException {
      Pattern p = Pattern.compile(regex);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(timeoutSeconds);
      while (true) {
        for (String line : output().split("\n")) {
          if (p.matcher(line).find()) {
            return line;
          }
        }
        if (!process.isAlive()) {
          fail(name + " ended (exit " + process.exitValue() + ") before printing a line like /" + regex + "/:\n"
              + tail(log));
        }
        if (System.nanoTime() > deadline) {
          fail(name + " printed no line like /" + regex + "/ within " + timeoutSeconds + " s:\n" + tail(log));
        }
        Thread.sleep(50);
      }
    }

    /** Waits for the command to end and returns its exit code; kills it and fails after the limit. */
    int awaitExit(long timeoutSeconds) throws InterruptedException {
      if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        fail(name + " did not finish within " + timeoutSeconds + " s:\n" + tail(log));
      }
      return process.exitValue();
    }

    /** SIGKILL (what {@code kill -9} sends), then waits for the process to be gone. */
    void kill() throws InterruptedException {
      process.destroyForcibly();
      process.waitFor();
    }
  }

  /** Runs a command that must succeed; its output goes to logs/NAME.log, whose tail is shown when it fails. */
  static Command run(String name, long timeoutSeconds, String... command) throws IOException {
    Command c = Command.start(name, command);
    int exit;
    try {
      exit = c.awaitExit(timeoutSeconds);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      c.process.destroyForcibly();
      throw new IllegalStateException("interrupted while waiting for " + name, e);
    }
    if (exit != 0) {
      fail(String.join(" ", command) + " exited with " + exit + ":\n" + tail(c.log));
    }
    return c;
  }

  /**
   * A command run in the checkout, with this tier's cluster directory, the cluster's default security on, small
   * heaps and one BLAS thread.
   */
  static ProcessBuilder processBuilder(String... command) {
    ProcessBuilder pb = new ProcessBuilder(command).directory(repo.toFile());
    Map<String, String> env = pb.environment();
    env.put("RELABEL_CLUSTER_DIR", clusterDir().toString());
    env.put("RELABEL_CLUSTER_SECURE", "1");
    env.put("RELABEL_DRIVER_MEMORY", "2g");
    env.put("RELABEL_CLUSTER_WORKER_CORES", "2");
    env.put("RELABEL_CLUSTER_WORKER_MEMORY", "3g");
    env.put("RELABEL_EXECUTOR_MEMORY", "2g");
    env.put("OMP_NUM_THREADS", "1");
    env.put("SPARK_LOCAL_IP", "127.0.0.1");
    env.remove("RELABEL_SPARK_SUBMIT_OPTS");
    env.remove("SPARK_CONF_DIR");
    return pb;
  }

  static String tail(Path log) {
    try {
      List<String> lines = Files.readAllLines(log, StandardCharsets.UTF_8);
      return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /**
   * Asserts that two outputs of {@code relabel run} hold the same rows with the same corrected labels and
   * confidences, bit for bit.
   */
  static void assertSameCorrections(Path expected, Path actual) {
    List<Row> a = corrections(expected);
    List<Row> b = corrections(actual);
    assertEquals(ROWS, a.size(), "rows in " + expected);
    assertEquals(ROWS, b.size(), "rows in " + actual);
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
    assertEquals(0, labelDiffs, "rows whose label_corrected differs between " + expected + " and " + actual);
    assertEquals(0, confidenceDiffs, "rows whose label_confidence differs between " + expected + " and " + actual
        + " (largest difference " + maxConfidenceDiff + ")");
  }

  /** (id, label_corrected, label_confidence) of an output table, sorted by id. */
  private static List<Row> corrections(Path path) {
    assertTrue(Files.isRegularFile(path.resolve("_manifest.json")), "no _manifest.json in " + path);
    assertTrue(Files.isRegularFile(path.resolve("_report.html")), "no _report.html in " + path);
    return SparkTestSession.get().read().parquet(path.toString())
        .select("id", "label_corrected", "label_confidence").orderBy("id").collectAsList();
  }

  /** The runId of an output's _manifest.json. */
  static String runId(Path output) throws IOException {
    Matcher m = Pattern.compile("\"runId\"\\s*:\\s*\"([^\"]+)\"")
        .matcher(Files.readString(output.resolve("_manifest.json"), StandardCharsets.UTF_8));
    assertTrue(m.find(), "no runId in " + output.resolve("_manifest.json"));
    return m.group(1);
  }

  /** Both runs must run the same code: the spark-submit jar is built by a separate mvn run (bin/test step 1). */
  private static void checkJarsMatch() throws IOException {
    Map<String, Long> uber = relabelClasses(jar("uber"));
    Map<String, Long> app = relabelClasses(jar("app"));
    Set<String> differ = new TreeSet<>(uber.keySet());
    differ.addAll(app.keySet());
    differ.removeIf(name -> Objects.equals(uber.get(name), app.get(name)));
    assertTrue(differ.isEmpty(), "the uber jar and the app jar were built from different sources (rebuild both; "
        + "bin/test does); differing classes: " + differ);
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
}
