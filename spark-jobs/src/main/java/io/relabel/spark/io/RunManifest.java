package io.relabel.spark.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.relabel.core.config.Settings;
import io.relabel.spark.cli.Main;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.UUID;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;

/**
 * The record of one run, written as {@code _manifest.json} inside the output table: what ran (command, version,
 * every effective setting), on what (Spark master, input rows), how long each stage took with its row counts, and
 * the run's metrics. A result without it cannot be reproduced or compared with another run, so it travels with the
 * output and is committed atomically together with it.
 *
 * <p>The JSON has a fixed top-level key order and sorted settings and metrics, so two manifests diff cleanly.
 * Metrics are a free-form tree addressed by dotted paths ({@code eval.test.baseline}). Integers are kept as
 * {@link Long} and reals as {@link Double}, so a manifest read back equals the one written.
 */
public final class RunManifest {

  /** The sidecar file name inside the output table (a leading '_' makes Parquet readers skip it). */
  public static final String FILE_NAME = "_manifest.json";

  private static final ObjectMapper JSON = new ObjectMapper()
      .enable(SerializationFeature.INDENT_OUTPUT)
      .enable(DeserializationFeature.USE_LONG_FOR_INTS);

  /**
   * One timed stage.
   *
   * @param rowsIn  rows the stage read, null when unknown
   * @param rowsOut rows the stage produced, null when unknown
   */
  public record StageRecord(String name, double seconds, Long rowsIn, Long rowsOut) {
    public StageRecord {
      Objects.requireNonNull(name, "name");
    }
  }

  private final String runId;
  private final String command;
  private final String relabelVersion;
  private final Instant startedAt;
  private Instant endedAt;
  private final String sparkMaster;
  private final int defaultParallelism;
  /** Settings whose value the manifest never shows (set ones read "redacted"; 0, the unset default, shows). */
  static final java.util.Set<String> SECRET = java.util.Set.of("relabel.privacy.seed");

  private final Map<String, String> settings;
  private String inputPath;
  private final Map<String, Long> inputCounts = new LinkedHashMap<>();
  private String outputPath;
  private Long outputRows;
  private final List<StageRecord> stages = new ArrayList<>();
  private final Map<String, Object> metrics = new TreeMap<>();

  public RunManifest(String runId, String command, String relabelVersion, Instant startedAt, String sparkMaster,
      int defaultParallelism, Map<String, String> settings) {
    this.runId = Objects.requireNonNull(runId, "runId");
    this.command = Objects.requireNonNull(command, "command");
    this.relabelVersion = Objects.requireNonNull(relabelVersion, "relabelVersion");
    this.startedAt = startedAt.truncatedTo(ChronoUnit.MILLIS);
    this.sparkMaster = sparkMaster;
    this.defaultParallelism = defaultParallelism;
    this.settings = Collections.unmodifiableMap(new TreeMap<>(settings));
  }

  /** A manifest for a run starting now: a fresh run id, this session's master and parallelism. */
  public static RunManifest start(String command, SparkSession spark, Settings settings) {
    return start(command, spark, settings, UUID.randomUUID().toString());
  }

  /** A manifest for a run starting now, with the run id given (a dated run's id is a function of its inputs). */
  public static RunManifest start(String command, SparkSession spark, Settings settings, String runId) {
    return new RunManifest(runId, command, currentVersion(), Instant.now(),
        spark.sparkContext().master(), spark.sparkContext().defaultParallelism(), settings.asMap());
  }

  /** The jar's Implementation-Version when packaged with one, else the version the command line reports. */
  public static String currentVersion() {
    String v = RunManifest.class.getPackage().getImplementationVersion();
    if (v != null && !v.isBlank()) {
      return v;
    }
    String[] cli = Main.class.getAnnotation(Command.class).version();
    return cli.length == 0 ? "unknown" : cli[0].replaceFirst("^relabel\\s+", "");
  }

  // ------------------------------------------------------------------------------------------------ updates

  public synchronized RunManifest setInput(String path, Map<String, Long> counts) {
    this.inputPath = path;
    inputCounts.clear();
    inputCounts.putAll(counts);
    return this;
  }

  public synchronized RunManifest setOutput(String path, Long rows) {
    this.outputPath = path;
    this.outputRows = rows;
    return this;
  }

