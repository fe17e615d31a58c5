package io.relabel.core.noise;

/**
 * What noise to inject, with the class map already resolved to indices.
 *
 * @param type         symmetric or pair
 * @param rate         the real error rate among the noisy rows (symmetric) or among each mapped class's noisy rows
 *                     (pair); the noisy rows are the non-trusted rows that keep a label
 * @param trustedSize  rows kept clean and marked trusted, drawn before anything else
 * @param labeledShare share of the non-trusted rows that keep a label (stratified by class, see
 *                     {@link ClassQuotas#stratified}); the others lose theirs. 1 keeps every label
 * @param seed         the run seed
 * @param pairTargets  for pair noise, the target class index of each class (-1: not a source); null for symmetric
 */
public record NoiseSpec(NoiseType type, double rate, long trustedSize, double labeledShare, long seed,
    int[] pairTargets) {

  public NoiseSpec {
    if (Double.isNaN(rate) || rate < 0 || rate > 1) {
      throw new IllegalArgumentException("noise rate must be in [0, 1]: " + rate);
    }
    if (trustedSize < 0) {
      throw new IllegalArgumentException("trusted size must not be negative: " + trustedSize);
    }
    if (Double.isNaN(labeledShare) || labeledShare < 0 || labeledShare > 1) {
      throw new IllegalArgumentException("labeled share must be in [0, 1]: " + labeledShare);
    }
    if (type == NoiseType.PAIR && pairTargets == null) {
      throw new IllegalArgumentException("pair noise needs a class map");
    }
  }

  /** Every row keeps a label (no labeled share). */
  public NoiseSpec(NoiseType type, double rate, long trustedSize, long seed, int[] pairTargets) {
    this(type, rate, trustedSize, 1.0, seed, pairTargets);
  }
}
