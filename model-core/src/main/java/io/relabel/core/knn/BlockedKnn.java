package io.relabel.core.knn;

import java.util.Arrays;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Exact k nearest neighbours by cosine similarity, the neighbourhood primitive of hierarchical dynamic labeling (HDL;
 * Ma et al., "Exploring Beyond Logits: Hierarchical Dynamic Labeling Based on Embeddings for Semi-Supervised
 * Classification", arXiv 2404.17173; relabel's design in {@code methods.md} §2, steps 4 and 6).
 *
 * <p>For L2-normalised rows the cosine similarity is the dot product, so the similarities of a block of queries
 * against all candidates are one matrix product Q·Cᵀ. HDL runs kNN inside a leaf of a few thousand rows on the
 * executor that holds it, where one FLOAT gemm is far faster than any index structure, and the answer is exact
 * rather than approximate. Only one block of query rows is multiplied at a time, so memory stays at
 * {@code blockRows × candidates} floats (by default at most {@link #DEFAULT_BLOCK_BYTES}), never n × m.
 *
 * <p>Exactness and determinism: a FLOAT gemm rounds differently on another BLAS, another thread count or a GPU, and
 * near-ties would then order differently from machine to machine. The gemm is therefore only a screen. For each
 * query it finds the k-th best screened similarity t, keeps every candidate whose screened similarity is within the
 * rounding bound of t, and ranks that short list by the similarity recomputed in double precision in a fixed order
 * ({@link #bruteForce} computes exactly the same numbers). The result is the exact top k under the order
 * (similarity descending, candidate index ascending), bit for bit the same whatever the block size or backend.
 *
 * <p>The rows are expected to be L2-normalised ({@link #normalise}); other rows work too, and then the ranking is by
 * dot product. Values must be finite.
 */
public final class BlockedKnn {

  /** Default upper bound on one block's similarity matrix: 32 MB. */
  public static final long DEFAULT_BLOCK_BYTES = 32L << 20;

  /** The unit roundoff of FLOAT arithmetic, 2⁻²⁴. */
  private static final double FLOAT_UNIT_ROUNDOFF = 0x1p-24;

  private BlockedKnn() {}

  /**
   * The neighbours of each query: {@code index[q]} are candidate indices ordered by similarity descending (ties by
   * lower candidate index), {@code sim[q]} their cosine similarities. A list is shorter than k when fewer candidates
   * are eligible.
   */
  public record Neighbours(int[][] index, float[][] sim) {}

  /** L2-normalised copies of the rows (norm computed in double); a zero row stays zero. */
  public static float[][] normalise(float[][] x) {
    float[][] out = new float[x.length][];
    for (int i = 0; i < x.length; i++) {
      double norm = Math.sqrt(dot(x[i], x[i]));
      out[i] = new float[x[i].length];
      if (norm > 0) {
        for (int j = 0; j < x[i].length; j++) {
          out[i][j] = (float) (x[i][j] / norm);
        }
      }
    }
    return out;
  }

  /** The k nearest candidates of each query, all candidates eligible. */
  public static Neighbours topK(float[][] queries, float[][] candidates, int k) {
    return topK(queries, candidates, null, k, false);
  }

  /** queries and candidates are the same list: query i never returns itself (leave-one-out). */
  public static Neighbours topKExcludingSelf(float[][] rows, int k) {
    return topK(rows, rows, null, k, true);
  }

  /**
   * Only candidates with allowed[j]==true are eligible; if sameList, query i excludes candidate i.
   *
   * @param allowed eligibility per candidate, or null when all are eligible
   */
  public static Neighbours topK(float[][] queries, float[][] candidates, boolean[] allowed, int k, boolean sameList) {
    int[] eligible = eligible(queries, candidates, allowed, k, sameList);
    return topK(queries, candidates, eligible, k, sameList, defaultBlockRows(eligible.length));
  }

  /** As the overload without {@code blockRows}, multiplying {@code blockRows} queries at a time. */
  public static Neighbours topK(float[][] queries, float[][] candidates, boolean[] allowed, int k, boolean sameList,
      int blockRows) {
    if (blockRows < 1) {
      throw new IllegalArgumentException("blockRows must be at least 1: " + blockRows);
    }
    return topK(queries, candidates, eligible(queries, candidates, allowed, k, sameList), k, sameList, blockRows);
  }

  /** Query rows per block such that a block's FLOAT similarity matrix stays within {@link #DEFAULT_BLOCK_BYTES}. */
  public static int defaultBlockRows(int candidates) {
    long perRow = (long) Float.BYTES * Math.max(1, candidates);
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, DEFAULT_BLOCK_BYTES / perRow));
  }

  /**
   * The reference: every eligible similarity computed in double with plain loops, then a full sort. Slow (a sort of
   * every row); for tests.
   */
  public static Neighbours bruteForce(float[][] queries, float[][] candidates, boolean[] allowed, int k,
      boolean sameList) {
    int[] eligible = eligible(queries, candidates, allowed, k, sameList);
    int[][] index = new int[queries.length][];
    float[][] sim = new float[queries.length][];
    for (int q = 0; q < queries.length; q++) {
      int self = sameList ? q : -1;
      Integer[] order = Arrays.stream(eligible).filter(j -> j != self).boxed().toArray(Integer[]::new);
      double[] s = new double[candidates.length];
      for (int j : order) {
        s[j] = dot(queries[q], candidates[j]);
      }
      Arrays.sort(order, (a, b) -> s[a] != s[b] ? Double.compare(s[b], s[a]) : Integer.compare(a, b));
      int n = Math.min(k, order.length);
      index[q] = new int[n];
      sim[q] = new float[n];
      for (int r = 0; r < n; r++) {
        index[q][r] = order[r];
        sim[q][r] = (float) s[order[r]];
      }
    }
    return new Neighbours(index, sim);
  }

  private static Neighbours topK(float[][] queries, float[][] candidates, int[] eligible, int k, boolean sameList,
      int blockRows) {
    int nq = queries.length;
    int m = eligible.length;
    int[][] index = new int[nq][];
    float[][] sim = new float[nq][];
    if (m == 0 || nq == 0) {
      Arrays.fill(index, new int[0]);
      Arrays.fill(sim, new float[0]);
      return new Neighbours(index, sim);
    }
    int dim = candidates[eligible[0]].length;
    float[][] gathered = new float[m][];
    double maxCandidateNorm = 0;
    for (int j = 0; j < m; j++) {
      gathered[j] = candidates[eligible[j]];
      maxCandidateNorm = Math.max(maxCandidateNorm, Math.sqrt(dot(gathered[j], gathered[j])));
    }
    // Rounding bound of a FLOAT dot product of length d, in any summation order: |fl(q·c) − q·c| ≤ γ_d ‖q‖‖c‖ with
    // γ_d = d·u / (1 − d·u) (Higham, Accuracy and Stability of Numerical Algorithms, §3.1). Doubled for the double
    // recomputation it is compared with and again for the two sides of the threshold; the last term covers underflow.
    double gamma = dim * FLOAT_UNIT_ROUNDOFF / (1 - dim * FLOAT_UNIT_ROUNDOFF);
    Selection screen = new Selection(k);
    Selection exact = new Selection(k);
    try (INDArray c = Nd4j.create(gathered)) {
      for (int b0 = 0; b0 < nq; b0 += blockRows) {
        int rows = Math.min(blockRows, nq - b0);
        float[] s;
        try (INDArray qBlock = Nd4j.create(Arrays.copyOfRange(queries, b0, b0 + rows));
            INDArray sBlock = Nd4j.createUninitialized(DataType.FLOAT, rows, m)) {
          Nd4j.gemm(qBlock, c, sBlock, false, true, 1.0, 0.0);
          s = sBlock.data().asFloat();
        }
        for (int r = 0; r < rows; r++) {
          int q = b0 + r;
          int self = sameList ? q : -1;
          int offset = r * m;
          screen.clear();
          for (int j = 0; j < m; j++) {
            if (eligible[j] != self) {
              screen.offer(s[offset + j], j);
            }
          }
          double queryNorm = Math.sqrt(dot(queries[q], queries[q]));
          double margin = 4 * gamma * queryNorm * maxCandidateNorm + dim * (double) Float.MIN_NORMAL;
          double threshold = screen.full() ? screen.worstScore() - margin : Double.NEGATIVE_INFINITY;
          exact.clear();
          for (int j = 0; j < m; j++) {
            if (eligible[j] != self && s[offset + j] >= threshold) {
              exact.offer(dot(queries[q], gathered[j]), eligible[j]);
            }
          }
          index[q] = exact.indicesBestFirst();
          sim[q] = exact.scoresBestFirst();
        }
      }
    }
    return new Neighbours(index, sim);
  }

  /** Validates the arguments and returns the indices of the eligible candidates, ascending. */
  private static int[] eligible(float[][] queries, float[][] candidates, boolean[] allowed, int k, boolean sameList) {
    if (k < 1) {
      throw new IllegalArgumentException("k must be at least 1: " + k);
    }
    if (allowed != null && allowed.length != candidates.length) {
      throw new IllegalArgumentException(
          "allowed has " + allowed.length + " entries for " + candidates.length + " candidates");
    }
    if (sameList && queries.length != candidates.length) {
      throw new IllegalArgumentException(
          "sameList needs as many queries as candidates: " + queries.length + " vs " + candidates.length);
    }
    int dim = candidates.length > 0 ? candidates[0].length : queries.length > 0 ? queries[0].length : 0;
    checkWidth("candidate", candidates, dim);
    checkWidth("query", queries, dim);
    return IntStream.range(0, candidates.length).filter(j -> allowed == null || allowed[j]).toArray();
  }

  private static void checkWidth(String what, float[][] rows, int dim) {
    for (int i = 0; i < rows.length; i++) {
      if (rows[i].length != dim) {
        throw new IllegalArgumentException(what + " row " + i + " has " + rows[i].length + " columns, expected " + dim);
      }
      if (dim == 0) {
        throw new IllegalArgumentException(what + " row " + i + " has no columns");
      }
    }
  }

  /**
   * The dot product in double, summed in index order: the exact similarity both paths rank by. Public so that callers
   * that merge neighbour lists from several calls can rank by the same number.
   */
  public static double dot(float[] a, float[] b) {
    double sum = 0;
    for (int i = 0; i < a.length; i++) {
      sum += (double) a[i] * b[i];
    }
    return sum;
  }

  /**
   * Partial selection of the best {@code capacity} (score, index) pairs under (score descending, index ascending):
   * a binary heap whose root is the worst pair kept, so a row of m scores costs O(m log k) instead of a sort.
   */
  private static final class Selection {
    private final double[] score;
    private final int[] index;
    private int size;

    Selection(int capacity) {
      score = new double[capacity];
      index = new int[capacity];
    }

    void clear() {
      size = 0;
    }

    boolean full() {
      return size == score.length;
    }

    double worstScore() {
      return score[0];
    }

    void offer(double s, int i) {
      if (size < score.length) {
        score[size] = s;
        index[size] = i;
        siftUp(size++);
      } else if (worse(0, s, i)) {
        score[0] = s;
        index[0] = i;
        siftDown(0);
      }
    }

    /** Whether the kept pair at slot a ranks below (s, i). */
    private boolean worse(int a, double s, int i) {
      return score[a] < s || (score[a] == s && index[a] > i);
    }

    private void siftUp(int a) {
      while (a > 0) {
        int parent = (a - 1) / 2;
        if (!worse(a, score[parent], index[parent])) {
          return;
        }
        swap(a, parent);
        a = parent;
      }
    }

    private void siftDown(int a) {
      while (true) {
        int worst = a;
        for (int child = 2 * a + 1; child <= 2 * a + 2 && child < size; child++) {
          if (worse(child, score[worst], index[worst])) {
            worst = child;
          }
        }
        if (worst == a) {
          return;
        }
        swap(a, worst);
        a = worst;
      }
    }

    private void swap(int a, int b) {
      double s = score[a];
      score[a] = score[b];
      score[b] = s;
      int i = index[a];
      index[a] = index[b];
      index[b] = i;
    }

    /** Empties the heap worst first into the back of the arrays, leaving them best first; returns the indices. */
    int[] indicesBestFirst() {
      int n = size;
      while (size > 1) {
        swap(0, --size);
        siftDown(0);
      }
      size = n;
      return Arrays.copyOf(index, n);
    }

    /** The scores after {@link #indicesBestFirst()}, as floats. */
    float[] scoresBestFirst() {
      float[] out = new float[size];
      for (int r = 0; r < size; r++) {
        out[r] = (float) score[r];
      }
      return out;
    }
  }
}
