package io.relabel.core.util;

import java.nio.charset.StandardCharsets;
import java.util.SplittableRandom;

/**
 * Per-row randomness that does not depend on partitioning: every draw is a pure function of
 * (run seed, stage name, row id, draw index). The same seed and input give the same output whether the table sits in
 * one partition on a laptop or in a thousand on a cluster.
 *
 * <p>The mixer is SplitMix64's finaliser (Steele, Lea and Flood, "Fast splittable pseudorandom number generators",
 * OOPSLA 2014), which passes BigCrush as a hash of consecutive integers.
 */
public final class RowSeeds {

  private RowSeeds() {}

  /** SplitMix64 finaliser: a bijection on 64-bit words with full avalanche. */
  public static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  /** A 64-bit key for a stage name (stable across JVMs, unlike {@link String#hashCode()} mixing). */
  public static long stageKey(String stage) {
    long h = 0x9e3779b97f4a7c15L;
    for (byte b : stage.getBytes(StandardCharsets.UTF_8)) {
      h = mix(h ^ (b & 0xff));
    }
    return h;
  }

  /** A 64-bit key for a row id of any supported type (integers by value, everything else by its string). */
  public static long idKey(Object id) {
    if (id instanceof Long || id instanceof Integer || id instanceof Short || id instanceof Byte) {
      return mix(((Number) id).longValue() + 0x632be59bd9b4e019L);
    }
    return stageKey(String.valueOf(id));
  }

  /** The {@code draw}-th 64-bit word for a row. */
  public static long bits(long seed, String stage, Object id, int draw) {
    return mix(mix(seed ^ stageKey(stage)) ^ mix(idKey(id) + draw * 0x9e3779b97f4a7c15L));
  }

  /** A uniform double in [0, 1). */
  public static double uniform(long seed, String stage, Object id, int draw) {
    return (bits(seed, stage, id, draw) >>> 11) * 0x1.0p-53;
  }

  /** A uniform integer in [0, bound), without modulo bias worth speaking of for small bounds. */
  public static int uniformInt(long seed, String stage, Object id, int draw, int bound) {
    if (bound <= 0) {
      throw new IllegalArgumentException("bound must be positive: " + bound);
    }
    return (int) Math.floor(uniform(seed, stage, id, draw) * bound);
  }

  /** A uniformly random permutation of 0..n-1 drawn from {@code seed} alone (Fisher-Yates). */
  public static int[] permutation(int n, long seed) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    SplittableRandom rng = new SplittableRandom(seed);
    for (int i = n - 1; i > 0; i--) {
      int j = rng.nextInt(i + 1);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return p;
  }
}
