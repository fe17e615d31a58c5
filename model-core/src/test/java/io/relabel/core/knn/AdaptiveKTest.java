package io.relabel.core.knn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.relabel.core.knn.AdaptiveK.Choice;
import io.relabel.core.knn.AdaptiveK.Stats;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AdaptiveKTest {

  private static void addTimes(Stats stats, int times, int label, int... neighbours) {
    for (int i = 0; i < times; i++) {
      stats.add(label, neighbours, null);
    }
  }

  /**
   * 20 rows of class 0, kMax 6: 17 pure to 6, 2 with a stranger in third place, 1 with a stranger in fifth place.
   * So δ̂ = 0, 0, 2/20, 2/20, 3/20, 3/20, and every vote is still won by class 0.
   */
  private static Stats handBuilt() {
    Stats stats = new Stats(6);
    addTimes(stats, 17, 0, 0, 0, 0, 0, 0, 0);
    addTimes(stats, 2, 0, 0, 0, 1, 0, 0, 0);
    addTimes(stats, 1, 0, 0, 0, 0, 0, 1, 0);
    return stats;
  }

  @Test
  void largestKWithDeltaWithinTau() {
    Stats stats = handBuilt();
    double n = stats.rows();
    double[] expectedDelta = {0, 0, 2 / n, 2 / n, 3 / n, 3 / n};
    Choice c = AdaptiveK.choose(stats, 0.1);
    assertArrayEquals(expectedDelta, c.deltaByK());
    assertArrayEquals(new double[] {1, 1, 1, 1, 1, 1}, c.looAccuracyByK());
    assertEquals(4, c.k());
    assertEquals(2 / n, c.delta());
    assertEquals(1.0, c.looAccuracy());
    assertEquals(AdaptiveK.RULE_DELTA, c.rule());
    assertEquals("largest k with delta <= tau", c.rule());
    assertEquals(6, AdaptiveK.choose(stats, 0.15).k());
    assertEquals(2, AdaptiveK.choose(stats, 0.05).k());
    assertEquals(2, AdaptiveK.choose(stats, 0).k());
  }

  /**
   * Neighbour labels 1, 0, 0, 1, 1 for every row. Class 0 rows are voted right only at k = 3 (k = 2 and 4 are ties
   * that the nearest neighbour, class 1, wins); the one class 1 row is voted right at every k but 3. Every class 0
   * row is impure from k = 1, so no k passes τ = 0.1 and the accuracy peak 3/4 at k = 3 decides.
   */
  @Test
  void fallsBackToTheBestLeaveOneOutAccuracy() {
    Stats stats = new Stats(5);
    addTimes(stats, 3, 0, 1, 0, 0, 1, 1);
    addTimes(stats, 1, 1, 1, 0, 0, 1, 1);
    Choice c = AdaptiveK.choose(stats, 0.1);
    assertArrayEquals(new double[] {0.25, 0.25, 0.75, 0.25, 0.25}, c.looAccuracyByK());
    assertArrayEquals(new double[] {0.75, 1, 1, 1, 1}, c.deltaByK());
    assertEquals(3, c.k());
    assertEquals(0.75, c.looAccuracy());
    assertEquals(1.0, c.delta());
    assertEquals("best leave-one-out accuracy", c.rule());
  }

  @Test
  void accuracyTiesInTheFallbackGoToTheSmallestK() {
    Stats stats = new Stats(4);
    addTimes(stats, 2, 0, 1, 1, 1, 1);
    Choice c = AdaptiveK.choose(stats, 0.5);
    assertArrayEquals(new double[] {0, 0, 0, 0}, c.looAccuracyByK());
    assertEquals(1, c.k());
    assertEquals(AdaptiveK.RULE_LOO, c.rule());
  }

  @Test
  void rowsWithFewNeighboursAreImpureBeyondThemAndVoteWithWhatTheyHave() {
    Stats stats = new Stats(3);
    stats.add(2, new int[] {2}, null);
    assertArrayEquals(new long[] {0, 1, 1}, new long[] {stats.notPure(1), stats.notPure(2), stats.notPure(3)});
    assertArrayEquals(new long[] {1, 1, 1}, new long[] {stats.looCorrect(1), stats.looCorrect(2), stats.looCorrect(3)});
    stats.add(2, new int[0], null);
    assertArrayEquals(new long[] {1, 2, 2}, new long[] {stats.notPure(1), stats.notPure(2), stats.notPure(3)});
    assertArrayEquals(new long[] {1, 1, 1}, new long[] {stats.looCorrect(1), stats.looCorrect(2), stats.looCorrect(3)});
    assertEquals(2, stats.rows());
  }

  @Test
  void neighboursBeyondKMaxAreIgnored() {
    Stats stats = new Stats(2);
    stats.add(0, new int[] {0, 0, 1, 1, 1}, null);
    assertEquals(0, stats.notPure(2));
    assertEquals(1, stats.looCorrect(2));
  }

  @Test
  void classWeightsDecideTheLeaveOneOutVote() {
    Stats plain = new Stats(3);
    Stats weighted = new Stats(3);
    plain.add(1, new int[] {0, 0, 1}, null);
    weighted.add(1, new int[] {0, 0, 1}, new double[] {1, 3});
    assertEquals(0, plain.looCorrect(3));
    assertEquals(1, weighted.looCorrect(3));
    assertEquals(plain.notPure(3), weighted.notPure(3));
  }

  @Test
  void mergeEqualsAddingAllRowsToOne() {
    Random r = new Random(31);
    int kMax = 7;
    double[] weights = {1, 2.5, 0.5};
    Stats all = new Stats(kMax);
    Stats a = new Stats(kMax);
    Stats b = new Stats(kMax);
    for (int i = 0; i < 300; i++) {
      int label = r.nextInt(weights.length);
      int[] neighbours = new int[r.nextInt(kMax + 3)];
      for (int j = 0; j < neighbours.length; j++) {
        neighbours[j] = r.nextDouble() < 0.7 ? label : r.nextInt(weights.length);
      }
      all.add(label, neighbours, weights);
      (i % 3 == 0 ? a : b).add(label, neighbours, weights);
    }
    assertSame(a, a.merge(b));
    assertEquals(all.rows(), a.rows());
    for (int k = 1; k <= kMax; k++) {
      assertEquals(all.notPure(k), a.notPure(k), "notPure k=" + k);
      assertEquals(all.looCorrect(k), a.looCorrect(k), "looCorrect k=" + k);
    }
    Choice merged = AdaptiveK.choose(a, 0.3);
    Choice single = AdaptiveK.choose(all, 0.3);
    assertEquals(single.k(), merged.k());
    assertArrayEquals(single.deltaByK(), merged.deltaByK());
  }

  /**
   * Real geometry: well-separated blobs on the sphere, one class each, of labeled sizes s_b. Leave-one-out, a row's
   * s_b − 1 nearest neighbours are its blob-mates and the next one is a stranger, so a row is impure exactly from
   * k = s_b on: δ̂_k = share of rows in blobs with s_b ≤ k.
   */
  @Test
  void deltaRisesOnceKReachesTheBlobSize() {
    int[] sizes = {5, 8, 11};
    int dim = 16;
    int kMax = 12;
    Random r = new Random(41);
    int n = 0;
    for (int s : sizes) {
      n += s;
    }
    float[][] x = new float[n][dim];
    int[] labels = new int[n];
    int row = 0;
    for (int b = 0; b < sizes.length; b++) {
      double[] centre = new double[dim];
      for (int j = 0; j < dim; j++) {
        centre[j] = r.nextGaussian();
      }
      for (int i = 0; i < sizes[b]; i++, row++) {
        for (int j = 0; j < dim; j++) {
          x[row][j] = (float) (centre[j] + 0.02 * r.nextGaussian());
        }
        labels[row] = b;
      }
    }
    BlockedKnn.Neighbours nb = BlockedKnn.topKExcludingSelf(BlockedKnn.normalise(x), kMax);
    Stats stats = new Stats(kMax);
    for (int i = 0; i < n; i++) {
      int[] neighbourLabels = new int[nb.index()[i].length];
      for (int j = 0; j < neighbourLabels.length; j++) {
        neighbourLabels[j] = labels[nb.index()[i][j]];
      }
      stats.add(labels[i], neighbourLabels, null);
    }
    double[] expected = new double[kMax];
    for (int k = 1; k <= kMax; k++) {
      int impure = 0;
      for (int s : sizes) {
        impure += s <= k ? s : 0;
      }
      expected[k - 1] = (double) impure / n;
    }
    Choice c = AdaptiveK.choose(stats, 0.1);
    assertArrayEquals(expected, c.deltaByK());
    assertEquals(sizes[0] - 1, c.k());
    assertEquals(AdaptiveK.RULE_DELTA, c.rule());
  }

  @Test
  void badArgumentsAreRejected() {
    assertEquals("kMax must be at least 1: 0",
        assertThrows(IllegalArgumentException.class, () -> new Stats(0)).getMessage());
    Stats stats = handBuilt();
    assertEquals("k must be in [1, 6]: 7",
        assertThrows(IllegalArgumentException.class, () -> stats.notPure(7)).getMessage());
    assertEquals("k must be in [1, 6]: 0",
        assertThrows(IllegalArgumentException.class, () -> stats.looCorrect(0)).getMessage());
    assertEquals("labels must be non-negative: -1",
        assertThrows(IllegalArgumentException.class, () -> stats.add(-1, new int[] {0}, null)).getMessage());
    assertEquals("tau must be in [0, 1]: 1.5",
        assertThrows(IllegalArgumentException.class, () -> AdaptiveK.choose(stats, 1.5)).getMessage());
    assertEquals("tau must be in [0, 1]: NaN",
        assertThrows(IllegalArgumentException.class, () -> AdaptiveK.choose(stats, Double.NaN)).getMessage());
    assertEquals("no labeled rows to choose k from",
        assertThrows(IllegalArgumentException.class, () -> AdaptiveK.choose(new Stats(3), 0.1)).getMessage());
    assertEquals("cannot merge statistics for kMax 3 into kMax 6",
        assertThrows(IllegalArgumentException.class, () -> stats.merge(new Stats(3))).getMessage());
  }
}
