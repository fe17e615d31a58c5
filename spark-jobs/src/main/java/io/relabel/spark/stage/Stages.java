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
  private final int total;
  private int started;

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
    try {
      sc.setJobGroup(name, "relabel " + label, false);
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
      running.pop();
      sc.setLocalProperty(GROUP_ID, prevGroup);
      sc.setLocalProperty(DESCRIPTION, prevDescription);
      sc.setLocalProperty(INTERRUPT, prevInterrupt);
    }
  }

  /** Reports the rows out of the stage running on this thread. */
  public static void rowsOut(long rows) {
    long[] top = RUNNING.get().peek();
    if (top == null) {
      throw new IllegalStateException("Stages.rowsOut(" + rows + ") called outside a stage");
    }
    top[0] = rows;
  }

  /** How many stages have been started. */
  public int started() {
    return started;
  }
}
