package io.relabel.core.noise;

import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * How many rows of each class a draw takes, decided on the driver from the class sizes alone, before any row is
 * touched: the per-class counts of a long-tailed subsample and of a stratified labeled sample. Kept apart from the
 * selections so that the arithmetic (rounding, minimums, exact totals) is tested on its own.
 */
public final class ClassQuotas {

  private ClassQuotas() {}

  /**
   * Class sizes decaying exponentially with the class index from the largest class to 1/ratio of it, the
   * long-tailed benchmark shape of Cao et al. (LDAM, NeurIPS 2019) and Cui et al. (CVPR 2019): class c of C keeps
   * {@code min(size_c, max(1, round(n_max * ratio^(-c / (C - 1)))))} rows, where n_max is the largest class size.
   * A class never grows (a small class keeps what it has) and a class with rows keeps at least one, so no class
   * disappears; an empty class stays empty.
   *
   * @param sizes rows per class, in class-index order
   * @param ratio n_max over the last class's target, at least 1 (1 keeps every row)
   */
  public static long[] longTail(long[] sizes, double ratio) {
    if (Double.isNaN(ratio) || ratio < 1) {
      throw new IllegalArgumentException("long-tail ratio must be at least 1: " + ratio);
    }
    int classes = sizes.length;
    long max = Arrays.stream(sizes).max().orElse(0);
    long[] out = new long[classes];
    for (int c = 0; c < classes; c++) {
      if (sizes[c] <= 0) {
        continue;
      }
      double share = classes == 1 ? 1.0 : Math.pow(ratio, -(double) c / (classes - 1));
      out[c] = Math.min(sizes[c], Math.max(1, Math.round(max * share)));
    }
    return out;
  }

  /**
   * Splits {@code total} rows across classes in proportion to their sizes, exactly: every class with rows first
   * gets one (so each class the table has is represented), the rest is shared in proportion to
   * {@code size_c - 1} by the largest-remainder method (ties to the lower class index). The counts sum to
   * {@code total} and none exceeds its class size. When {@code total} is smaller than the number of non-empty
   * classes, the {@code total} largest classes (ties: lower index) get one each.
   *
   * @param total how many rows to take, at most the sum of {@code sizes}
   * @param sizes rows per class
   */
  public static long[] stratified(long total, long[] sizes) {
    long rows = 0;
    int nonEmpty = 0;
    for (long s : sizes) {
      if (s < 0) {
        throw new IllegalArgumentException("negative class size: " + Arrays.toString(sizes));
      }
      rows += s;
      nonEmpty += s > 0 ? 1 : 0;
    }
    if (total < 0 || total > rows) {
      throw new IllegalArgumentException("cannot take " + total + " of " + rows + " rows");
    }
    long[] out = new long[sizes.length];
    if (total < nonEmpty) {
      List<Integer> bySize = nonEmptyClasses(sizes);
      bySize.sort((a, b) -> sizes[a] != sizes[b] ? Long.compare(sizes[b], sizes[a]) : Integer.compare(a, b));
      for (int i = 0; i < total; i++) {
        out[bySize.get(i)] = 1;
      }
      return out;
    }
    BigInteger rest = BigInteger.valueOf(total - nonEmpty);
    BigInteger weight = BigInteger.valueOf(rows - nonEmpty);
    BigInteger[] remainder = new BigInteger[sizes.length];
    long given = nonEmpty;
    for (int c = 0; c < sizes.length; c++) {
      remainder[c] = BigInteger.ZERO;
      if (sizes[c] > 0) {
        out[c] = 1;
        if (weight.signum() > 0) {
          BigInteger[] qr = rest.multiply(BigInteger.valueOf(sizes[c] - 1)).divideAndRemainder(weight);
          out[c] += qr[0].longValueExact();
          remainder[c] = qr[1];
          given += qr[0].longValueExact();
        }
      }
    }
    List<Integer> byRemainder = nonEmptyClasses(sizes);
    byRemainder.sort((a, b) -> remainder[a].equals(remainder[b]) ? Integer.compare(a, b)
        : remainder[b].compareTo(remainder[a]));
    for (int i = 0; given < total; i++) {
      out[byRemainder.get(i)]++;
      given++;
    }
    return out;
  }

  private static List<Integer> nonEmptyClasses(long[] sizes) {
    List<Integer> out = new ArrayList<>();
    for (int c = 0; c < sizes.length; c++) {
      if (sizes[c] > 0) {
        out.add(c);
      }
    }
    return out;
  }
}
