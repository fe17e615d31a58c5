package io.relabel.core.config;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * One setting, declared once: its namespaced key, what it means, how to parse it and which values are accepted.
 * The default lives in {@code conf/relabel.properties}, the single source of truth for defaults.
 *
 * @param key      namespaced key, e.g. {@code relabel.train.epochs}
 * @param doc      one sentence for {@code --help} and the README
 * @param parser   text to value; throws {@link IllegalArgumentException} on malformed text
 * @param valid    whether a parsed value is accepted
 * @param accepted the accepted range in words, quoted in every rejection message
 */
public record Param<T>(String key, String doc, Function<String, T> parser, Predicate<T> valid, String accepted) {

  public Param {
    Objects.requireNonNull(key);
    Objects.requireNonNull(doc);
    if (!key.startsWith("relabel.")) {
      throw new IllegalArgumentException("setting keys are namespaced under 'relabel.': " + key);
    }
  }

  /** Parses and validates {@code text}; the message names the key, the value and the accepted range. */
  public T parse(String text) {
    T value;
    try {
      value = parser.apply(text == null ? "" : text.trim());
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "invalid value for " + key + ": '" + text + "'; accepted: " + accepted, e);
    }
    if (!valid.test(value)) {
      throw new IllegalArgumentException(
          "invalid value for " + key + ": '" + text + "'; accepted: " + accepted);
    }
    return value;
  }

  public static Param<Integer> intRange(String key, String doc, int min, int max) {
    return new Param<>(key, doc, Integer::parseInt, v -> v >= min && v <= max,
        "an integer in [" + min + ", " + max + "]");
  }

  public static Param<Long> longRange(String key, String doc, long min, long max) {
    return new Param<>(key, doc, Long::parseLong, v -> v >= min && v <= max,
        "an integer in [" + min + ", " + max + "]");
  }

  /** A real number in the closed interval [min, max]. */
  public static Param<Double> doubleRange(String key, String doc, double min, double max) {
    return new Param<>(key, doc, Double::parseDouble, v -> !v.isNaN() && v >= min && v <= max,
        "a number in [" + min + ", " + max + "]");
  }

  public static Param<Boolean> bool(String key, String doc) {
    return new Param<>(key, doc, s -> {
      String t = s.toLowerCase(Locale.ROOT);
      if (t.equals("true")) {
        return true;
      }
      if (t.equals("false")) {
        return false;
      }
      throw new IllegalArgumentException("not a boolean");
    }, v -> true, "true or false");
  }

  public static Param<String> oneOf(String key, String doc, String... choices) {
    List<String> list = List.of(choices);
    return new Param<>(key, doc, s -> s, list::contains, "one of " + String.join(", ", list));
  }

  /** A non-empty string matching {@code regex}, described by {@code accepted}. */
  public static Param<String> text(String key, String doc, String regex, String accepted) {
    return new Param<>(key, doc, s -> s, s -> s.matches(regex), accepted);
  }
}
