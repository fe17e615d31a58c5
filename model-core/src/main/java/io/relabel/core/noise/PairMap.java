package io.relabel.core.noise;

import java.util.Arrays;
import java.util.List;

/**
 * Turns the text of {@code relabel.noise.pairs} ("from:to,...", class names as they appear in the label column)
 * into a target class index per class. It is strict because a typo in a class name would otherwise silently leave
 * a class clean and the evaluation would measure something other than what was asked for.
 */
public final class PairMap {

  private PairMap() {}

  /**
   * @param spec       "from:to" pairs, comma-separated
   * @param classNames the classes, as text, in index order
   * @param where      where the classes come from, for messages (e.g. "column 'label'")
   * @return for each class index its target index, or -1 when the class is not a source
   */
  public static int[] parse(String spec, List<String> classNames, String where) {
    int[] target = new int[classNames.size()];
    Arrays.fill(target, -1);
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException("relabel.noise.pairs is empty; pair noise needs at least one from:to pair");
    }
    for (String pair : spec.split(",")) {
      String[] parts = pair.split(":", -1);
      if (parts.length != 2 || parts[0].isBlank() || parts[1].isBlank()) {
        throw new IllegalArgumentException("relabel.noise.pairs has a malformed pair '" + pair.trim()
            + "'; expected from:to");
      }
      String from = parts[0].trim();
      String to = parts[1].trim();
      int f = indexOf(from, classNames, where);
      int t = indexOf(to, classNames, where);
      if (f == t) {
        throw new IllegalArgumentException("relabel.noise.pairs maps class '" + from + "' to itself");
      }
      if (target[f] >= 0) {
        throw new IllegalArgumentException("relabel.noise.pairs maps class '" + from + "' twice");
      }
      target[f] = t;
    }
    return target;
  }

  private static int indexOf(String name, List<String> classNames, String where) {
    int i = classNames.indexOf(name);
    if (i < 0) {
      throw new IllegalArgumentException("relabel.noise.pairs names class '" + name + "', which is not a label in "
          + where + " (classes: " + listed(classNames) + ")");
    }
    return i;
  }

  /** The class names for a message, at most 20 of them. */
  public static String listed(List<String> names) {
    if (names.size() <= 20) {
      return String.join(", ", names);
    }
    return String.join(", ", names.subList(0, 20)) + ", ... (" + names.size() + " in all)";
  }
}
