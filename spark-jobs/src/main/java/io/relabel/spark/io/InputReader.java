package io.relabel.spark.io;

import io.relabel.spark.cli.RelabelException;
import java.io.IOException;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.execution.datasources.parquet.ParquetToSparkSchemaConverter;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.util.SerializableConfiguration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Opens the input table. Spark's own failures for a wrong path are long stack traces ("Unable to infer schema",
 * "Expected magic number at tail") that do not say which of the user's files is the problem; this reader checks
 * the path, and the magic bytes and footer schema of every data file, itself and answers in one line.
 *
 * <p>Paths go through Hadoop's FileSystem, so {@code file:}, {@code hdfs:} and object stores work alike; glob
 * patterns are accepted as Spark accepts them.
 */
public final class InputReader {

  private static final Logger LOG = LoggerFactory.getLogger(InputReader.class);

  private static final byte[] MAGIC = "PAR1".getBytes(StandardCharsets.US_ASCII);
  /** Tail magic of a Parquet file with an encrypted footer. */
  private static final byte[] MAGIC_ENCRYPTED = "PARE".getBytes(StandardCharsets.US_ASCII);

  private InputReader() {}

  /** The Parquet table at {@code path} (a file, a directory of part files, or a glob). */
  public static Dataset<Row> read(SparkSession spark, String path) {
    Configuration conf = spark.sparkContext().hadoopConfiguration();
    List<String> dataFiles;
    boolean single;
    try {
      Path p = new Path(path);
      FileSystem fs = p.getFileSystem(conf);
      FileStatus[] matches = fs.globStatus(p);
      if (matches == null || matches.length == 0) {
        throw new RelabelException("input " + path + " does not exist");
      }
      single = matches.length == 1 && !matches[0].isDirectory();
      dataFiles = dataFiles(fs, matches);
      if (dataFiles.isEmpty()) {
        throw new RelabelException("input " + path + " is not a Parquet table: it holds no data files");
      }
    } catch (IOException e) {
      throw new RelabelException("input " + path + " cannot be read: " + e.getMessage(), e);
    }
    checkFiles(spark, path, dataFiles, single);
    Dataset<Row> table;
    try {
      table = spark.read().parquet(path);
    } catch (RuntimeException e) {
      throw new RelabelException("input " + path + " is not a Parquet table: " + rootMessage(e), e);
    }
    LOG.info("input {}: Parquet, {} files, columns {}", path, dataFiles.size(),
        String.join(", ", table.schema().fieldNames()));
    return table;
  }

