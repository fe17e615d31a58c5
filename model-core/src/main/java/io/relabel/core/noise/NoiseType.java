package io.relabel.core.noise;

import java.util.Locale;

/**
 * The two noise models evaluations of label cleaning use: symmetric noise (a wrong label is any other class, the
 * textbook case) and pair noise (a wrong label is the one class it is confused with, as annotators confuse a shirt
 * with a T-shirt), which is harder to detect because the mistakes are consistent.
 */
public enum NoiseType {
  SYMMETRIC, PAIR;

  /** Parses the value of {@code relabel.noise.type}. */
  public static NoiseType parse(String text) {
    return switch (text.trim().toLowerCase(Locale.ROOT)) {
      case "symmetric" -> SYMMETRIC;
      case "pair" -> PAIR;
      default -> throw new IllegalArgumentException("unknown noise type '" + text + "'; known: symmetric, pair");
    };
  }

  public String settingValue() {
    return name().toLowerCase(Locale.ROOT);
  }
}
