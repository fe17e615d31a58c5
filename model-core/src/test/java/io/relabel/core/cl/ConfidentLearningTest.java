package io.relabel.core.cl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class ConfidentLearningTest {

  /**
   * The hand-worked example: 15 rows, 3 classes, probabilities in 32nds (binary fractions, so sums and the means
   * below are exact in floating point). Columns: id, given label, 32 * (p0, p1, p2); every row sums to 32.
   */
  static final int[][] EXAMPLE = {
      // labeled 0 (n0 = 6)
      {1, 0, 28, 2, 2}, {2, 0, 24, 4, 4}, {3, 0, 20, 6, 6}, {4, 0, 4, 26, 2}, {5, 0, 2, 14, 16}, {6, 0, 6, 17, 9},
      // labeled 1 (n1 = 4)
      {7, 1, 2, 28, 2}, {8, 1, 4, 24, 4}, {9, 1, 12, 10, 10}, {10, 1, 24, 4, 4},
      // labeled 2 (n2 = 5)
      {11, 2, 4, 4, 24}, {12, 2, 8, 8, 16}, {13, 2, 2, 24, 6}, {14, 2, 16, 0, 16}, {15, 2, 14, 15, 3}};

  static float[] probs(int[] row) {
    float[] p = new float[row.length - 2];
    for (int j = 0; j < p.length; j++) {
      p[j] = row[j + 2] / 32f;
    }
    return p;
  }

  static InMemoryScoredRows rows(int[][] table, int chunks) {
    InMemoryScoredRows r = new InMemoryScoredRows(chunks);
    for (int[] row : table) {
      r.add((long) row[0], probs(row), row[1]);
    }
    return r;
  }

  /** Issue class per flagged row id, by the rule of an outcome. */
  static Map<Long, Integer> flagged(int[][] table, ConfidentLearning.Outcome out) {
    Map<Long, Integer> m = new TreeMap<>();
    for (int[] row : table) {
      int cls = out.rule().issueClass((long) row[0], probs(row), row[1]);
      if (cls >= 0) {
        m.put((long) row[0], cls);
      }
    }
    return m;
  }

  @Test
  void handWorkedExample() {
    for (int chunks : new int[] {1, 4}) {
      for (int limit : new int[] {1, 4096}) {
        ConfidentLearning.Outcome out = ConfidentLearning.run(rows(EXAMPLE, chunks), 3, limit);
        String where = "chunks " + chunks + ", limit " + limit;

        // n = (6, 4, 5), n = 15 rows.
        assertArrayEquals(new long[] {6, 4, 5}, out.classCounts(), where);
        assertEquals(15, out.rows());

        // Thresholds t_j = mean of p_j over the rows labeled j, in 32nds:
        //   t0 = (28 + 24 + 20 + 4 + 2 + 6) / 6 = 84 / 6 = 14
        //   t1 = (28 + 24 + 10 + 4) / 4 = 66 / 4 = 16.5
        //   t2 = (24 + 16 + 6 + 16 + 3) / 5 = 65 / 5 = 13
        assertArrayEquals(new double[] {14 / 32.0, 16.5 / 32, 13 / 32.0}, out.thresholds(), where);

        // Confident class (argmax over the classes at or above their threshold, in 32nds: 14, 16.5, 13):
        //   1 (28,2,2) -> 0    2 (24,4,4) -> 0    3 (20,6,6) -> 0
        //   4 (4,26,2) -> 1    5 (2,14,16): 14 < 16.5, 16 >= 13 -> 2    6 (6,17,9): 17 >= 16.5, 9 < 13 -> 1
        //   7 (2,28,2) -> 1    8 (4,24,4) -> 1    9 (12,10,10): 12 < 14, 10 < 16.5, 10 < 13 -> none
        //   10 (24,4,4) -> 0
        //   11 (4,4,24) -> 2   12 (8,8,16) -> 2   13 (2,24,6) -> 1
        //   14 (16,0,16): 16 >= 14 and 16 >= 13, equal p -> the lower class 0
        //   15 (14,15,3): 14 >= 14 (equality counts), 15 < 16.5 -> 0, although its argmax is class 1
        // Confident joint C[given][confident]:
        assertArrayEquals(new long[][] {{3, 2, 1}, {1, 2, 0}, {2, 1, 2}}, out.confidentJoint(), where);

        // Calibration C~[i][j] = C[i][j] / sum_j C[i][j] * n_i:
        //   row 0: sum 3+2+1 = 6 = n0, unchanged (3, 2, 1)
        //   row 1: sum 1+2+0 = 3 (row 9 has no confident class), n1 = 4: (4/3, 8/3, 0)
        //   row 2: sum 5 = n2, unchanged (2, 1, 2)
        assertArrayEquals(new double[][] {{3, 2, 1}, {4.0 / 3, 8.0 / 3, 0}, {2, 1, 2}}, out.calibratedJoint());

        // Joint Q = C~ / sum C~, sum C~ = 6 + 4 + 5 = 15:
        //   (3/15, 2/15, 1/15), (4/45, 8/45, 0), (2/15, 1/15, 2/15); each entry is rounded once, as the literals
        assertArrayEquals(new double[][] {{3.0 / 15, 2.0 / 15, 1.0 / 15}, {4.0 / 45, 8.0 / 45, 0},
            {2.0 / 15, 1.0 / 15, 2.0 / 15}}, out.joint(), where);

        // Noise rate 1 - trace(Q) = 1 - (9 + 8 + 6) / 45 = 22 / 45.
        assertEquals(22.0 / 45, out.noiseRate(), 1e-15);

        // p(given i | true j) = Q[i][j] / sum_i Q[i][j]; column sums 19/45, 17/45, 9/45:
        //   column 0: (9, 4, 6) / 19; column 1: (6, 8, 3) / 17; column 2: (3, 0, 6) / 9
        double[][] expected = {{9 / 19.0, 6 / 17.0, 1 / 3.0}, {4 / 19.0, 8 / 17.0, 0}, {6 / 19.0, 3 / 17.0, 2 / 3.0}};
        for (int i = 0; i < 3; i++) {
          assertArrayEquals(expected[i], out.noiseMatrix()[i], 1e-15, where);
        }

        // Prune counts round(n * Q[i][j]) = round(C~[i][j]) off the diagonal:
        //   row 0: round(2) = 2, round(1) = 1; row 1: round(4/3) = 1, 0; row 2: round(2) = 2, round(1) = 1.
        //   Row sums 3, 1, 3 are within n_i - 1 = 5, 3, 4: no cap.
        assertArrayEquals(new long[][] {{0, 2, 1}, {1, 0, 0}, {2, 1, 0}}, out.pruneCounts(), where);

        // Flagged: per (i, j) the prune[i][j] rows labeled i with the largest margin p_j - p_i (32nds):
        //   (0,1): 1 -26, 2 -20, 3 -14, 4 +22, 5 +12, 6 +11 -> rows 4, 5
        //   (0,2): 1 -26, 2 -20, 3 -14, 4 -2, 5 +14, 6 +3 -> row 5
        //   (1,0): 7 -26, 8 -20, 9 +2, 10 +20 -> row 10
        //   (2,0): 11 -20, 12 -8, 13 -4, 14 0, 15 +11 -> rows 15, 14
        //   (2,1): 11 -20, 12 -8, 13 +18, 14 -16, 15 +12 -> row 13 (row 15 is second)
        // Row 5 is flagged for 1 (margin 12) and 2 (margin 14): one issue, class 2 (the larger margin).
        Map<Long, Integer> issues = new TreeMap<>(Map.of(4L, 1, 5L, 2, 10L, 0, 13L, 1, 14L, 0, 15L, 0));
        assertEquals(issues, flagged(EXAMPLE, out), where);
        assertEquals(6, out.issues());
      }
    }
    // Label quality is the self-confidence p_given: row 15 (labeled 2) has 3/32, row 1 (labeled 0) 28/32.
    assertEquals(3 / 32.0, ConfidentLearning.selfConfidence(probs(EXAMPLE[14]), 2));
    assertEquals(28 / 32.0, ConfidentLearning.selfConfidence(probs(EXAMPLE[0]), 0));
  }

  /**
   * A class nobody is confidently of, a class with no rows at all, and the keep-one-row cap. Four classes, in 32nds
   * (p3 = 0 everywhere, no row labeled 3):
   * <pre>
   *   id given   p0 p1 p2 p3
   *   1  0       20 12  0  0
   *   2  0       24  8  0  0
   *   3  1        4 28  0  0
   *   4  1        8 24  0  0
   *   5  2       24  0  8  0
   *   6  2       22  0 10  0
   * </pre>
   */
  @Test
  void emptyColumnEmptyClassAndTheKeepOneRowCap() {
    int[][] table = {{1, 0, 20, 12, 0, 0}, {2, 0, 24, 8, 0, 0}, {3, 1, 4, 28, 0, 0}, {4, 1, 8, 24, 0, 0},
        {5, 2, 24, 0, 8, 0}, {6, 2, 22, 0, 10, 0}};
    ConfidentLearning.Outcome out = ConfidentLearning.run(rows(table, 2), 4, 1);
    // t0 = (20 + 24) / 2 = 22, t1 = (28 + 24) / 2 = 26, t2 = (8 + 10) / 2 = 9; t3: no row labeled 3, NaN.
    assertArrayEquals(new double[] {22 / 32.0, 26 / 32.0, 9 / 32.0, Double.NaN}, out.thresholds());
    // 1: 20 < 22, 12 < 26 -> none   2: 24 >= 22 -> 0   3: 28 >= 26 -> 1   4: 8 < 22, 24 < 26 -> none
    // 5: 8 < 9, 24 >= 22 -> 0       6: 10 >= 9 and 22 >= 22, argmax -> 0. Nobody is confidently 2 or 3.
    assertArrayEquals(new long[][] {{1, 0, 0, 0}, {0, 1, 0, 0}, {2, 0, 0, 0}, {0, 0, 0, 0}}, out.confidentJoint());
    // C~ rows scale to n_i = 2; the row of the empty class 3 stays 0. Sum C~ = 6.
    assertArrayEquals(new double[][] {{2, 0, 0, 0}, {0, 2, 0, 0}, {2, 0, 0, 0}, {0, 0, 0, 0}},
        out.calibratedJoint());
    double third = 2.0 / 6;
    assertArrayEquals(new double[][] {{third, 0, 0, 0}, {0, third, 0, 0}, {third, 0, 0, 0}, {0, 0, 0, 0}},
        out.joint());
    // Columns 2 and 3 have no mass: 0, not NaN. Column 0: (1/3, 0, 1/3) / (2/3) = (1/2, 0, 1/2).
    assertArrayEquals(new double[][] {{0.5, 0, 0, 0}, {0, 1, 0, 0}, {0.5, 0, 0, 0}, {0, 0, 0, 0}},
        out.noiseMatrix());
    assertEquals(1 - 2 * third, out.noiseRate(), 1e-15);
    // round(6 * 1/3) = 2 rows labeled 2 to prune as 0, but class 2 has only n2 = 2 rows: capped to n2 - 1 = 1.
    assertArrayEquals(new long[][] {{0, 0, 0, 0}, {0, 0, 0, 0}, {1, 0, 0, 0}, {0, 0, 0, 0}}, out.pruneCounts());
    // Among rows labeled 2 the larger margin p0 - p2: row 5 (24 - 8 = 16) over row 6 (22 - 10 = 12).
    assertEquals(Map.of(5L, 0), flagged(table, out));
    assertEquals(1, out.issues());
    assertEquals(6, out.rows());
  }

  @Test
  void capTakesFromTheLargestEntriesFirst() {
    // n = (4, 2, 2), n = 8, every class has a confident row (n' = 8). C row 0 = (0, 3, 1) calibrates to itself
    // (sum 4 = n0): round(8 * 3 / 8) = 3 and round(8 * 1 / 8) = 1, 4 rows > n0 - 1 = 3: the larger gives one, (2, 1).
    long[][] prune = ConfidentLearning.pruneCounts(new long[][] {{0, 3, 1}, {0, 2, 0}, {0, 0, 2}},
        new long[] {4, 2, 2});
    assertArrayEquals(new long[][] {{0, 2, 1}, {0, 0, 0}, {0, 0, 0}}, prune);
    // C row 0 = (0, 2, 2): (2, 2) is 4 > 3, equal entries: the lower class gives one, (1, 2).
    prune = ConfidentLearning.pruneCounts(new long[][] {{0, 2, 2}, {0, 2, 0}, {0, 0, 2}}, new long[] {4, 2, 2});
    assertArrayEquals(new long[][] {{0, 1, 2}, {0, 0, 0}, {0, 0, 0}}, prune);
    // n = (2, 2, 2), C row 0 = (1, 1, 1): C~ = (2/3, 2/3, 2/3), round(6 * (2/3) / 6) = 1 twice, 2 > n0 - 1 = 1:
    // rounding up alone breaks the cap; the lower class gives its row, (0, 1).
    prune = ConfidentLearning.pruneCounts(new long[][] {{1, 1, 1}, {0, 2, 0}, {0, 0, 2}}, new long[] {2, 2, 2});
    assertArrayEquals(new long[][] {{0, 0, 1}, {0, 0, 0}, {0, 0, 0}}, prune);
    // Exact halves round up: n = (3, 1), C row 0 = (1, 1) gives n * Q[0][1] = 4 * 1 * 3 / (2 * 4) = 1.5 -> 2,
    // within the cap n0 - 1 = 2.
    prune = ConfidentLearning.pruneCounts(new long[][] {{1, 1}, {0, 1}}, new long[] {3, 1});
    assertArrayEquals(new long[][] {{0, 2}, {0, 0}}, prune);
    // Larger entries, through the cap alone: (5, 2) with cap 3 loses 4: 5 -> 4 -> 3 -> 2 from the largest, then
    // (2, 2) are equal and the lower index gives one: (1, 2).
    long[] row = {0, 5, 2};
    ConfidentLearning.capRow(row, 3);
    assertArrayEquals(new long[] {0, 1, 2}, row);
    // Equal entries: (3, 3) with cap 5 gives one from the lower class: (2, 3).
    row = new long[] {0, 3, 3};
    ConfidentLearning.capRow(row, 5);
    assertArrayEquals(new long[] {0, 2, 3}, row);
    // A class of one row keeps it: nothing is pruned.
    row = new long[] {0, 1, 4};
    ConfidentLearning.capRow(row, 0);
    assertArrayEquals(new long[] {0, 0, 0}, row);
  }

  @Test
  void closedFormCapEqualsOneUnitAtATime() {
    Random rnd = new Random(3);
    for (int trial = 0; trial < 2000; trial++) {
      long[] row = new long[1 + rnd.nextInt(6)];
      for (int j = 0; j < row.length; j++) {
        row[j] = rnd.nextInt(4) == 0 ? 0 : rnd.nextInt(12);
      }
      long cap = rnd.nextInt(30);
      long[] naive = row.clone();
      while (java.util.Arrays.stream(naive).sum() > cap) {
        int best = 0;
        for (int j = 1; j < naive.length; j++) {
          if (naive[j] > naive[best]) {
            best = j;
          }
        }
        naive[best]--;
      }
      long[] fast = row.clone();
      ConfidentLearning.capRow(fast, cap);
      assertArrayEquals(naive, fast, java.util.Arrays.toString(row) + " cap " + cap);
    }
  }

  @Test
  void largerMarginGivesSmallerKey() {
    float[] margins = {1f, 0.75f, 0.5f, 1e-30f, Float.MIN_VALUE, 0f, -Float.MIN_VALUE, -1e-30f, -0.25f, -0.5f, -1f};
    for (int a = 0; a < margins.length; a++) {
      for (int b = 0; b < margins.length; b++) {
        // the ids differ, so only the margin may decide
        long ka = ConfidentLearning.selectionKey(margins[a], (Object) (long) a);
        long kb = ConfidentLearning.selectionKey(margins[b], (Object) (long) (100 + b));
        if (a < b) {
          assertTrue(Long.compareUnsigned(ka, kb) < 0, margins[a] + " vs " + margins[b]);
        }
      }
    }
    // -0 and +0 are one margin: equal high bits; the low bits come from the id alone.
    long plus = ConfidentLearning.selectionKey(0f, (Object) 7L);
    long minus = ConfidentLearning.selectionKey(-0f, (Object) 7L);
    assertEquals(plus, minus);
    long other = ConfidentLearning.selectionKey(0f, (Object) 8L);
    assertEquals(plus >>> 32, other >>> 32);
    assertTrue((plus & 0xffff_ffffL) != (other & 0xffff_ffffL));
    assertThrows(IllegalArgumentException.class, () -> ConfidentLearning.selectionKey(Float.NaN, (Object) 1L));
  }

  @Test
  void exactSumDoesNotDependOnOrder() {
    Random rnd = new Random(5);
    List<Float> xs = new ArrayList<>();
    for (int i = 0; i < 5000; i++) {
      xs.add(i % 7 == 0 ? Float.MIN_VALUE * rnd.nextInt(100) : (float) Math.pow(rnd.nextFloat(), 8));
    }
    BigDecimal exact = BigDecimal.ZERO;
    for (float x : xs) {
      exact = exact.add(new BigDecimal(x));
    }
    double expected = exact.doubleValue();
    for (int shuffle = 0; shuffle < 5; shuffle++) {
      Collections.shuffle(xs, rnd);
      ExactFloatSum a = new ExactFloatSum();
      ExactFloatSum b = new ExactFloatSum();
      for (int i = 0; i < xs.size(); i++) {
        (i % 3 == 0 ? a : b).add(xs.get(i));
      }
      assertEquals(expected, b.merge(a).value());
    }
    assertThrows(IllegalArgumentException.class, () -> new ExactFloatSum().add(-1f));
  }

  @Test
  void partitioningDoesNotChangeTheOutcome() {
    Random rnd = new Random(9);
    int k = 4;
    InMemoryScoredRows one = new InMemoryScoredRows(1);
    InMemoryScoredRows seven = new InMemoryScoredRows(7);
    List<int[]> table = new ArrayList<>();
    for (int r = 0; r < 3000; r++) {
      int given = rnd.nextInt(k);
      int[] row = new int[k + 2];
      row[0] = r;
      row[1] = given;
      int left = 32;
      for (int j = 0; j < k; j++) {
        // mostly the given class, in 32nds so many margins tie exactly
        int v = j == k - 1 ? left : Math.min(left, j == given ? 8 + rnd.nextInt(24) : rnd.nextInt(8));
        row[j + 2] = v;
        left -= v;
      }
      table.add(row);
      one.add((long) r, probs(row), given);
      seven.add((long) r, probs(row), given);
    }
    ConfidentLearning.Outcome a = ConfidentLearning.run(one, k, 4096);
    ConfidentLearning.Outcome b = ConfidentLearning.run(seven, k, 3);
    int[][] rows = table.toArray(new int[0][]);
    assertArrayEquals(a.confidentJoint(), b.confidentJoint());
    assertArrayEquals(a.pruneCounts(), b.pruneCounts());
    assertEquals(flagged(rows, a), flagged(rows, b));
    assertTrue(a.issues() > 0);
    assertEquals(a.issues(), flagged(rows, a).size());
  }

  @Test
  void badRowsAreRefused() {
    InMemoryScoredRows r = new InMemoryScoredRows(1).add(3L, new float[] {0.5f, 0.5f}, 2);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> ConfidentLearning.run(r, 2, 10));
    assertEquals("row 3: label 2 is not a class index in [0, 2)", e.getMessage());
    InMemoryScoredRows s = new InMemoryScoredRows(1).add(4L, new float[] {0.5f}, 0);
    e = assertThrows(IllegalArgumentException.class, () -> ConfidentLearning.run(s, 2, 10));
    assertEquals("row 4: expected 2 probabilities, got 1", e.getMessage());
    InMemoryScoredRows u = new InMemoryScoredRows(1).add(5L, new float[] {Float.NaN, 0.5f}, 0);
    e = assertThrows(IllegalArgumentException.class, () -> ConfidentLearning.run(u, 2, 10));
    assertEquals("row 5: probability NaN of class 0 is not a finite value at least 0", e.getMessage());
  }
}
