package io.relabel.spark.stage;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.xxhash64;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.core.model.MlpModel;
import io.relabel.spark.cli.RelabelException;
import io.relabel.spark.embed.Encoder;
import io.relabel.spark.embed.EncoderFactory;
import io.relabel.spark.embed.VectorEncoder;
import io.relabel.spark.io.InputContract;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

/**
 * Nightly runs against a growing table: output partitioned by run date, and relabel's own state, kept inside each
 * committed partition so that it is committed (or lost) together with the output it describes.
 *
 * <p>A dated run writes {@code OUTPUT/run_date=YYYY-MM-DD/}: the table, its manifest and report, and the state:
 * {@value #STATE_DIR}/ (a Parquet table of row id, content hash and embedding), {@value #STATE_INFO} (the input
 * schema, encoder, class list and settings of that run) and, where they exist, the fitted numeric encoder and the
 * baseline and final models in DL4J's format. Spark's partition discovery skips names starting with '_' or '.', so
 * {@code spark.read().parquet(OUTPUT)} sees every committed date as a {@code run_date} column and nothing else.
 *
 * <p>An incremental run compares each row's content hash (features, label, trusted flag, split) with the state of
 * the last committed date before its own. Comparing with the last date <em>before</em> it, never with itself, is
 * what makes a re-run of a date idempotent: it starts from the same state as the first run of that date did.
 */
public final class Incremental {

  /** relabel.incremental.mode. */
  public enum Mode {
    OFF, REFRESH, REUSE;

    static Mode of(Settings s) {
      return valueOf(s.get(RelabelParams.INCREMENTAL_MODE).toUpperCase(Locale.ROOT));
    }

    String key() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  /** The partition column of dated output. */
  public static final String PARTITION = "run_date";
  /** The state table inside a committed partition. */
  public static final String STATE_DIR = "_state";
  /** What the state was made with. */
  public static final String STATE_INFO = "_state.json";
  static final String ENCODER_FILE = "_state_encoder.bin";
  static final String BASELINE_FILE = "_state_baseline.zip";
  static final String FINAL_FILE = "_state_final.zip";

  /** Columns of the state table. */
  static final String STATE_ID = "id";
  static final String STATE_HASH = "content_hash";
  static final String STATE_EMBEDDING = "embedding";

  /** Internal column: the row's content hash. */
  static final String HASH = "_rl_hash";

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private Incremental() {}

