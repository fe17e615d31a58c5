package io.relabel.spark.cluster;

import static io.relabel.spark.FileTrees.names;
import static io.relabel.spark.FileTrees.snapshot;
import static io.relabel.spark.cluster.LoopbackCluster.apps;
import static io.relabel.spark.cluster.LoopbackCluster.assertSameCorrections;
import static io.relabel.spark.cluster.LoopbackCluster.awaitNoExecutors;
import static io.relabel.spark.cluster.LoopbackCluster.clusterDir;
import static io.relabel.spark.cluster.LoopbackCluster.executors;
import static io.relabel.spark.cluster.LoopbackCluster.input;
import static io.relabel.spark.cluster.LoopbackCluster.newApp;
import static io.relabel.spark.cluster.LoopbackCluster.reference;
import static io.relabel.spark.cluster.LoopbackCluster.script;
import static io.relabel.spark.cluster.LoopbackCluster.submitRun;
import static io.relabel.spark.cluster.LoopbackCluster.tail;
import static io.relabel.spark.cluster.LoopbackCluster.work;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.relabel.spark.cli.CliRun;
import io.relabel.spark.cluster.LoopbackCluster.Command;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Faults on the loopback cluster (see {@link LoopbackCluster}), and that the cluster's authentication is enforced.
 *
 * <p>Every run is {@code relabel run} of the shared input and settings; "the undisturbed output" is
 * {@link LoopbackCluster#reference()}, which ClusterRunIT also compares with an in-process run. A kill is
 * {@code SIGKILL}, as {@code kill -9} sends it: nothing in the killed JVM runs afterwards.
 */
@Tag("cluster")
@ExtendWith(LoopbackCluster.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ClusterFaultIT {

  /** A driver without the cluster's secret, started before the other cases and judged by the last. */
  private static Command unauthenticated;

  @BeforeAll
  static void submitWithoutTheSecret() throws IOException {
    // The master refuses the handshake at once, but the driver gives up only after three 20 s registration
    // attempts (hard-wired in Spark's StandaloneAppClient); it waits while the other cases run.
    Path conf = Files.createDirectories(work().resolve("conf-without-secret"));
    String master = Files.readString(clusterDir().resolve("master-url"), StandardCharsets.UTF_8).trim();
    unauthenticated = Command.start("run-unauthenticated",
        Map.of("SPARK_HOME", LoopbackCluster.repo().resolve("work/spark-home").toString(),
            "SPARK_CONF_DIR", conf.toString(),
            "RELABEL_SPARK_SUBMIT_OPTS", "--name relabel-unauthenticated"),
        LoopbackCluster.repo().resolve("bin/relabel").toString(), "run", "--input", input().toString(),
        "--output", work().resolve("out-unauthenticated").toString(), "--master", master);
  }

  @AfterAll
  static void endTheUnauthenticatedDriver() throws InterruptedException {
    if (unauthenticated != null && unauthenticated.process.isAlive()) {
      unauthenticated.kill();
    }
  }

  /**
   * Kills the driver of a run early (stage 2 of 9) and the driver of the next in its write stage, then kills the
   * executor of the run after them: one flow, because the run that must complete after the killed drivers takes as
   * long as one whose executor is killed, and the tier has about five minutes for its faults.
   */
  @Test
  @Order(1)
  void killedDriversLeaveNoOutputAndTheNextRunSurvivesAKilledExecutor() throws Exception {
    Path reference = reference();

    // a driver killed early, writing a new target: nothing may appear
    Path earlyDir = Files.createDirectories(work().resolve("driver-killed-early"));
    Set<String> before = apps();
    Command early = Command.start("run-driver-killed-early", submitRun(earlyDir.resolve("out")));
    early.awaitLine("stage 2/\\d+ embed: started", 300);
    String earlyApp = newApp(before);
    early.kill();
    awaitNoExecutors(earlyApp, 120);
    assertEquals(List.of(), names(earlyDir), "what the run killed in stage 2 left beside its target");

    // a driver killed in the write stage, replacing an existing output (--overwrite), once its staging dir exists
    Path dir = Files.createDirectories(work().resolve("killed"));
    Path target = dir.resolve("out");
    copyTree(reference, target);
    Map<String, String> old = snapshot(target);
    before = apps();
    Command writing = Command.start("run-driver-killed-in-write", submitRun(target, "--overwrite"));
    Path staging = awaitStaging(dir, writing);
    writing.kill();
    awaitNoExecutors(newApp(before), 120);
    assertFalse(writing.output().contains(": committed "), "the run committed before it was killed:\n"
        + tail(writing.log));
    assertTrue(Files.isDirectory(staging), "the killed run left no staging directory " + staging);
    assertEquals(old, snapshot(target), "the old output changed");
    assertSameCorrections(reference, target); // and it still reads

    // the next run to the same target; its executor is killed well into the job (stage 4 of 9, after cached
    // blocks and shuffle files of stages 1-3 exist on it)
    before = apps();
    Command next = Command.start("run-executor-killed", submitRun(target, "--overwrite"));
    next.awaitLine("stage 4/\\d+ cross-fit: started", 300);
    String app = newApp(before);
    List<ProcessHandle> executors = executors(app);
    assertEquals(1, executors.size(), "executor JVMs of " + app);
    // all four JVMs run now (master, worker, executor, driver): none may show the secret on its command line
    assertNoCommandLineHolds(secret());
    ProcessHandle executor = executors.get(0);
    executor.destroyForcibly();
    executor.onExit().get(30, TimeUnit.SECONDS);
    assertTrue(next.process.isAlive(), "the run ended before its executor was killed:\n" + tail(next.log));

    assertEquals(0, next.awaitExit(600), "the run whose executor was killed failed:\n" + tail(next.log));
    assertTrue(next.output().contains("Lost executor 0 on 127.0.0.1"), "the driver did not notice the loss:\n"
        + tail(next.log));
    assertTrue(Files.isRegularFile(clusterDir().resolve("worker").resolve(app).resolve("1/stderr")),
        "the worker launched no second executor for " + app);
    assertTrue(next.output().contains("removing file:" + staging + ", the staging directory of an earlier write "
        + "that did not finish"), "the stale staging directory was not removed:\n" + tail(next.log));
    assertEquals(List.of("out"), names(dir));
    assertNotEquals(LoopbackCluster.runId(reference), LoopbackCluster.runId(target), "the output was not replaced");
    assertSameCorrections(reference, target);
  }

  @Test
  @Order(2)
  void aFullDiskIsOneClearErrorAndLeavesNothing() throws Exception {
    // the output (about 100 kB of Parquet) cannot fit; the up-front check's empty probe file can
    onTmpfs("full-disk", "size=32k", "TableWriterTest#aFullDiskIsOneClearErrorAndLeavesNothing (a FileSystem "
        + "double)", out -> {
          Command c = Command.start("inject-noise-full-disk", script(), "submit", "inject-noise",
              "--input", input().toString(), "--output", out.toString(), "--rate", "0.2");
          assertEquals(2, c.awaitExit(300), tail(c.log));
          return c.output();
        }, out -> "output " + out + " was not written: No space left on device");
  }

  /**
   * The up-front check refuses a read-only location on the driver, before a task runs; it is run in this JVM
   * (local[2]), where it is the same code as on the cluster, minus a driver start.
   */
  @Test
  @Order(3)
  void aReadOnlyLocationIsRefusedBeforeAnythingIsWritten() throws Exception {
    onTmpfs("read-only", "ro,size=64k", "TableWriterTest#checkWritableRefusesAReadOnlyDirectory (as a non-root "
        + "user)", out -> {
          CliRun r = CliRun.of("inject-noise", "--input", input().toString(), "--output", out.toString(),
              "--rate", "0.2", "--master", "local[2]");
          assertEquals(2, r.exitCode(), r.err());
          return r.err();
        }, out -> "output " + out + " cannot be created: directory " + out.getParent() + " is not writable");
  }

  /** What a case on a tmpfs does: runs relabel inject-noise with output {@code out}, returns what it printed. */
  private interface TmpfsCase {
    String run(Path out) throws Exception;
  }

  /**
   * Mounts a tmpfs with {@code options} on work/NAME, runs {@code body} with the output NAME/out, and asserts that it
   * printed exactly one relabel error line, {@code "relabel inject-noise: error: " + message(out)}, and left
   * nothing on the tmpfs.
   */
  private static void onTmpfs(String name, String options, String fallback, TmpfsCase body,
      Function<Path, String> message) throws Exception {
    Path mount = Files.createDirectories(work().resolve(name));
    mountTmpfs(mount, options, fallback);
    try {
      Path out = mount.resolve("out");
      String printed = body.run(out);
      assertEquals(List.of("relabel inject-noise: error: " + message.apply(out)), errorLines(printed), printed);
      assertEquals(List.of(), names(mount), "what the failed write left on the tmpfs");
    } finally {
      unmount(mount);
    }
  }

  @Test
  @Order(4)
  void theClusterRequiresItsSecretAndEncrypts() throws Exception {
    reference(); // at least one run, whose executor's log is checked below
    Path conf = clusterDir().resolve("conf/spark-defaults.conf");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(conf)));
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(conf, StandardCharsets.UTF_8)) {
      p.load(r);
    }
    assertEquals("true", p.getProperty("spark.authenticate"));
    assertEquals("true", p.getProperty("spark.network.crypto.enabled"));
    assertEquals("false", p.getProperty("spark.network.crypto.saslFallback"));
    assertEquals("true", p.getProperty("spark.io.encryption.enabled"));
    String secret = secret();
    assertTrue(secret.matches("[0-9a-f]{64}"), "the secret is not 256 random bits in hex");

    // every executor of this tier ran with authentication and RPC encryption, and got the secret from the worker
    // through its environment, not its command line (which the worker writes at the top of its log)
    List<Path> executorLogs = new ArrayList<>();
    try (Stream<Path> s = Files.walk(clusterDir().resolve("worker"), 3)) {
      s.filter(f -> f.getFileName().toString().equals("stderr")).forEach(executorLogs::add);
    }
    assertFalse(executorLogs.isEmpty(), "no executor ran");
    for (Path log : executorLogs) {
      String text = Files.readString(log, StandardCharsets.UTF_8);
      assertTrue(text.contains("\"-Dspark.authenticate=true\""), "no spark.authenticate in " + log);
      assertTrue(text.contains("\"-Dspark.network.crypto.enabled=true\""), "no network crypto in " + log);
    }
    List<Path> logs = new ArrayList<>(executorLogs);
    for (Path dir : List.of(work().resolve("logs"), clusterDir().resolve("logs"))) {
      try (Stream<Path> s = Files.list(dir)) {
        s.forEach(logs::add);
      }
    }
    for (Path log : logs) {
      assertFalse(Files.readString(log, StandardCharsets.UTF_8).contains(secret), log + " holds the secret");
    }

    // a driver without the secret: the master refuses its handshake, no application is registered, and relabel
    // ends with one line
    int exit = unauthenticated.awaitExit(180);
    String master = Files.readString(clusterDir().resolve("master-url"), StandardCharsets.UTF_8).trim();
    assertEquals(2, exit, tail(unauthenticated.log));
    assertEquals(List.of("relabel run: error: Spark master " + master + " did not accept this application (a wrong "
        + "or unreachable master URL, or a spark.authenticate secret that does not match the cluster's; the "
        + "warnings above say which)"), errorLines(unauthenticated.output()), tail(unauthenticated.log));
    assertTrue(unauthenticated.output().contains("Unknown challenge message"),
        "the master did not refuse the handshake:\n" + tail(unauthenticated.log));
    String masterLog = Files.readString(clusterDir().resolve("logs/master.log"), StandardCharsets.UTF_8);
    assertTrue(masterLog.contains("Registering app relabel-run"), "the master log names no application");
    assertFalse(masterLog.contains("Registering app relabel-unauthenticated"),
        "the master registered the driver without the secret");
    assertFalse(Files.exists(work().resolve("out-unauthenticated")));
  }

  /** The cluster's shared secret, from the conf that bin/spark-cluster start wrote. */
  private static String secret() throws IOException {
    Properties p = new Properties();
    try (Reader r = Files.newBufferedReader(clusterDir().resolve("conf/spark-defaults.conf"))) {
      p.load(r);
    }
    return Optional.ofNullable(p.getProperty("spark.authenticate.secret"))
        .orElseThrow(() -> new AssertionError("the cluster runs without spark.authenticate.secret"));
  }

  /** No process on this machine has {@code secret} in its command line (what {@code ps} shows). */
  private static void assertNoCommandLineHolds(String secret) throws IOException {
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path proc : procs.filter(d -> d.getFileName().toString().matches("\\d+")).toList()) {
        byte[] cmdline;
        try {
          cmdline = Files.readAllBytes(proc.resolve("cmdline"));
        } catch (IOException e) {
          continue; // ended meanwhile
        }
        assertFalse(new String(cmdline, StandardCharsets.UTF_8).contains(secret),
            "process " + proc.getFileName() + " has the secret on its command line");
      }
    }
  }

  /** The staging directory of {@code dir}/out, as soon as the write stage of {@code run} has made it. */
  private static Path awaitStaging(Path dir, Command run) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(300);
    while (System.nanoTime() < deadline) {
      try (Stream<Path> s = Files.list(dir)) {
        Optional<Path> staging = s.filter(f -> f.getFileName().toString().startsWith(".out.staging-")).findFirst();
        if (staging.isPresent()) {
          return staging.get();
        }
      }
      if (!run.process.isAlive()) {
        fail(run.name + " ended before its write stage:\n" + tail(run.log));
      }
      Thread.sleep(20);
    }
    return fail(run.name + " made no staging directory within 300 s:\n" + tail(run.log));
  }

  /** The lines of relabel's one-line errors in a command's output. */
  private static List<String> errorLines(String output) {
    return output.lines().filter(l -> l.matches("relabel [a-z-]+: error: .*")).toList();
  }

  /**
   * Mounts a tmpfs with {@code options} on {@code dir} (root only); elsewhere the case is skipped, saying which
   * spark-tier test covers it instead.
   */
  private static void mountTmpfs(Path dir, String options, String fallback) throws Exception {
    Process p = new ProcessBuilder("mount", "-t", "tmpfs", "-o", options, "relabel-it", dir.toString())
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
    if (p.waitFor() != 0) {
      String why = "cannot mount a tmpfs on " + dir + " (" + out + "; mounting needs root): this case is not "
          + "run against the cluster; " + fallback + " covers it in the spark tier";
      System.out.println("ClusterFaultIT: " + why);
      Assumptions.abort(why);
    }
  }

  private static void unmount(Path dir) throws Exception {
    Process p = new ProcessBuilder("umount", dir.toString()).inheritIO().start();
    if (p.waitFor() != 0) {
      new ProcessBuilder("umount", "-l", dir.toString()).inheritIO().start().waitFor();
    }
  }

  private static void copyTree(Path from, Path to) throws IOException {
    Files.createDirectories(to);
    try (Stream<Path> s = Files.list(from)) {
      for (Path f : s.toList()) {
        Files.copy(f, to.resolve(f.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
      }
    }
  }
}
