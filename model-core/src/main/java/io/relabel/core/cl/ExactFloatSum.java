package io.relabel.core.cl;

import java.io.Serializable;
import java.math.BigInteger;

/**
 * The exact sum of non-negative finite floats, whatever the order they are added and merged in. A sum of doubles
 * depends on that order in its last bits, and a threshold that moves by one ulp between a run on 1 and on 4
 * partitions can move a row across it; summing exactly keeps confident learning a function of the rows alone.
 *
 * <p>A float with biased exponent e and significand m (hidden bit included) is m * 2^(max(e, 1) - 150). The sum keeps
 * one long per exponent, the sum of the significands of that exponent: each add is exact (a long takes 2^39
 * significands of 24 bits), merging adds them slot by slot, and {@link #value()} rounds the exact total once.
 */
public final class ExactFloatSum implements Serializable {

  private static final long serialVersionUID = 1L;
  private static final int EXPONENTS = 255;

  private final long[] bySignificandExponent = new long[EXPONENTS];

  /** Adds x (finite and at least 0, else an {@link IllegalArgumentException}). */
  public ExactFloatSum add(float x) {
    if (!(x >= 0) || Float.isInfinite(x)) {
      throw new IllegalArgumentException("cannot sum " + x + ": values must be finite and at least 0");
    }
    int bits = Float.floatToRawIntBits(x);
    int e = bits >>> 23;
    int m = bits & 0x7fffff;
    bySignificandExponent[e] += e == 0 ? m : m | 0x800000;
    return this;
  }

  /** Adds every value of {@code o}. */
  public ExactFloatSum merge(ExactFloatSum o) {
    for (int e = 0; e < EXPONENTS; e++) {
      bySignificandExponent[e] += o.bySignificandExponent[e];
    }
    return this;
  }

  /** The exact sum, rounded once to the nearest double (ties to even). */
  public double value() {
    BigInteger units = BigInteger.ZERO; // in units of 2^-149, the smallest float
    for (int e = 0; e < EXPONENTS; e++) {
      if (bySignificandExponent[e] != 0) {
        units = units.add(BigInteger.valueOf(bySignificandExponent[e]).shiftLeft(Math.max(e - 1, 0)));
      }
    }
    // BigInteger.doubleValue rounds to nearest; scaling by a power of two is exact in double's range.
    return Math.scalb(units.doubleValue(), -149);
  }
}
