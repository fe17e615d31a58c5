package io.relabel.core.config;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The effective settings of one run: the defaults of {@code conf/relabel.properties}, then an optional user file,
 * then command-line overrides. Every key must be declared in {@link RelabelParams}; unknown keys are rejected with
 * the list of known ones, and every value is validated when the settings are built, not when a stage first reads it.
 */
public final class Settings {

  /** Classpath copy of {@code conf/relabel.properties} that the jar carries. */
  public static final String DEFAULTS_RESOURCE = "relabel-conf/relabel.properties";
  /** System property or environment variable naming a directory whose {@code relabel.properties} is the default. */
  public static final String CONF_DIR_PROPERTY = "relabel.conf.dir";
  public static final String CONF_DIR_ENV = "RELABEL_CONF_DIR";

  private final Map<String, String> raw;

  private Settings(Map<String, String> raw) {
    this.raw = Collections.unmodifiableMap(new TreeMap<>(raw));
    for (Param<?> p : RelabelParams.ALL.values()) {
      if (!this.raw.containsKey(p.key())) {
        throw new IllegalArgumentException("no default for " + p.key() + " in relabel.properties");
      }
      p.parse(this.raw.get(p.key()));
    }
  }

  /** Defaults only. */
  public static Settings defaults() {
    return load(null, Map.of());
  }

  /**
   * Builds the settings of a run.
   *
   * @param userFile  an optional properties file whose keys override the defaults (may be null)
   * @param overrides command-line overrides, applied last
   */
  public static Settings load(Path userFile, Map<String, String> overrides) {
    Map<String, String> merged = new TreeMap<>(readDefaults());
    if (userFile != null) {
      merged.putAll(checkKnown(readFile(userFile), userFile.toString()));
    }
    merged.putAll(checkKnown(overrides, "the command line"));
    return new Settings(merged);
  }

  /** A copy with more overrides (validated like any other). */
  public Settings with(Map<String, String> overrides) {
    Map<String, String> merged = new TreeMap<>(raw);
    merged.putAll(checkKnown(overrides, "overrides"));
    return new Settings(merged);
  }

  public <T> T get(Param<T> p) {
    return p.parse(raw.get(p.key()));
  }

  /** All effective values, sorted by key (for the run manifest). */
  public Map<String, String> asMap() {
    return raw;
  }

  private static Map<String, String> checkKnown(Map<String, String> values, String source) {
    for (String key : values.keySet()) {
      if (!RelabelParams.ALL.containsKey(key)) {
        throw new IllegalArgumentException("unknown setting '" + key + "' in " + source
            + "; known settings: " + String.join(", ", RelabelParams.ALL.keySet()));
      }
    }
    return values;
  }

  static Map<String, String> readDefaults() {
    String dir = System.getProperty(CONF_DIR_PROPERTY, System.getenv(CONF_DIR_ENV));
    if (dir != null && Files.isRegularFile(Path.of(dir, "relabel.properties"))) {
      return checkKnown(readFile(Path.of(dir, "relabel.properties")), dir + "/relabel.properties");
    }
    try (InputStream in = Settings.class.getClassLoader().getResourceAsStream(DEFAULTS_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("no defaults: set -D" + CONF_DIR_PROPERTY + " or " + CONF_DIR_ENV
            + " to relabel's conf/ directory, or run from the packaged jar");
      }
      Properties p = new Properties();
      p.load(new java.io.InputStreamReader(in, StandardCharsets.UTF_8));
      return checkKnown(toMap(p), DEFAULTS_RESOURCE);
    } catch (IOException e) {
      throw new IllegalStateException("cannot read " + DEFAULTS_RESOURCE, e);
    }
  }

  private static Map<String, String> readFile(Path file) {
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      Properties p = new Properties();
      p.load(r);
      return toMap(p);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot read settings file " + file + ": " + e.getMessage(), e);
    }
  }

  private static Map<String, String> toMap(Properties p) {
    Map<String, String> m = new TreeMap<>();
    for (String k : p.stringPropertyNames()) {
      m.put(k, p.getProperty(k).trim());
    }
    return m;
  }
}
