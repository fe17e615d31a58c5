package io.relabel.core.knn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.relabel.core.knn.Votes.Result;
import java.util.Random;
import org.junit.jupiter.api.Test;

class VotesTest {

  @Test
  void majorityWinsWithItsShareAsAgreement() {
    assertEquals(new Result(4, 2.0 / 3), Votes.weightedMajority(new int[] {4, 1, 4}, 3, null));
    assertEquals(new Result(1, 1.0), Votes.weightedMajority(new int[] {1, 4, 4}, 1, null));
  }

  @Test
  void tiesGoToTheNearestNeighbourAmongTheTiedClasses() {
    assertEquals(new Result(2, 0.5), Votes.weightedMajority(new int[] {2, 1, 1, 2}, 4, null));
    assertEquals(new Result(1, 0.5), Votes.weightedMajority(new int[] {1, 2, 2, 1}, 4, null));
    // Class 3 is nearest but not tied; of the tied classes 1 and 2, class 1 comes first.
    assertEquals(new Result(1, 0.4), Votes.weightedMajority(new int[] {3, 1, 2, 1, 2}, 5, null));
  }

  @Test
  void classWeightsScaleTheVotes() {
    double[] weights = {3, 1};
    assertEquals(new Result(0, 0.6), Votes.weightedMajority(new int[] {1, 0, 1}, 3, weights));
    // Weighted tie, 2 against 2: the nearest class wins.
    assertEquals(new Result(1, 0.5), Votes.weightedMajority(new int[] {1, 0, 1, 1}, 3, new double[] {2, 1}));
  }

  @Test
  void zeroWeightsGiveTheNearestClassWithNoAgreement() {
    assertEquals(new Result(1, 0.0), Votes.weightedMajority(new int[] {1, 0}, 2, new double[] {0, 0}));
  }

  @Test
  void kBeyondTheListUsesWhatThereIsAndZeroVotesGiveNone() {
    assertEquals(new Result(5, 1.0), Votes.weightedMajority(new int[] {5, 5}, 10, null));
    assertEquals(new Result(Votes.NONE, 0.0), Votes.weightedMajority(new int[] {5, 5}, 0, null));
    assertEquals(new Result(Votes.NONE, 0.0), Votes.weightedMajority(new int[0], 3, null));
  }

  /** The incremental tally agrees at every prefix with a plain recount: max weight, ties by first position. */
  @Test
  void tallyMatchesARecountAtEveryPrefix() {
    Random r = new Random(21);
    for (int trial = 0; trial < 200; trial++) {
      int classes = 1 + r.nextInt(4);
      double[] weights = trial % 2 == 0 ? null : new double[classes];
      if (weights != null) {
        for (int c = 0; c < classes; c++) {
          weights[c] = r.nextInt(3);
        }
      }
      int[] labels = new int[1 + r.nextInt(12)];
      for (int i = 0; i < labels.length; i++) {
        labels[i] = r.nextInt(classes);
      }
      Votes.Tally tally = new Votes.Tally(weights);
      for (int k = 1; k <= labels.length; k++) {
        tally.add(labels[k - 1]);
        Result expected = recount(labels, k, weights, classes);
        assertEquals(expected, tally.result(), "trial " + trial + ", k " + k);
        assertEquals(expected, Votes.weightedMajority(labels, k, weights), "trial " + trial + ", k " + k);
      }
    }
  }

  private static Result recount(int[] labels, int k, double[] weights, int classes) {
    double[] sum = new double[classes];
    double total = 0;
    for (int i = 0; i < k; i++) {
      double w = weights == null ? 1 : weights[labels[i]];
      sum[labels[i]] += w;
      total += w;
    }
    int best = labels[0];
    for (int i = 1; i < k; i++) {
      if (sum[labels[i]] > sum[best]) {
        best = labels[i];
      }
    }
    return new Result(best, total > 0 ? sum[best] / total : 0.0);
  }

  @Test
  void badArgumentsAreRejected() {
    assertEquals("k must be at least 0: -1", assertThrows(IllegalArgumentException.class,
        () -> Votes.weightedMajority(new int[] {0}, -1, null)).getMessage());
    assertEquals("labels must be non-negative: -3", assertThrows(IllegalArgumentException.class,
        () -> Votes.weightedMajority(new int[] {-3}, 1, null)).getMessage());
    assertEquals("no class weight for label 2 (2 weights)", assertThrows(IllegalArgumentException.class,
        () -> Votes.weightedMajority(new int[] {2}, 1, new double[] {1, 1})).getMessage());
    assertEquals("class weights must be finite and non-negative: weight[1] = -0.5",
        assertThrows(IllegalArgumentException.class, () -> new Votes.Tally(new double[] {1, -0.5})).getMessage());
    assertEquals("class weights must be finite and non-negative: weight[0] = NaN",
        assertThrows(IllegalArgumentException.class, () -> new Votes.Tally(new double[] {Double.NaN})).getMessage());
  }
}
