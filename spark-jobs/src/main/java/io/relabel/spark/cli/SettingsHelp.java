package io.relabel.spark.cli;

import io.relabel.core.config.Param;
import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import java.util.ListResourceBundle;
import java.util.Map;

/**
 * The docs of every setting as a picocli resource bundle, keyed by setting key. A command flag that stands for a
 * setting names it as its {@code descriptionKey}, so {@code --help} shows the one doc string declared in
 * {@link RelabelParams} and the default from {@code conf/relabel.properties} instead of a second, drifting copy.
 * Use it with {@code @Command(resourceBundle = SettingsHelp.BUNDLE)}.
 */
public final class SettingsHelp extends ListResourceBundle {

  /** The bundle's base name, for {@code @Command(resourceBundle = ...)}. */
  public static final String BUNDLE = "io.relabel.spark.cli.SettingsHelp";

  @Override
  protected Object[][] getContents() {
    Map<String, String> defaults;
    try {
      defaults = Settings.defaults().asMap();
    } catch (RuntimeException e) {
      defaults = Map.of();
    }
    Object[][] contents = new Object[RelabelParams.ALL.size()][];
    int i = 0;
    for (Param<?> p : RelabelParams.ALL.values()) {
      String def = defaults.get(p.key());
      String text = p.doc() + " Sets " + p.key()
          + (def == null ? "" : " (default: " + (def.isEmpty() ? "empty" : def) + ")") + ".";
      // picocli formats descriptions: a literal percent sign must be doubled
      contents[i++] = new Object[] {p.key(), text.replace("%", "%%")};
    }
    return contents;
  }
}