  public synchronized RunManifest addStage(StageRecord stage) {
    stages.add(Objects.requireNonNull(stage));
    return this;
  }

  /**
   * Sets the metric at a dotted path, creating the objects on the way: {@code putMetric("eval.test.acc", 0.8)}
   * gives {@code {"eval": {"test": {"acc": 0.8}}}}. Values: numbers, strings, booleans, lists and maps of them.
   */
  public synchronized RunManifest putMetric(String dottedPath, Object value) {
    String[] parts = splitPath(dottedPath);
    Map<String, Object> node = metrics;
    for (int i = 0; i < parts.length - 1; i++) {
      Object child = node.get(parts[i]);
      if (child == null) {
        child = new TreeMap<String, Object>();
        node.put(parts[i], child);
      } else if (!(child instanceof Map)) {
        throw new IllegalArgumentException("metric '" + String.join(".", Arrays.copyOf(parts, i + 1))
            + "' holds a value, so it cannot hold '" + dottedPath + "'");
      }
      @SuppressWarnings("unchecked")
      Map<String, Object> next = (Map<String, Object>) child;
      node = next;
    }
    node.put(parts[parts.length - 1], normalize(value));
    return this;
  }

  /** The metric at a dotted path (a value or a nested map), or null. */
  public synchronized Object getMetric(String dottedPath) {
    Object node = metrics;
    for (String part : splitPath(dottedPath)) {
      if (!(node instanceof Map<?, ?> m)) {
        return null;
      }
      node = m.get(part);
    }
    return node;
  }

  /** Marks the run finished now. */
  public synchronized RunManifest finish() {
    return finish(Instant.now());
  }

  public synchronized RunManifest finish(Instant when) {
    this.endedAt = when.truncatedTo(ChronoUnit.MILLIS);
    return this;
  }

  // ------------------------------------------------------------------------------------------------ reads

  public String runId() {
    return runId;
  }

  public String command() {
    return command;
  }

  public String relabelVersion() {
    return relabelVersion;
  }

  public Instant startedAt() {
    return startedAt;
  }

  public synchronized Instant endedAt() {
    return endedAt;
  }

  public String sparkMaster() {
    return sparkMaster;
  }

  public int defaultParallelism() {
    return defaultParallelism;
  }

  /** The effective settings as written anywhere (this manifest, an embedding store's sidecar): secrets redacted. */
  public Map<String, String> settings() {
    Map<String, String> shown = new TreeMap<>(settings);
    shown.replaceAll((k, v) -> SECRET.contains(k) && !v.equals("0") ? "redacted" : v);
    return Collections.unmodifiableMap(shown);
  }

  public synchronized String inputPath() {
    return inputPath;
  }

  public synchronized Map<String, Long> inputCounts() {
    return Collections.unmodifiableMap(new LinkedHashMap<>(inputCounts));
  }

  public synchronized String outputPath() {
    return outputPath;
  }

  public synchronized Long outputRows() {
    return outputRows;
  }

  public synchronized List<StageRecord> stages() {
    return List.copyOf(stages);
  }

  /** A deep copy of the metrics tree. */
  public synchronized Map<String, Object> metrics() {
    @SuppressWarnings("unchecked")
    Map<String, Object> copy = (Map<String, Object>) normalize(metrics);
    return copy;
  }

  /**
   * The manifest as the sidecar map {@link TableWriter} takes, e.g.
   * {@code TableWriter.writeAtomically(out, path, overwrite, rows -> manifest.setOutput(path, rows).finish()
   * .asSidecar())}.
   */
  public Map<String, String> asSidecar() {
    return Map.of(FILE_NAME, toJson());
  }

  // ------------------------------------------------------------------------------------------------ JSON

