package io.relabel.core.hdl;

import io.relabel.core.util.RowSeeds;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The lower levels of HDL's hierarchy, built inside one top-level cluster on the executor that holds it (methods.md
 * section 2, step 2). The top levels come from MLlib's BisectingKMeans over the whole table; below them a cluster is
 * split in two by spherical 2-means (cosine, the geometry of L2-normalised embeddings) while it holds more than
 * {@code leafSize} rows, unless its labeled members already agree ({@link PurityRule}): a pure cluster is labeled
 * at its own level and gains nothing from a finer neighbourhood.
 *
 * <p>Everything is a function of the rows, their order and the seed: the first centre of a split is a row drawn by
 * a hash of (seed, node path), the second the row least similar to it, so the same input splits the same way on
 * any machine.
 */
public final class LocalHierarchy {

  private LocalHierarchy() {}

  /**
   * @param x        L2-normalised rows of one cluster
   * @param labels   class index per row, -1 when the row casts no label
   * @param nClasses number of classes
   * @param pathSeed identifies the cluster (e.g. a hash of its path), so sibling clusters draw different centres
   * @return per row, the left (0) / right (1) choices below this cluster; empty when the cluster stays a leaf
   */
  public static int[][] split(float[][] x, int[] labels, int nClasses, int leafSize, PurityRule rule, int maxIter,
      long seed, long pathSeed) {
    if (leafSize < 1) {
      throw new IllegalArgumentException("leafSize must be at least 1, got " + leafSize);
    }
    List<List<Integer>> paths = new ArrayList<>(x.length);
    for (int i = 0; i < x.length; i++) {
      paths.add(new ArrayList<>());
    }
    int[] all = new int[x.length];
    for (int i = 0; i < all.length; i++) {
      all[i] = i;
    }
    recurse(x, labels, nClasses, all, leafSize, rule, maxIter, seed, pathSeed, paths);
    int[][] out = new int[x.length][];
    for (int i = 0; i < out.length; i++) {
      out[i] = paths.get(i).stream().mapToInt(Integer::intValue).toArray();
    }
    return out;
  }

  private static void recurse(float[][] x, int[] labels, int nClasses, int[] rows, int leafSize, PurityRule rule,
      int maxIter, long seed, long node, List<List<Integer>> paths) {
    if (rows.length <= leafSize || agrees(labels, nClasses, rows, rule)) {
      return;
    }
    boolean[] right = bisect(x, rows, maxIter, RowSeeds.mix(seed ^ node));
    int nRight = 0;
    for (boolean r : right) {
      nRight += r ? 1 : 0;
    }
    if (nRight == 0 || nRight == rows.length) {
      return; // identical rows: no split separates them, the cluster stays a (large) leaf
    }
    int[] left = new int[rows.length - nRight];
    int[] rightRows = new int[nRight];
    int l = 0;
    int r = 0;
    for (int i = 0; i < rows.length; i++) {
      if (right[i]) {
        rightRows[r++] = rows[i];
        paths.get(rows[i]).add(1);
      } else {
        left[l++] = rows[i];
        paths.get(rows[i]).add(0);
      }
    }
    recurse(x, labels, nClasses, left, leafSize, rule, maxIter, seed, child(node, 0), paths);
    recurse(x, labels, nClasses, rightRows, leafSize, rule, maxIter, seed, child(node, 1), paths);
  }

  /** The path seed of a child: a hash chain over the path, independent of the order in which nodes are visited. */
  public static long child(long node, int side) {
    return RowSeeds.mix(node * 31 + side + 1);
  }

  private static boolean agrees(int[] labels, int nClasses, int[] rows, PurityRule rule) {
    long[] counts = new long[nClasses];
    for (int i : rows) {
      if (labels[i] >= 0) {
        counts[labels[i]]++;
      }
    }
    return rule.agreedLabel(counts) >= 0;
  }

  /**
   * Spherical 2-means: centres are normalised means, a row joins the centre of larger cosine (ties go left).
   * Initialisation: a hashed row, then the row least similar to it.
   */
  static boolean[] bisect(float[][] x, int[] rows, int maxIter, long seed) {
    int d = x[rows[0]].length;
    int first = rows[(int) Long.remainderUnsigned(seed, rows.length)];
    int second = rows[0];
    double worst = Double.POSITIVE_INFINITY;
    for (int i : rows) {
      double s = dot(x[i], x[first]);
      if (s < worst) {
        worst = s;
        second = i;
      }
    }
    double[] c0 = toDouble(x[first]);
    double[] c1 = toDouble(x[second]);
    boolean[] right = new boolean[rows.length];
    for (int iter = 0; iter < Math.max(1, maxIter); iter++) {
      boolean changed = false;
      for (int i = 0; i < rows.length; i++) {
        boolean r = dot(c1, x[rows[i]]) > dot(c0, x[rows[i]]);
        changed |= r != right[i] || iter == 0;
        right[i] = r;
      }
      if (!changed) {
        break;
      }
      double[] s0 = new double[d];
      double[] s1 = new double[d];
      for (int i = 0; i < rows.length; i++) {
        double[] s = right[i] ? s1 : s0;
        float[] v = x[rows[i]];
        for (int j = 0; j < d; j++) {
          s[j] += v[j];
        }
      }
      if (normalise(s0) && normalise(s1)) {
        c0 = s0;
        c1 = s1;
      } else {
        break; // one side emptied; keep the last assignment
      }
    }
    return right;
  }

  private static boolean normalise(double[] v) {
    double n = 0;
    for (double a : v) {
      n += a * a;
    }
    if (n == 0) {
      return false;
    }
    n = Math.sqrt(n);
    for (int i = 0; i < v.length; i++) {
      v[i] /= n;
    }
    return true;
  }

  private static double[] toDouble(float[] v) {
    double[] out = new double[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = v[i];
    }
    return out;
  }

  private static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += (double) a[i] * b[i];
    }
    return s;
  }

  private static double dot(double[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  /** A path as the compact string used as a cluster key, e.g. [0, 1, 1] -> "011". */
  public static String key(int[] path) {
    StringBuilder b = new StringBuilder(path.length);
    for (int p : path) {
      b.append((char) ('0' + p));
    }
    return b.toString();
  }

  /** Inverse of {@link #key}. */
  public static int[] path(String key) {
    int[] p = new int[key.length()];
    for (int i = 0; i < p.length; i++) {
      p[i] = key.charAt(i) - '0';
    }
    return p;
  }

  static int[] concat(int[] a, int[] b) {
    int[] out = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, out, a.length, b.length);
    return out;
  }
}
