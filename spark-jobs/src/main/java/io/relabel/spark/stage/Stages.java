package io.relabel.spark.stage;

import io.relabel.spark.io.RunManifest;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Locale;
import java.util.function.Supplier;
import java.util.function.ToLongFunction;
import org.apache.spark.SparkContext;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the named steps of a pipeline so that each one is visible in three places: the log (start, duration, rows
 * in and out), the Spark UI (its jobs are grouped under the stage's name, and can be cancelled as a group) and the
 * run manifest. Without this every stage would repeat the same timing and bookkeeping code, and a slow or
 * row-losing step would be hard to find afterwards.
 *
 * <pre>{@code
 * Stages stages = new Stages(spark, manifest, 4);
 * Dataset<Row> emb = stages.run("embed", v.rows(), () -> {
 *   Dataset<Row> out = embed(v.table());
 *   Stages.rowsOut(v.rows());          // or use the overload that counts the result
 *   return out;
 * });
 * }</pre>
 */
public final class Stages {

  private static final Logger LOG = LoggerFactory.getLogger(Stages.class);

  // Spark's thread-local property keys for job groups (SparkContext.SPARK_JOB_* are private to Spark)
  private static final String GROUP_ID = "spark.jobGroup.id";
  private static final String DESCRIPTION = "spark.job.description";
  private static final String INTERRUPT = "spark.job.interruptOnCancel";

  /** Rows out reported by the bodies running on this thread (a stack, so stages may nest). */
  private static final ThreadLocal<Deque<long[]>> RUNNING = ThreadLocal.withInitial(ArrayDeque::new);
  private static final long UNKNOWN = Long.MIN_VALUE;

  private final SparkSession spark;
  private final RunManifest manifest;
  private int total;
  private int started;
  private int progressSeconds = 10;
  /** Where progress lines go: the log, or a test's list. */
  java.util.function.Consumer<String> progressSink = line -> LOG.info("{}", line);

  /**
   * @param manifest where stage records go; may be null
   * @param total    the number of stages planned, for "stage i/n" in the log; 0 or less if unknown
   */
  public Stages(SparkSession spark, RunManifest manifest, int total) {
    this.spark = spark;
    this.manifest = manifest;
    this.total = total;
  }

  /**
   * Runs {@code body} as the next stage. The body may report its output rows with {@link #rowsOut(long)}.
   *
   * @param rowsIn rows the stage reads; negative if unknown
   */
  public <T> T run(String name, long rowsIn, Supplier<T> body) {
    return run(name, rowsIn, body, null);
  }

  /**
   * Runs {@code body} as the next stage; {@code rowsOut} counts the rows of its result (it runs inside the stage,
   * so a count it triggers is timed and grouped with it).
   */
  public <T> T run(String name, long rowsIn, Supplier<T> body, ToLongFunction<? super T> rowsOut) {
    int index = ++started;
    String label = "stage " + index + (total > 0 ? "/" + total : "") + " " + name;
    SparkContext sc = spark.sparkContext();
    String prevGroup = sc.getLocalProperty(GROUP_ID);
    String prevDescription = sc.getLocalProperty(DESCRIPTION);
    String prevInterrupt = sc.getLocalProperty(INTERRUPT);
    Deque<long[]> running = RUNNING.get();
    long[] reported = {UNKNOWN};
    running.push(reported);
    LOG.info("{}: started", label);
    long t0 = System.nanoTime();
    java.util.concurrent.ScheduledExecutorService ticker = null;
    try {
      sc.setJobGroup(name, "relabel " + label, false);
      if (progressSeconds > 0) {
        ticker = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
          Thread t = new Thread(r, "relabel-progress");
          t.setDaemon(true);
          return t;
        });
        Progress progress = new Progress(sc, name, label, rowsIn, progressSink);
        ticker.scheduleAtFixedRate(progress::log, progressSeconds, progressSeconds,
            java.util.concurrent.TimeUnit.SECONDS);
      }
      T result = body.get();
      if (rowsOut != null) {
        reported[0] = rowsOut.applyAsLong(result);
      }
      double seconds = Math.round((System.nanoTime() - t0) / 1e6) / 1e3;
      Long in = rowsIn < 0 ? null : rowsIn;
      Long out = reported[0] == UNKNOWN ? null : reported[0];
      LOG.info("{}: done in {} s, {} -> {} rows", label, String.format(Locale.ROOT, "%.1f", seconds),
          in == null ? "?" : in, out == null ? "?" : out);
      if (manifest != null) {
        manifest.addStage(new RunManifest.StageRecord(name, seconds, in, out));
      }
      return result;
    } catch (Throwable e) { // including Spark's undeclared checked SparkException
      LOG.warn("{}: failed after {} s: {}", label,
          String.format(Locale.ROOT, "%.1f", (System.nanoTime() - t0) / 1e9), e.toString());
      throw e;
    } finally {
      if (ticker != null) {
        ticker.shutdownNow();
      }
      running.pop();
      sc.setLocalProperty(GROUP_ID, prevGroup);
      sc.setLocalProperty(DESCRIPTION, prevDescription);
      sc.setLocalProperty(INTERRUPT, prevInterrupt);
    }
  }

  /** Changes the number of stages planned, when a run learns it takes a shorter path (e.g. an incremental reuse). */
  public void replan(int total) {
    this.total = total;
  }

  /** Log a progress line every {@code seconds} while a stage runs; 0 turns it off. */
  public Stages progressEvery(int seconds) {
    this.progressSeconds = seconds;
    return this;
  }

  /** Reports the rows out of the stage running on this thread. */
  public static void rowsOut(long rows) {
    long[] top = RUNNING.get().peek();
    if (top == null) {
      throw new IllegalStateException("Stages.rowsOut(" + rows + ") called outside a stage");
    }
    top[0] = rows;
  }

  /**
   * A stage's progress, read from Spark's status tracker: the tasks of the running job of the stage's job group.
   * A stage may run several Spark jobs one after the other (training rounds, a count, a write); each line describes
   * the job running now, with its rows estimated as the stage's input rows times the share of its tasks done.
   */
  static final class Progress {
    private final SparkContext sc;
    private final String group;
    private final String label;
    private final long rowsIn;
    private final java.util.function.Consumer<String> sink;
    /** Jobs of the group from earlier runs of a stage of the same name, in this SparkContext. */
    private final java.util.Set<Integer> earlier = new java.util.HashSet<>();
    private final long started = System.nanoTime();

    Progress(SparkContext sc, String group, String label, long rowsIn, java.util.function.Consumer<String> sink) {
      this.sc = sc;
      this.group = group;
      this.label = label;
      this.rowsIn = rowsIn;
      this.sink = sink;
      for (int id : sc.statusTracker().getJobIdsForGroup(group)) {
        earlier.add(id);
      }
    }

    void log() {
      try {
        org.apache.spark.SparkStatusTracker tracker = sc.statusTracker();
        int jobs = 0;
        int done = 0;
        int all = 0;
        long submitted = Long.MAX_VALUE;
        for (int id : tracker.getJobIdsForGroup(group)) {
          if (earlier.contains(id)) {
            continue;
          }
          jobs++;
          scala.Option<org.apache.spark.SparkJobInfo> job = tracker.getJobInfo(id);
          if (job.isEmpty() || job.get().status() != org.apache.spark.JobExecutionStatus.RUNNING) {
            continue;
          }
          for (int stage : job.get().stageIds()) {
            scala.Option<org.apache.spark.SparkStageInfo> st = tracker.getStageInfo(stage);
            if (st.isDefined() && st.get().numTasks() > 0) {
              done += st.get().numCompletedTasks();
              all += st.get().numTasks();
              if (st.get().submissionTime() > 0) {
                submitted = Math.min(submitted, st.get().submissionTime());
              }
            }
          }
        }
        if (all == 0) {
          sink.accept(label + ": running for " + Math.round((System.nanoTime() - started) / 1e9) + " s (" + jobs
              + " Spark jobs so far, none running now)");
          return;
        }
        double seconds = submitted == Long.MAX_VALUE ? 0 : (System.currentTimeMillis() - submitted) / 1e3;
        sink.accept(line(label, rowsIn, done, all, seconds, jobs));
      } catch (RuntimeException e) { // a progress line is never worth failing a run for
        LOG.debug("{}: no progress: {}", label, e.toString());
      }
    }

    /**
     * One progress line: {@code stage 3/9 embed: 41000 of 60000 rows (68%), 2050 rows/s, about 9 s left (Spark job
     * 2 of the stage, 11/16 tasks)}; the rate and time left are left out until a task has finished.
     */
    static String line(String label, long rowsIn, int doneTasks, int allTasks, double seconds, int job) {
      double share = (double) doneTasks / allTasks;
      StringBuilder sb = new StringBuilder(label).append(": ");
      if (rowsIn >= 0) {
        long rows = Math.round(rowsIn * share);
        sb.append(rows).append(" of ").append(rowsIn).append(" rows (")
            .append(Math.round(share * 100)).append("%)");
        if (doneTasks > 0 && seconds > 0) {
          sb.append(", ").append(Math.round(rows / seconds)).append(" rows/s");
        }
      } else {
        sb.append(Math.round(share * 100)).append("% of the tasks");
      }
      if (doneTasks > 0 && seconds > 0) {
        sb.append(", about ").append(Math.round(seconds * (allTasks - doneTasks) / doneTasks)).append(" s left");
      }
      return sb.append(" (Spark job ").append(job).append(" of the stage, ").append(doneTasks).append('/')
          .append(allTasks).append(" tasks)").toString();
    }
  }

  /** How many stages have been started. */
  public int started() {
    return started;
  }
}
