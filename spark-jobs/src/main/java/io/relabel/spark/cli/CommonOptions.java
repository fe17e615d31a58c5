package io.relabel.spark.cli;

import io.relabel.core.config.Param;
import io.relabel.core.config.Settings;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Option;

/** Options every command takes: settings file, per-key overrides and the Spark master. */
public final class CommonOptions {

  @Option(names = "--conf", paramLabel = "FILE",
      description = "Properties file whose relabel.* keys override conf/relabel.properties.")
  Path confFile;

  @Option(names = "--set", paramLabel = "KEY=VALUE",
      description = "Override one setting, e.g. --set relabel.train.epochs=5 (repeatable).")
  Map<String, String> overrides = new LinkedHashMap<>();

  @Option(names = "--master", paramLabel = "URL",
      description = "Spark master. Default: the one spark-submit set, else local[*] (in-process).")
  String master;

  /** Settings of this invocation: defaults, then --conf, then --set, then {@code extra} (command flags). */
  public Settings settings(Map<String, String> extra) {
    Map<String, String> all = new LinkedHashMap<>(overrides);
    all.putAll(extra);
    return Settings.load(confFile, all);
  }

  public Settings settings() {
    return settings(Map.of());
  }

  /** Puts a command flag that stands for setting {@code p} into {@code flags}, if the flag was given. */
  static void putFlag(Map<String, String> flags, Param<?> p, String value) {
    if (value != null) {
      flags.put(p.key(), value);
    }
  }

  public String master() {
    return master;
  }
}
