package io.relabel.spark.io;

import io.relabel.spark.cli.RelabelException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the input table. Spark's own failures for a wrong path are long stack traces ("Unable to infer schema",
 * "Expected magic number at tail") that do not say which of the user's files is the problem; this reader checks
 * the path and the Parquet magic bytes of the first data files itself and answers in one line.
 *
 * <p>Paths go through Hadoop's FileSystem, so {@code file:}, {@code hdfs:} and object stores work alike; glob
 * patterns are accepted as Spark accepts them.
 */
public final class InputReader {

  private static final Logger LOG = LoggerFactory.getLogger(InputReader.class);

  /** Data files whose magic bytes are checked before Spark reads the table (enough to catch a CSV directory). */
  static final int FILES_CHECKED = 16;

  private static final byte[] MAGIC = "PAR1".getBytes(StandardCharsets.US_ASCII);
  /** Tail magic of a Parquet file with an encrypted footer. */
  private static final byte[] MAGIC_ENCRYPTED = "PARE".getBytes(StandardCharsets.US_ASCII);

  private InputReader() {}

  /** The Parquet table at {@code path} (a file, a directory of part files, or a glob). */
  public static Dataset<Row> read(SparkSession spark, String path) {
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    List<Path> dataFiles;
    try {
      Path p = new Path(path);
      FileSystem fs = p.getFileSystem(conf);
      FileStatus[] matches = fs.globStatus(p);
      if (matches == null || matches.length == 0) {
        throw new RelabelException("input " + path + " does not exist");
      }
      dataFiles = firstDataFiles(fs, matches);
      if (dataFiles.isEmpty()) {
        throw new RelabelException("input " + path + " is not a Parquet table: it holds no data files");
      }
      for (Path f : dataFiles) {
        if (!hasParquetMagic(fs, f)) {
          String which = matches.length == 1 && !matches[0].isDirectory() ? "it" : f.getName();
          throw new RelabelException("input " + path + " is not a Parquet table: " + which
              + " is not a Parquet file (no PAR1 magic bytes)");
        }
      }
    } catch (IOException e) {
      throw new RelabelException("input " + path + " cannot be read: " + e.getMessage(), e);
    }
    Dataset<Row> table;
    try {
      table = spark.read().parquet(path);
    } catch (RuntimeException e) {
      throw new RelabelException("input " + path + " is not a Parquet table: " + rootMessage(e), e);
    }
    LOG.info("input {}: Parquet, columns {}", path, String.join(", ", table.schema().fieldNames()));
    return table;
  }

  /** Up to {@link #FILES_CHECKED} data files, in name order, skipping hidden names as Spark does. */
  private static List<Path> firstDataFiles(FileSystem fs, FileStatus[] roots) throws IOException {
    List<Path> out = new ArrayList<>();
    Deque<FileStatus> todo = new ArrayDeque<>();
    FileStatus[] sortedRoots = roots.clone();
    Arrays.sort(sortedRoots, Comparator.comparing(s -> s.getPath().getName()));
    todo.addAll(Arrays.asList(sortedRoots));
    while (!todo.isEmpty() && out.size() < FILES_CHECKED) {
      FileStatus st = todo.pollFirst();
      if (!st.isDirectory()) {
        out.add(st.getPath());
        continue;
      }
      FileStatus[] children = fs.listStatus(st.getPath());
      Arrays.sort(children, Comparator.comparing(s -> s.getPath().getName()));
      List<FileStatus> visible = new ArrayList<>();
      for (FileStatus child : children) {
        if (!hidden(child.getPath().getName())) {
          visible.add(child);
        }
      }
      // depth first, in name order: keep the children ahead of the rest of the queue
      for (int i = visible.size() - 1; i >= 0; i--) {
        todo.addFirst(visible.get(i));
      }
    }
    return out;
  }

  /** Spark's rule for files a Parquet scan ignores: _SUCCESS, _metadata, .crc files, staging leftovers. */
  static boolean hidden(String name) {
    return (name.startsWith("_") && !name.contains("=")) || name.startsWith(".") || name.endsWith("._COPYING_");
  }

  private static boolean hasParquetMagic(FileSystem fs, Path file) throws IOException {
    long len = fs.getFileStatus(file).getLen();
    if (len < 12) {
      return false;
    }
    byte[] head = new byte[4];
    byte[] tail = new byte[4];
    try (FSDataInputStream in = fs.open(file)) {
      in.readFully(0, head);
      in.readFully(len - 4, tail);
    }
    return Arrays.equals(head, MAGIC) && (Arrays.equals(tail, MAGIC) || Arrays.equals(tail, MAGIC_ENCRYPTED));
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }
}
