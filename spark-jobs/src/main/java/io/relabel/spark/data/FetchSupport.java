package io.relabel.spark.data;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;

/**
 * What every {@link DatasetFetcher} does the same way: where its table and download cache live, whether the table
 * is there, its {@code _dataset.json} sidecar, and how rows read on the driver become a table without the driver
 * building them all.
 */
final class FetchSupport {

  /** The sidecar every fetched table carries: where it came from and what is in it. */
  static final String SIDECAR = "_dataset.json";

  private FetchSupport() {}

  /** Makes the rows of units [from, to) of the shared data; runs on an executor. */
  @FunctionalInterface
  interface RowMaker<T> extends Serializable {
    Iterator<Row> rows(T data, int from, int to);
  }

  /**
   * Where a fetch finds its source files.
   *
   * @param root          the directory to search
   * @param what          the directory in words, for messages ("--from DIR", "the unpacked package in DIR")
   * @param packageSource the Debian package and .deb it came from, or null for --from
   */
  record Origin(Path root, String what, String packageSource) {

    /** The provenance of the data: the Debian package, or else {@code files} (the files found under --from). */
    String source(String files) {
      return packageSource != null ? packageSource : files;
    }
  }

  /** --from DIR when the request has one, else the Debian package, downloaded (or reused) and unpacked. */
  static Origin origin(DatasetFetcher.Request request, DebianPackage debian, String name, String packageName,
      String manualHelp) {
    if (request.fromDir() != null) {
      return new Origin(request.fromDir(), "--from " + request.fromDir(), null);
    }
    Path root = debian.fetch(cacheDir(request.dataDir(), name), request.force(), manualHelp);
    return new Origin(root, "the unpacked package in " + root,
        "Debian package " + packageName + " (" + DebianPackage.unpackedFrom(root) + ")");
  }

  /** {@code <dataDir>/<name>}. */
  static String tablePath(String dataDir, String name) {
    String d = dataDir.length() > 1 && dataDir.endsWith("/") ? dataDir.substring(0, dataDir.length() - 1) : dataDir;
    return d + "/" + name;
  }

  /** Downloads live in {@code <dataDir>/cache/<name>} when the data dir is local, else in the temp dir. */
  static Path cacheDir(String dataDir, String name) {
    URI uri = new org.apache.hadoop.fs.Path(dataDir).toUri();
    if (uri.getScheme() == null || "file".equals(uri.getScheme())) {
      return Path.of(uri.getPath(), "cache", name);
    }
    return Path.of(System.getProperty("java.io.tmpdir"), "relabel-cache", name);
  }

  static boolean exists(String table) {
    try {
      org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(table);
      return p.getFileSystem(new Configuration()).exists(p);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot check whether " + table + " exists", e);
    }
  }

  /** The table's {@value #SIDECAR} as a map, or null when it has none. */
  static Map<?, ?> readSidecar(String table) {
    org.apache.hadoop.fs.Path p = new org.apache.hadoop.fs.Path(table, SIDECAR);
    try {
      FileSystem fs = p.getFileSystem(new Configuration());
      if (!fs.exists(p)) {
        return null;
      }
      try (FSDataInputStream in = fs.open(p)) {
        return new ObjectMapper().readValue(new String(in.readAllBytes(), StandardCharsets.UTF_8), Map.class);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + p, e);
    }
  }

  static String json(Map<String, Object> m) {
    try {
      return new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(m);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A table of {@code units} units of driver-side data (chunks, rows) in at most {@code maxParts} partitions: the
   * data reaches the executors once, as a broadcast, and each task makes the rows of its own range of units, so
   * tasks stay small and the driver never holds the rows in Spark's form. Destroy the broadcast after the write.
   */
  static <T> Shared<T> table(SparkSession session, T data, int units, int maxParts, RowMaker<T> maker,
      StructType schema) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(session.sparkContext());
    Broadcast<T> shared = jsc.broadcast(data);
    int parts = Math.max(1, Math.min(maxParts, units));
    JavaRDD<Row> rows = jsc.parallelize(IntStream.range(0, parts).boxed().collect(Collectors.toList()), parts)
        .flatMap(p -> maker.rows(shared.value(), (int) ((long) units * p / parts),
            (int) ((long) units * (p + 1) / parts)));
    return new Shared<>(session.createDataFrame(rows, schema), shared);
  }

  /** A table made by {@link #table} and the broadcast it reads. */
  record Shared<T>(Dataset<Row> table, Broadcast<T> broadcast) {}

  static String seconds(long t0) {
    return String.format("%.1f", (System.nanoTime() - t0) / 1e9);
  }
}
