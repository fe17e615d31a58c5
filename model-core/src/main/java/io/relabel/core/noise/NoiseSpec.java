package io.relabel.core.noise;

/**
 * What noise to inject, with the class map already resolved to indices.
 *
 * @param type        symmetric or pair
 * @param rate        the real error rate among the noisy rows (symmetric) or among each mapped class's rows (pair)
 * @param trustedSize rows kept clean and marked trusted, drawn before noise is applied
 * @param seed        the run seed
 * @param pairTargets for pair noise, the target class index of each class (-1: not a source); null for symmetric
 */
public record NoiseSpec(NoiseType type, double rate, long trustedSize, long seed, int[] pairTargets) {

  public NoiseSpec {
    if (Double.isNaN(rate) || rate < 0 || rate > 1) {
      throw new IllegalArgumentException("noise rate must be in [0, 1]: " + rate);
    }
    if (trustedSize < 0) {
      throw new IllegalArgumentException("trusted size must not be negative: " + trustedSize);
    }
    if (type == NoiseType.PAIR && pairTargets == null) {
      throw new IllegalArgumentException("pair noise needs a class map");
    }
  }
}