  /**
   * Reads the footer of every data file in a Spark job (slices of files per task, so a table of 100,000 part files
   * is not read footer by footer on the driver) and stops at the first broken file in name order: empty, not
   * Parquet, truncated, a corrupt footer, two columns whose names differ only in case, or a column whose type
   * differs from the one an earlier file gives it. Spark itself takes the schema from one file and fails late,
   * inside a task, with a message that names neither the column nor the other file.
   */
  private static void checkFiles(SparkSession spark, String path, List<String> files, boolean single) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    // the Hadoop configuration (credentials included) goes to each executor once, as Spark's own scans send it
    Broadcast<SerializableConfiguration> conf = jsc.broadcast(
        new SerializableConfiguration(spark.sparkContext().hadoopConfiguration()));
    int slices = Math.max(1, Math.min(files.size(), spark.sparkContext().defaultParallelism() * 4));
    List<FileSchema> schemas;
    try {
      schemas = jsc.parallelize(files, slices).map(new ReadFooter(conf)).collect();
    } finally {
      conf.destroy();
    }
    String root = new Path(path).toUri().getPath();
    Map<String, String> typeOf = new HashMap<>();
    Map<String, String> fileOf = new HashMap<>();
    for (FileSchema f : schemas) {
      String name = single ? "it" : relative(root, f.file);
      if (f.problem != null) {
        throw new RelabelException("input " + path + " is not a Parquet table: " + name + " " + f.problem);
      }
      Map<String, String> lower = new HashMap<>();
      for (int i = 0; i < f.names.length; i++) {
        String before = lower.putIfAbsent(f.names[i].toLowerCase(Locale.ROOT), f.names[i]);
        if (before != null) {
          throw new RelabelException("input " + path + ": " + name + " has columns '" + before + "' and '"
              + f.names[i] + "', which differ only in case; Spark resolves column names ignoring case, so rename"
              + " one");
        }
        String seen = typeOf.putIfAbsent(f.names[i], f.types[i]);
        fileOf.putIfAbsent(f.names[i], name);
        if (seen != null && !seen.equals(f.types[i])) {
          throw new RelabelException("input " + path + ": column '" + f.names[i] + "' has type " + seen + " in "
              + fileOf.get(f.names[i]) + " but " + f.types[i] + " in " + name
              + "; every file of a table must give a column the same type");
        }
      }
    }
  }

  /** A data file's path below the input root, as the user would name it. */
  private static String relative(String root, String file) {
    String filePath = new Path(file).toUri().getPath();
    String prefix = root.endsWith("/") ? root : root + "/";
    return filePath.startsWith(prefix) ? filePath.substring(prefix.length()) : filePath;
  }

  /** Every data file, in name order, skipping hidden names as Spark does. */
  private static List<String> dataFiles(FileSystem fs, FileStatus[] roots) throws IOException {
    List<String> out = new ArrayList<>();
    Deque<FileStatus> todo = new ArrayDeque<>();
    FileStatus[] sortedRoots = roots.clone();
    Arrays.sort(sortedRoots, Comparator.comparing(s -> s.getPath().getName()));
    todo.addAll(Arrays.asList(sortedRoots));
    while (!todo.isEmpty()) {
      FileStatus st = todo.pollFirst();
      if (!st.isDirectory()) {
        out.add(st.getPath().toString());
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

  /** What one data file's footer says: its top-level columns with their Spark types, or why it cannot be read. */
  static final class FileSchema implements Serializable {
    private static final long serialVersionUID = 1L;
    final String file;
    final String problem;
    final String[] names;
    final String[] types;

    FileSchema(String file, String problem, String[] names, String[] types) {
      this.file = file;
      this.problem = problem;
      this.names = names;
      this.types = types;
    }

    static FileSchema broken(String file, String problem) {
      return new FileSchema(file, problem, null, null);
    }
  }

  /** Runs on executors: the magic bytes, then the footer, of one file. */
  private static final class ReadFooter implements Function<String, FileSchema> {
    private static final long serialVersionUID = 1L;
    private final Broadcast<SerializableConfiguration> hadoopConf;

    ReadFooter(Broadcast<SerializableConfiguration> hadoopConf) {
      this.hadoopConf = hadoopConf;
    }

    @Override
    public FileSchema call(String file) throws IOException {
      Configuration conf = hadoopConf.value().value();
      Path p = new Path(file);
      FileSystem fs = p.getFileSystem(conf);
      long len = fs.getFileStatus(p).getLen();
      if (len == 0) {
        return FileSchema.broken(file, "is empty (0 bytes)");
      }
      byte[] head = new byte[4];
      byte[] tail = new byte[4];
      if (len >= 12) {
        try (FSDataInputStream in = fs.open(p)) {
          in.readFully(0, head);
          in.readFully(len - 4, tail);
        }
      }
      if (len < 12 || !Arrays.equals(head, MAGIC)) {
        return FileSchema.broken(file, "is not a Parquet file (no PAR1 magic bytes)");
      }
      if (!Arrays.equals(tail, MAGIC) && !Arrays.equals(tail, MAGIC_ENCRYPTED)) {
        return FileSchema.broken(file, "is not a whole Parquet file: it starts with PAR1 but does not end with it"
            + " (truncated, or still being written)");
      }
      MessageType schema;
      try (ParquetFileReader reader = ParquetFileReader.open(HadoopInputFile.fromPath(p, conf))) {
        schema = reader.getFooter().getFileMetaData().getSchema();
      } catch (IOException | RuntimeException e) {
        return FileSchema.broken(file, "has a corrupt footer (" + rootMessage(e) + ")");
      }
      // Spark's own reading of the footer, so that the types read as the user sees them (bigint, array<float>)
      StructType st = new ParquetToSparkSchemaConverter(false, true, false, false, false).convert(schema);
      String[] names = st.fieldNames();
      String[] types = new String[names.length];
      for (int i = 0; i < names.length; i++) {
        types[i] = st.fields()[i].dataType().simpleString();
      }
      return new FileSchema(file, null, names, types);
    }
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    return t.getMessage() == null ? t.toString() : t.getMessage();
  }
}