  /** Pretty-printed JSON with a fixed key order. */
  public synchronized String toJson() {
    ObjectNode root = JSON.createObjectNode();
    root.put("runId", runId);
    root.put("command", command);
    root.put("relabelVersion", relabelVersion);
    root.put("startedAt", startedAt.toString());
    root.put("endedAt", endedAt == null ? null : endedAt.toString());
    ObjectNode spark = root.putObject("spark");
    spark.put("master", sparkMaster);
    spark.put("defaultParallelism", defaultParallelism);
    ObjectNode s = root.putObject("settings");
    // a secret seed would let anyone holding the output replay the privatising draws
    settings().forEach(s::put);
    ObjectNode input = root.putObject("input");
    input.put("path", inputPath);
    inputCounts.forEach(input::put);
    ObjectNode output = root.putObject("output");
    output.put("path", outputPath);
    output.put("rows", outputRows);
    var st = root.putArray("stages");
    for (StageRecord r : stages) {
      ObjectNode n = st.addObject();
      n.put("name", r.name());
      n.put("seconds", r.seconds());
      n.put("rowsIn", r.rowsIn());
      n.put("rowsOut", r.rowsOut());
    }
    root.set("metrics", JSON.valueToTree(metrics));
    try {
      return JSON.writeValueAsString(root) + "\n";
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write the run manifest", e);
    }
  }

  /** Reads a manifest written by {@link #toJson()}. */
  public static RunManifest fromJson(String json) {
    JsonNode root;
    try {
      root = JSON.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not a run manifest: " + e.getOriginalMessage(), e);
    }
    Map<String, String> settings = new TreeMap<>();
    root.path("settings").fields().forEachRemaining(e -> settings.put(e.getKey(), e.getValue().asText()));
    RunManifest m = new RunManifest(root.path("runId").asText(), root.path("command").asText(),
        root.path("relabelVersion").asText(), Instant.parse(root.path("startedAt").asText()),
        textOrNull(root.path("spark").path("master")), root.path("spark").path("defaultParallelism").asInt(),
        settings);
    if (!root.path("endedAt").isNull() && !root.path("endedAt").isMissingNode()) {
      m.finish(Instant.parse(root.path("endedAt").asText()));
    }
    Map<String, Long> counts = new LinkedHashMap<>();
    JsonNode input = root.path("input");
    for (Iterator<Map.Entry<String, JsonNode>> it = input.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      if (!e.getKey().equals("path")) {
        counts.put(e.getKey(), longOrNull(e.getValue()));
      }
    }
    m.setInput(textOrNull(input.path("path")), counts);
    m.setOutput(textOrNull(root.path("output").path("path")), longOrNull(root.path("output").path("rows")));
    for (JsonNode n : root.path("stages")) {
      m.addStage(new StageRecord(n.path("name").asText(), n.path("seconds").asDouble(), longOrNull(n.path("rowsIn")),
          longOrNull(n.path("rowsOut"))));
    }
    if (root.path("metrics").isObject()) {
      @SuppressWarnings("unchecked")
      Map<String, Object> metrics = JSON.convertValue(root.path("metrics"), Map.class);
      metrics.forEach((k, v) -> m.metrics.put(k, normalize(v)));
    }
    return m;
  }

  private static String textOrNull(JsonNode n) {
    return n.isNull() || n.isMissingNode() ? null : n.asText();
  }

  private static Long longOrNull(JsonNode n) {
    return n.isNull() || n.isMissingNode() ? null : n.asLong();
  }

  private static String[] splitPath(String dottedPath) {
    String[] parts = dottedPath.split("\\.", -1);
    for (String p : parts) {
      if (p.isEmpty()) {
        throw new IllegalArgumentException("metric path '" + dottedPath + "' has an empty part");
      }
    }
    return parts;
  }

  /** Integers to Long, reals to Double, maps to sorted copies, lists to copies; other types are refused. */
  private static Object normalize(Object v) {
    if (v == null || v instanceof String || v instanceof Boolean || v instanceof Long || v instanceof Double) {
      return v;
    }
    if (v instanceof Integer || v instanceof Short || v instanceof Byte) {
      return ((Number) v).longValue();
    }
    if (v instanceof Float f) {
      return Double.parseDouble(f.toString());
    }
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    if (v instanceof Map<?, ?> m) {
      Map<String, Object> out = new TreeMap<>();
      m.forEach((k, x) -> out.put(String.valueOf(k), normalize(x)));
      return out;
    }
    if (v instanceof Iterable<?> it) {
      List<Object> out = new ArrayList<>();
      it.forEach(x -> out.add(normalize(x)));
      return out;
    }
    if (v instanceof double[] d) {
      List<Object> out = new ArrayList<>();
      for (double x : d) {
        out.add(x);
      }
      return out;
    }
    throw new IllegalArgumentException("a metric must be a number, string, boolean, list or map, not "
        + v.getClass().getName());
  }
}
