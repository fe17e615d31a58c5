package io.relabel.core.knn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.core.knn.BlockedKnn.Neighbours;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BlockedKnnTest {

  /** n seeded Gaussian rows of width d, L2-normalised. */
  static float[][] randomRows(long seed, int n, int d) {
    Random r = new Random(seed);
    float[][] x = new float[n][d];
    for (float[] row : x) {
      for (int j = 0; j < d; j++) {
        row[j] = (float) r.nextGaussian();
      }
    }
    return BlockedKnn.normalise(x);
  }

  static void assertSameNeighbours(Neighbours expected, Neighbours actual, String what) {
    assertEquals(expected.index().length, actual.index().length, what + ": queries");
    for (int q = 0; q < expected.index().length; q++) {
      assertArrayEquals(expected.index()[q], actual.index()[q], what + ": indices of query " + q);
      assertArrayEquals(expected.sim()[q], actual.sim()[q], what + ": similarities of query " + q);
    }
  }

  @Test
  void equalsBruteForceOnRandomShapes() {
    int[][] shapes = { // queries, candidates, width, k
        {1, 1, 3, 1}, {7, 5, 4, 10}, {50, 40, 8, 1}, {123, 97, 16, 5}, {200, 300, 32, 20}, {30, 64, 128, 64}};
    for (int[] s : shapes) {
      float[][] q = randomRows(s[0] * 31L + s[2], s[0], s[2]);
      float[][] c = randomRows(s[1] * 17L + s[2], s[1], s[2]);
      String what = s[0] + "x" + s[1] + "x" + s[2] + " k=" + s[3];
      assertSameNeighbours(BlockedKnn.bruteForce(q, c, null, s[3], false), BlockedKnn.topK(q, c, s[3]), what);
    }
  }

  @Test
  void kAboveTheCandidateCountReturnsEveryCandidate() {
    float[][] q = randomRows(1, 4, 6);
    float[][] c = randomRows(2, 3, 6);
    Neighbours n = BlockedKnn.topK(q, c, 10);
    for (int[] idx : n.index()) {
      assertEquals(c.length, idx.length);
    }
    Neighbours loo = BlockedKnn.topKExcludingSelf(c, 10);
    for (int[] idx : loo.index()) {
      assertEquals(c.length - 1, idx.length);
    }
  }

  @Test
  void duplicateRowsTieAndTheLowerIndexComesFirst() {
    float[][] base = randomRows(3, 3, 5);
    float[][] candidates = {base[1], base[0], base[2], base[0], base[0], base[1]};
    Neighbours n = BlockedKnn.topK(new float[][] {base[0]}, candidates, 3);
    assertArrayEquals(new int[] {1, 3, 4}, n.index()[0]);
    assertEquals(n.sim()[0][0], n.sim()[0][1]);
    assertEquals(n.sim()[0][0], n.sim()[0][2]);
    Neighbours n4 = BlockedKnn.topK(new float[][] {base[1]}, candidates, 2);
    assertArrayEquals(new int[] {0, 5}, n4.index()[0]);
  }

  @Test
  void manyDuplicatesEqualBruteForce() {
    float[][] distinct = randomRows(4, 6, 8);
    Random r = new Random(5);
    float[][] rows = new float[90][];
    for (int i = 0; i < rows.length; i++) {
      rows[i] = distinct[r.nextInt(distinct.length)];
    }
    for (int k : new int[] {1, 4, 20}) {
      assertSameNeighbours(BlockedKnn.bruteForce(rows, rows, null, k, true),
          BlockedKnn.topKExcludingSelf(rows, k), "k=" + k);
      assertSameNeighbours(BlockedKnn.bruteForce(rows, rows, null, k, false), BlockedKnn.topK(rows, rows, k),
          "with self, k=" + k);
    }
  }

  /** Similarities closer than FLOAT resolution: the FLOAT product alone could not order them. */
  @Test
  void nearTiesBelowFloatResolutionAreOrderedExactly() {
    int d = 64;
    float[] v = randomRows(6, 1, d)[0];
    float[][] candidates = new float[d][];
    for (int j = 0; j < d; j++) {
      candidates[j] = v.clone();
      candidates[j][j] = Math.nextUp(v[j]);
    }
    float[][] queries = randomRows(7, 20, d);
    assertSameNeighbours(BlockedKnn.bruteForce(queries, candidates, null, 5, false),
        BlockedKnn.topK(queries, candidates, 5), "near ties");
  }

  @Test
  void onlyAllowedCandidatesAreReturned() {
    float[][] q = randomRows(8, 60, 12);
    float[][] c = randomRows(9, 80, 12);
    boolean[] allowed = new boolean[c.length];
    Random r = new Random(10);
    for (int j = 0; j < allowed.length; j++) {
      allowed[j] = r.nextDouble() < 0.3;
    }
    Neighbours n = BlockedKnn.topK(q, c, allowed, 7, false);
    for (int[] idx : n.index()) {
      for (int j : idx) {
        assertTrue(allowed[j], "candidate " + j + " is not allowed");
      }
    }
    assertSameNeighbours(BlockedKnn.bruteForce(q, c, allowed, 7, false), n, "masked");
    Neighbours none = BlockedKnn.topK(q, c, new boolean[c.length], 3, false);
    for (int[] idx : none.index()) {
      assertEquals(0, idx.length);
    }
  }

  @Test
  void sameListNeverReturnsTheQueryItself() {
    float[][] rows = randomRows(11, 70, 10);
    boolean[] allowed = new boolean[rows.length];
    for (int j = 0; j < allowed.length; j++) {
      allowed[j] = j % 3 != 0;
    }
    for (boolean[] mask : new boolean[][] {null, allowed}) {
      Neighbours n = BlockedKnn.topK(rows, rows, mask, 6, true);
      for (int q = 0; q < rows.length; q++) {
        for (int j : n.index()[q]) {
          assertNotEquals(q, j, "query " + q + " returned itself");
        }
      }
      assertSameNeighbours(BlockedKnn.bruteForce(rows, rows, mask, 6, true), n, "sameList");
    }
    // Without sameList a row is its own nearest neighbour.
    assertEquals(0, BlockedKnn.topK(rows, rows, 1).index()[0][0]);
  }

  @Test
  void blockSizeChangesNothing() {
    float[][] q = randomRows(12, 50, 16);
    float[][] c = randomRows(13, 45, 16);
    boolean[] allowed = new boolean[c.length];
    for (int j = 0; j < allowed.length; j++) {
      allowed[j] = j % 4 != 1;
    }
    Neighbours reference = BlockedKnn.bruteForce(q, c, allowed, 9, false);
    for (int block : new int[] {1, 7, 16, 50, 64}) {
      assertSameNeighbours(reference, BlockedKnn.topK(q, c, allowed, 9, false, block), "block " + block);
    }
    Neighbours loo = BlockedKnn.bruteForce(q, q, null, 9, true);
    for (int block : new int[] {3, 49}) {
      assertSameNeighbours(loo, BlockedKnn.topK(q, q, null, 9, true, block), "sameList block " + block);
    }
  }

  @Test
  void sameInputSameOutput() {
    float[][] rows = randomRows(14, 300, 24);
    Neighbours a = BlockedKnn.topKExcludingSelf(rows, 11);
    Neighbours b = BlockedKnn.topKExcludingSelf(rows, 11);
    assertSameNeighbours(a, b, "repeat");
  }

  @Test
  void defaultBlockKeepsTheSimilarityMatrixWithinTheBudget() {
    for (int m : new int[] {1, 1000, 4000, 3_000_000, 50_000_000}) {
      int rows = BlockedKnn.defaultBlockRows(m);
      assertTrue(rows >= 1);
      assertTrue(rows == 1 || (long) rows * m * Float.BYTES <= BlockedKnn.DEFAULT_BLOCK_BYTES, "m=" + m);
      assertTrue((long) (rows + 1) * m * Float.BYTES > BlockedKnn.DEFAULT_BLOCK_BYTES, "m=" + m);
    }
  }

  @Test
  void emptyInputsGiveEmptyLists() {
    float[][] c = randomRows(15, 4, 3);
    assertEquals(0, BlockedKnn.topK(new float[0][], c, 2).index().length);
    Neighbours n = BlockedKnn.topK(c, new float[0][], 2);
    assertEquals(c.length, n.index().length);
    assertEquals(0, n.index()[2].length);
    assertEquals(0, n.sim()[2].length);
    assertEquals(0, BlockedKnn.topKExcludingSelf(new float[][] {c[0]}, 2).index()[0].length);
  }

  @Test
  void normaliseGivesUnitRowsAndKeepsZeroRows() {
    float[][] x = {{3, 4}, {0, 0}, {-1, 0}, {1e-20f, 0}};
    float[][] copy = {x[0].clone(), x[1].clone(), x[2].clone(), x[3].clone()};
    float[][] n = BlockedKnn.normalise(x);
    assertArrayEquals(new float[] {0.6f, 0.8f}, n[0]);
    assertArrayEquals(new float[] {0, 0}, n[1]);
    assertArrayEquals(new float[] {-1, 0}, n[2]);
    assertArrayEquals(new float[] {1, 0}, n[3]);
    for (int i = 0; i < x.length; i++) {
      assertArrayEquals(copy[i], x[i], "input row " + i + " changed");
    }
    for (float[] row : randomRows(16, 20, 7)) {
      assertEquals(1.0, Math.sqrt(BlockedKnn.dot(row, row)), 1e-6);
    }
  }

  @Test
  void badArgumentsAreRejected() {
    float[][] c = randomRows(17, 4, 3);
    assertEquals("k must be at least 1: 0",
        assertThrows(IllegalArgumentException.class, () -> BlockedKnn.topK(c, c, 0)).getMessage());
    assertEquals("allowed has 3 entries for 4 candidates", assertThrows(IllegalArgumentException.class,
        () -> BlockedKnn.topK(c, c, new boolean[3], 1, false)).getMessage());
    assertEquals("sameList needs as many queries as candidates: 2 vs 4", assertThrows(IllegalArgumentException.class,
        () -> BlockedKnn.topK(new float[][] {c[0], c[1]}, c, null, 1, true)).getMessage());
    assertEquals("query row 1 has 2 columns, expected 3", assertThrows(IllegalArgumentException.class,
        () -> BlockedKnn.topK(new float[][] {c[0], {1, 0}}, c, 1)).getMessage());
    assertEquals("candidate row 0 has no columns", assertThrows(IllegalArgumentException.class,
        () -> BlockedKnn.topK(new float[][] {{}}, new float[][] {{}}, 1)).getMessage());
    assertEquals("blockRows must be at least 1: 0", assertThrows(IllegalArgumentException.class,
        () -> BlockedKnn.topK(c, c, null, 1, false, 0)).getMessage());
    assertEquals("k must be at least 1: -2", assertThrows(IllegalArgumentException.class,
        () -> BlockedKnn.bruteForce(c, c, null, -2, false)).getMessage());
  }
}
