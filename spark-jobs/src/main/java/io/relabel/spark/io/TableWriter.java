package io.relabel.spark.io;

import io.relabel.spark.cli.RelabelException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongFunction;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a table so that it appears whole or not at all.
 *
 * <p>Spark's own {@code write().parquet(path)} creates the target directory at the start of the job; a job that
 * dies halfway leaves a directory that looks like output, and {@code SaveMode.Overwrite} deletes the previous
 * output before the new one exists. Here the table (and its sidecar files, such as the run manifest) is written to
 * a hidden staging directory beside the target, and only a finished, complete directory is moved in with one
 * Hadoop {@link FileSystem#rename}, which is atomic on local file systems and HDFS. When replacing, the old output
 * is moved aside first and restored if the rename fails. Any failure deletes the staging directory and leaves the
 * target as it was. (On object stores without atomic rename the commit is a copy, but the staging still keeps
 * half-written files out of the target.)
 *
 * <p>A driver that is killed (or loses its machine) during the write cannot delete its staging directory; the next
 * write to the same target removes every {@code .NAME.staging-UUID} directory beside it before it starts. That
 * assumes a single writer per target: two runs writing the same output at the same time would delete each other's
 * staging directories (one of them then fails; neither leaves a partial target).
 */
public final class TableWriter {

  private static final Logger LOG = LoggerFactory.getLogger(TableWriter.class);
  private static final String UUID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}";

  private TableWriter() {}

  /**
   * Writes {@code table} as Parquet to {@code path}, atomically.
   *
   * @param sidecars extra files written inside the table directory before the commit (name to UTF-8 content);
   *                 names start with '_' so Parquet readers skip them
   */
  public static void writeAtomically(Dataset<Row> table, String path, boolean overwrite,
      Map<String, String> sidecars) {
    sidecars.keySet().forEach(TableWriter::checkSidecarName);
    writeAtomically(table, path, overwrite, rows -> sidecars);
  }

  /**
   * Like {@link #writeAtomically(Dataset, String, boolean, Map)}, but the sidecars are made after the table is
   * written, from its row count (so that a manifest can record the rows written and the end time). A sidecar's
   * content is a String (written as UTF-8) or a byte[] (written as it is, e.g. a model file).
   *
   * @return the number of rows written
   */
  public static long writeAtomically(Dataset<Row> table, String path, boolean overwrite,
      LongFunction<? extends Map<String, ?>> sidecarsForRows) {
    return writeAtomically(table, path, overwrite, sidecarsForRows, null);
  }

  /**
   * Like {@link #writeAtomically(Dataset, String, boolean, LongFunction)}, and {@code alsoWrite} (may be null) is
   * given the staging directory after the table is in it, to write more into it (e.g. a second table under a
   * '_' name) that is then committed, or discarded, together with the table.
   */
  public static long writeAtomically(Dataset<Row> table, String path, boolean overwrite,
      LongFunction<? extends Map<String, ?>> sidecarsForRows, Consumer<String> alsoWrite) {
    SparkSession spark = table.sparkSession();
    Target t = check(spark.sparkContext().hadoopConfiguration(), path, overwrite);
    if (t.exists) {
      refuseOverwritingInput(table, t, path);
    }
    removeStaleStaging(t, path);
    Path staging = new Path(t.target.getParent(), "." + t.target.getName() + ".staging-" + UUID.randomUUID());
    try {
      LOG.info("output {}: writing to staging directory {}", path, staging);
      table.write().mode(SaveMode.ErrorIfExists).parquet(staging.toString());
      long rows = countWritten(spark, t.fs, staging);
      LOG.info("output {}: {} rows written to staging", path, rows);
      if (alsoWrite != null) {
        alsoWrite.accept(staging.toString());
      }
      Map<String, ?> sidecars = sidecarsForRows.apply(rows);
      for (Map.Entry<String, ?> e : sidecars.entrySet()) {
        checkSidecarName(e.getKey());
        writeFile(t.fs, new Path(staging, e.getKey()), e.getValue());
      }
      commit(t, staging, path, overwrite);
      LOG.info("output {}: committed {} rows{}", path, rows,
          sidecars.isEmpty() ? "" : " with " + String.join(", ", sidecars.keySet()));
      return rows;
    } catch (Throwable e) { // Spark's job failures are checked SparkExceptions that Scala does not declare
      awaitRunningTasks(spark);
      deleteQuietly(t.fs, staging);
      IOException io = e instanceof RelabelException ? null : ioCause(e);
      if (io != null) {
        throw new RelabelException("output " + path + " was not written: " + io.getMessage(), e);
      }
      throw e;
    }
  }

  /**
   * A job fails as soon as one task does; its other tasks are cancelled but run on until they notice, and may still
   * create files (and so the staging directory again) meanwhile. Waits up to 30 s for every running task to end.
   */
  private static void awaitRunningTasks(SparkSession spark) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (Arrays.stream(spark.sparkContext().statusTracker().getExecutorInfos())
        .anyMatch(e -> e.numRunningTasks() > 0)) {
      if (System.nanoTime() > deadline) {
        LOG.warn("tasks of the failed write still run after 30 s; they may leave files in its staging directory");
        return;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException ie) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /**
   * The innermost IOException under {@code e}, if any: what a full disk or a vanished directory looks like, whether
   * it was thrown here or in an executor's task (then wrapped in SparkExceptions and, on a local file system, in
   * Hadoop's FSError).
   */
  private static IOException ioCause(Throwable e) {
    IOException found = null;
    for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
      if (t instanceof IOException io && io.getMessage() != null) {
        found = io;
      }
    }
    return found;
  }

  /**
   * Deletes the staging directories of {@code t}'s target that earlier writes left behind (their driver was killed
   * before it could clean up); only names this class makes for this very target. A {@code .NAME.old-UUID}
   * directory is never deleted: a commit interrupted between its two renames left the previous output there.
   */
  private static void removeStaleStaging(Target t, String path) {
    Path parent = t.target.getParent();
    String name = Pattern.quote(t.target.getName());
    Pattern staging = Pattern.compile("\\." + name + "\\.staging-" + UUID_PATTERN);
    Pattern old = Pattern.compile("\\." + name + "\\.old-" + UUID_PATTERN);
    FileStatus[] siblings;
    try {
      if (!t.fs.exists(parent)) {
        return;
      }
      siblings = t.fs.listStatus(parent);
    } catch (IOException e) {
      throw new RelabelException("output " + path + " cannot be checked: " + e.getMessage(), e);
    }
    for (FileStatus s : siblings) {
      String n = s.getPath().getName();
      if (s.isDirectory() && staging.matcher(n).matches()) {
        LOG.warn("output {}: removing {}, the staging directory of an earlier write that did not finish", path,
            s.getPath());
        deleteQuietly(t.fs, s.getPath());
      } else if (old.matcher(n).matches()) {
        LOG.warn("output {}: {} holds an earlier output that an interrupted commit moved aside; it is left as it is",
            path, s.getPath());
      }
    }
  }

  /**
   * Rows in the freshly written staging directory, from the Parquet footers of its part files. (The files are named
   * by a glob because Spark warns when asked to read a hidden directory such as the staging one.)
   */
  private static long countWritten(SparkSession spark, FileSystem fs, Path staging) {
    Path parts = new Path(staging, "part-*");
    FileStatus[] found;
    try {
      found = fs.globStatus(parts);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + staging, e);
    }
    return found == null || found.length == 0 ? 0 : spark.read().parquet(parts.toString()).count();
  }

  /**
   * Fails now, before any work, if {@code path} cannot be the output: it exists and {@code overwrite} is false, or
   * its nearest existing ancestor is not a writable directory.
   */
  public static void checkWritable(SparkSession spark, String path, boolean overwrite) {
    check(spark.sparkContext().hadoopConfiguration(), path, overwrite);
  }

  private record Target(FileSystem fs, Path target, boolean exists) {}

  private static Target check(Configuration conf, String path, boolean overwrite) {
    try {
      Path p = new Path(path);
      FileSystem fs = p.getFileSystem(conf);
      Path target = fs.makeQualified(p);
      if (target.getParent() == null) {
        throw new RelabelException("output " + path + " is the root of a file system; choose a directory under it");
      }
      boolean exists = fs.exists(target);
      if (exists && !overwrite) {
        throw new RelabelException("output " + path + " already exists; refusing to replace it (overwrite was "
            + "not requested)");
      }
      Path ancestor = target.getParent();
      while (!fs.exists(ancestor)) {
        ancestor = ancestor.getParent();
      }
      if (!fs.getFileStatus(ancestor).isDirectory()) {
        throw new RelabelException("output " + path + " cannot be created: " + ancestor.toUri().getPath()
            + " is not a directory");
      }
      Path probe = new Path(ancestor, ".relabel-write-probe-" + UUID.randomUUID());
      try {
        fs.create(probe, false).close();
        fs.delete(probe, false);
      } catch (IOException e) {
        throw new RelabelException("output " + path + " cannot be created: directory "
            + ancestor.toUri().getPath() + " is not writable", e);
      }
      return new Target(fs, target, exists);
    } catch (IOException e) {
      throw new RelabelException("output " + path + " cannot be checked: " + e.getMessage(), e);
    }
  }

  /** Replacing a directory the table is still lazily reading from would destroy its own input. */
  private static void refuseOverwritingInput(Dataset<Row> table, Target t, String path) {
    for (String file : table.inputFiles()) {
      for (Path p = new Path(file); p != null; p = p.getParent()) {
        if (p.equals(t.target)) {
          throw new RelabelException("output " + path + " holds the input this table is read from; write to "
              + "another path");
        }
      }
    }
  }

  private static void commit(Target t, Path staging, String path, boolean overwrite) {
    FileSystem fs = t.fs;
    Path target = t.target;
    try {
      if (!fs.exists(target)) {
        if (!fs.rename(staging, target)) {
          throw new RelabelException("output " + path + ": could not rename " + staging + " to it");
        }
        return;
      }
      if (!overwrite) {
        throw new RelabelException("output " + path + " appeared while it was being written; the new table was "
            + "discarded");
      }
      Path old = new Path(target.getParent(), "." + target.getName() + ".old-" + UUID.randomUUID());
      if (!fs.rename(target, old)) {
        throw new RelabelException("output " + path + ": could not move the old output aside to " + old);
      }
      boolean renamed = false;
      try {
        renamed = fs.rename(staging, target);
      } finally {
        if (!renamed) {
          if (fs.rename(old, target)) {
            LOG.warn("output {}: commit failed; the old output was restored", path);
          } else {
            LOG.error("output {}: commit failed and the old output could not be restored; it is at {}", path, old);
          }
        }
      }
      if (!renamed) {
        throw new RelabelException("output " + path + ": could not rename " + staging + " to it");
      }
      if (!fs.delete(old, true)) {
        LOG.warn("output {}: committed, but the old output at {} could not be deleted", path, old);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("output " + path + ": commit failed", e);
    }
  }

  private static void checkSidecarName(String name) {
    if (!name.startsWith("_") || name.contains("/") || name.length() < 2) {
      throw new IllegalArgumentException("sidecar file name '" + name + "' must start with '_' and contain no '/'");
    }
  }

  private static void writeFile(FileSystem fs, Path file, Object content) {
    try (OutputStream out = fs.create(file, false)) {
      out.write(content instanceof byte[] b ? b : ((String) content).getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  private static void deleteQuietly(FileSystem fs, Path dir) {
    try {
      if (fs.exists(dir) && !fs.delete(dir, true)) {
        LOG.warn("could not delete staging directory {}", dir);
      }
    } catch (IOException e) {
      LOG.warn("could not delete staging directory {}: {}", dir, e.toString());
    }
  }
}