  /**
   * What a committed state says about the run that wrote it.
   *
   * @param inputSchema   the input's columns relabel reads, name to Spark SQL type
   * @param encoderHash   the encoder's model hash (empty when it cannot name its model)
   * @param models        whether the baseline and final models are stored (absent with EMLC or a failed fit)
   * @param stageSeconds  the seconds of each stage of that run, for the time-saved estimate
   */
  public record StateInfo(String runId, String runDate, Map<String, String> inputSchema, String encoder, int dim,
      String encoderHash, List<String> classes, Map<String, String> settings, boolean models, long rows,
      Map<String, Double> stageSeconds) {

    public StateInfo {
      inputSchema = new LinkedHashMap<>(inputSchema);
      settings = new TreeMap<>(settings);
      stageSeconds = new LinkedHashMap<>(stageSeconds);
      classes = List.copyOf(classes);
    }

    String toJson() {
      try {
        return JSON.writeValueAsString(this);
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /** The last committed date before a run's own, with its state. */
  public record Previous(LocalDate date, String path, StateInfo info) {}

  /** What a dated run stores beside its output for the next run (gathered during the run, written at commit). */
  static final class Saved {
    private final String encoder;
    private final int dim;
    private final String encoderHash;
    private final byte[] encoderBytes;
    private final List<String> classes;
    private final Map<String, String> inputSchema;
    private byte[] baseline;
    private byte[] finalModel;
    private Map<String, Double> inherited = Map.of();
    private java.util.Set<String> partial = java.util.Set.of();

    Saved(String encoder, int dim, String encoderHash, byte[] encoderBytes, List<String> classes,
        Map<String, String> inputSchema) {
      this.encoder = encoder;
      this.dim = dim;
      this.encoderHash = encoderHash;
      this.encoderBytes = encoderBytes;
      this.classes = classes;
      this.inputSchema = inputSchema;
    }

    /** The baseline and final classifiers, in DL4J's format; null when the run has none to reuse. */
    void models(byte[] baseline, byte[] finalModel) {
      this.baseline = baseline;
      this.finalModel = finalModel;
    }

    /**
     * Stage costs carried over from the last run: for stages this run skipped, and for {@code partialStages} that
     * ran here on a few rows only. The state then keeps what each stage costs on the whole table, which is what the
     * next run's time-saved estimates need.
     */
    void inherit(Map<String, Double> lastSeconds, java.util.Set<String> partialStages) {
      this.inherited = lastSeconds;
      this.partial = partialStages;
    }

    /** The sidecar files of the state, for {@code rows} rows written by the run {@code manifest} describes. */
    Map<String, Object> files(io.relabel.spark.io.RunManifest manifest, LocalDate date, long rows) {
      Map<String, Double> seconds = new LinkedHashMap<>();
      manifest.stages().forEach(st -> seconds.merge(st.name(), st.seconds(), Double::sum));
      for (String st : partial) {
        if (inherited.containsKey(st)) {
          seconds.put(st, inherited.get(st));
        }
      }
      inherited.forEach(seconds::putIfAbsent);
      boolean models = baseline != null && finalModel != null;
      StateInfo info = new StateInfo(manifest.runId(), date.toString(), inputSchema, encoder, dim, encoderHash,
          classes, manifest.settings(), models, rows, seconds);
      Map<String, Object> files = new LinkedHashMap<>();
      files.put(STATE_INFO, info.toJson());
      if (encoderBytes != null) {
        files.put(ENCODER_FILE, encoderBytes);
      }
      if (models) {
        files.put(BASELINE_FILE, baseline);
        files.put(FINAL_FILE, finalModel);
      }
      return files;
    }
  }

  // ------------------------------------------------------------------------------------------------ dates, paths

  /** Parses --run-date: an ISO date, YYYY-MM-DD. */
  public static LocalDate parseDate(String value) {
    try {
      if (!value.matches("\\d{4}-\\d{2}-\\d{2}")) {
        throw new DateTimeParseException("not YYYY-MM-DD", value, 0);
      }
      return LocalDate.parse(value);
    } catch (DateTimeParseException e) {
      throw new RelabelException("--run-date must be a date YYYY-MM-DD, not '" + value + "'");
    }
  }

  /** OUTPUT/run_date=D. */
  public static String partitionPath(String output, LocalDate date) {
    return new Path(output, PARTITION + "=" + date).toString();
  }

  /**
   * The run id of a dated run: the date and a hash of the input path and every setting. A re-run of the same date
   * with the same input and settings writes the same id, so its partition is identical to the first one's.
   */
  public static String datedRunId(LocalDate date, String input, Map<String, String> settings) {
    StringBuilder sb = new StringBuilder(input).append('\n');
    new TreeMap<>(settings).forEach((k, v) -> sb.append(k).append('=').append(v).append('\n'));
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(sb.toString().getBytes(StandardCharsets.UTF_8));
      return date + "-" + HexFormat.of().formatHex(d, 0, 6);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Refuses a dated run into a directory that holds an undated output (a table written without --run-date): the
   * two layouts in one directory would read back as one broken table.
   */
  public static void checkDatedRoot(SparkSession spark, String output) {
    try {
      Path root = new Path(output);
      FileSystem fs = root.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.exists(root)) {
        return;
      }
      if (!fs.getFileStatus(root).isDirectory()) {
        throw new RelabelException("output " + output + " is a file; a dated run (--run-date) writes a directory of"
            + " run_date=YYYY-MM-DD partitions");
      }
      for (FileStatus f : fs.listStatus(root)) {
        String name = f.getPath().getName();
        if (!f.isDirectory() && !name.startsWith(".") && !name.startsWith("_") || name.equals("_manifest.json")) {
          throw new RelabelException("output " + output + " holds an undated table (" + name + "); a dated run"
              + " (--run-date) writes run_date=YYYY-MM-DD partitions: choose another output directory");
        }
      }
    } catch (IOException e) {
      throw new RelabelException("output " + output + " cannot be listed: " + e.getMessage(), e);
    }
  }

  /** The last committed partition with a state, dated before {@code date}; empty when there is none. */
  public static Optional<Previous> findPrevious(SparkSession spark, String output, LocalDate date) {
    try {
      Path root = new Path(output);
      FileSystem fs = root.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.isDirectory(root)) {
        return Optional.empty();
      }
      List<LocalDate> dates = new ArrayList<>();
      for (FileStatus f : fs.listStatus(root)) {
        String name = f.getPath().getName();
        if (f.isDirectory() && name.matches(PARTITION + "=\\d{4}-\\d{2}-\\d{2}")) {
          LocalDate d = LocalDate.parse(name.substring(PARTITION.length() + 1));
          if (d.isBefore(date)) {
            dates.add(d);
          }
        }
      }
      dates.sort(java.util.Comparator.reverseOrder());
      for (LocalDate d : dates) {
        Path info = new Path(partitionPath(output, d), STATE_INFO);
        if (fs.isFile(info)) {
          try (InputStream in = fs.open(info)) {
            StateInfo s = JSON.readValue(in.readAllBytes(), StateInfo.class);
            return Optional.of(new Previous(d, partitionPath(output, d), s));
          }
        }
      }
      return Optional.empty();
    } catch (IOException e) {
      throw new RelabelException("output " + output + ": cannot read the last run's state: " + e.getMessage(), e);
    }
  }

  // ------------------------------------------------------------------------------------------------ content

  /** The columns of the input relabel reads, in a fixed order, name to type: what a schema change is judged on. */
  static Map<String, String> readColumns(StructType schema, InputContract c) {
    Map<String, String> m = new LinkedHashMap<>();
    for (String name : List.of(c.idCol(), c.featuresCol(), c.labelCol(), c.trustedCol(), c.splitCol(),
        c.trueLabelCol())) {
      if (!name.isEmpty() && List.of(schema.fieldNames()).contains(name)) {
        StructField f = schema.apply(name);
        m.put(name, f.dataType().simpleString());
      }
    }
    return m;
  }

  /**
   * A 64-bit hash of what decides a row's label: features, label, trusted flag and split (the id is the key, the
   * true label is evaluation only). Spark's xxhash64 skips nulls, so each nullable column is followed by its
   * null flag; otherwise (label null, trusted true) and (label true...) could hash alike. A changed row keeps its
   * old hash with probability about 2^-64.
   */
  static Column contentHash(StructType schema, InputContract c) {
    List<Column> parts = new ArrayList<>();
    for (String name : List.of(c.featuresCol(), c.labelCol(), c.trustedCol(), c.splitCol())) {
      if (!name.isEmpty() && List.of(schema.fieldNames()).contains(name)) {
        parts.add(col(name));
        parts.add(col(name).isNull());
      } else {
        parts.add(lit(name + ":absent"));
      }
    }
    return xxhash64(parts.toArray(new Column[0]));
  }

  /**
   * Refuses a state whose input had other columns or types than this input, naming the column: a changed
   * schema means the stored hashes and embeddings describe other data.
   */
  static void checkSchema(Previous prev, Map<String, String> now) {
    Map<String, String> before = prev.info().inputSchema();
    for (Map.Entry<String, String> e : before.entrySet()) {
      String type = now.get(e.getKey());
      if (type == null) {
        throw schemaChanged(prev, "column '" + e.getKey() + "' (" + e.getValue() + ") is gone");
      }
      if (!type.equals(e.getValue())) {
        throw schemaChanged(prev, "column '" + e.getKey() + "' was " + e.getValue() + ", now " + type);
      }
    }
    for (Map.Entry<String, String> e : now.entrySet()) {
      if (!before.containsKey(e.getKey())) {
        throw schemaChanged(prev, "column '" + e.getKey() + "' (" + e.getValue() + ") is new");
      }
    }
  }

  private static RelabelException schemaChanged(Previous prev, String what) {
    return new RelabelException("the input's schema changed since the run of " + prev.date() + " (" + prev.path()
        + "): " + what + "; run once with " + RelabelParams.INCREMENTAL_MODE.key() + "=off to start a new state");
  }

  /**
   * Reuse needs the last run's models to mean the same here: the same class list and the same settings (the
   * incremental mode itself aside). The first difference is named.
   */
  static void checkReusable(Previous prev, List<String> classes, Map<String, String> settings) {
    if (!prev.info().models()) {
      throw new RelabelException(RelabelParams.INCREMENTAL_MODE.key() + "=reuse: the run of " + prev.date()
          + " stored no models to reuse (EMLC runs are not reused); use refresh");
    }
    if (!prev.info().classes().equals(classes)) {
      throw new RelabelException(RelabelParams.INCREMENTAL_MODE.key() + "=reuse: the classes changed since the run"
          + " of " + prev.date() + ": " + prev.info().classes() + " then, " + classes + " now; use refresh");
    }
    Map<String, String> a = new TreeMap<>(prev.info().settings());
    Map<String, String> b = new TreeMap<>(settings);
    a.remove(RelabelParams.INCREMENTAL_MODE.key());
    b.remove(RelabelParams.INCREMENTAL_MODE.key());
    for (String k : union(a, b)) {
      if (!java.util.Objects.equals(a.get(k), b.get(k))) {
        throw new RelabelException(RelabelParams.INCREMENTAL_MODE.key() + "=reuse: setting " + k + " was '"
            + a.get(k) + "' in the run of " + prev.date() + ", now '" + b.get(k) + "'; its models answer for the"
            + " old settings: use refresh");
      }
    }
  }

  /** Whether the stored embeddings are what this run's embed settings would make (else every row is embedded). */
  static boolean sameEmbedding(Previous prev, Map<String, String> settings) {
    for (String k : union(prev.info().settings(), settings)) {
      if (k.startsWith("relabel.embed.") && !java.util.Objects.equals(prev.info().settings().get(k),
          settings.get(k))) {
        return false;
      }
    }
    return true;
  }

  private static List<String> union(Map<String, String> a, Map<String, String> b) {
    java.util.TreeSet<String> keys = new java.util.TreeSet<>(a.keySet());
    keys.addAll(b.keySet());
    return new ArrayList<>(keys);
  }

  // ------------------------------------------------------------------------------------------------ stored parts

  /** The fitted encoder's bytes, where it has to be stored to be reapplied (pca, vectors); null otherwise. */
  static byte[] encoderBytes(Encoder enc) {
    return enc instanceof VectorEncoder v ? v.paramsBytes() : null;
  }

  /**
   * The last run's encoder: the stored scaler/projection for pca and vectors, the same model for the text and
   * DL4J encoders (checked by hash). The cnn encoder is trained in the job and not stored: refused.
   */
  static Encoder restoreEncoder(SparkSession spark, Previous prev, Settings settings, byte[] stored, int inputDim) {
    String name = prev.info().encoder();
    Encoder enc;
    if (name.equals("vectors") || name.equals("pca")) {
      if (stored == null) {
        throw new RelabelException("the state of " + prev.path() + " lacks " + ENCODER_FILE);
      }
      enc = VectorEncoder.restore(spark, stored);
    } else if (name.equals("cnn")) {
      throw new RelabelException(RelabelParams.INCREMENTAL_MODE.key() + ": the cnn encoder is trained inside each run"
          + " and not stored, so its embeddings cannot be extended; use another encoder or mode off");
    } else {
      enc = EncoderFactory.fitted(name, spark.emptyDataFrame(), null, inputDim, null, settings, 0L);
    }
    String hash = enc instanceof io.relabel.spark.embed.ModelIdentity m ? m.modelHash() : "";
    if (!hash.equals(prev.info().encoderHash())) {
      throw new RelabelException("the encoder stored with the run of " + prev.date() + " (" + name + ", model "
          + prev.info().encoderHash() + ") is not the one this run has (model " + hash + "); use "
          + RelabelParams.INCREMENTAL_MODE.key() + "=off once");
    }
    return enc;
  }

  static byte[] modelBytes(MlpModel m) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ModelSerializer.writeModel(m.network(), out, false);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /**
   * A stored classifier ({@code bytes}, as {@link #readBytes} read {@code file}), read with DL4J's own format (a zip
   * of JSON and binary arrays; no Java serialization).
   */
  static MlpModel readModel(Previous prev, String file, byte[] bytes, int nIn, int nClasses) {
    if (bytes == null) {
      throw new RelabelException("the state of " + prev.path() + " lacks " + file);
    }
    try {
      MultiLayerNetwork net = io.relabel.core.model.ModelZips.restoreNetwork(bytes, prev.path() + "/" + file);
      return MlpModel.of(net, nIn, nClasses);
    } catch (IOException | RuntimeException e) {
      throw new RelabelException("the state of " + prev.path() + ": " + file + " is not a DL4J model: " + e, e);
    }
  }

  static byte[] readBytes(SparkSession spark, Path file) {
    try {
      FileSystem fs = file.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.isFile(file)) {
        return null;
      }
      try (InputStream in = fs.open(file)) {
        return in.readAllBytes();
      }
    } catch (IOException e) {
      throw new RelabelException("cannot read " + file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The state table of a committed partition. Read through a glob of its part files: Spark ignores, with a warning,
   * a directory whose name starts with '_' when it is named as the path itself.
   */
  public static org.apache.spark.sql.Dataset<org.apache.spark.sql.Row> readState(SparkSession spark,
      String partition) {
    return spark.read().parquet(partition + "/" + STATE_DIR + "/part-*");
  }
}
