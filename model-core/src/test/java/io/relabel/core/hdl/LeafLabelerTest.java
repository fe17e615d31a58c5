package io.relabel.core.hdl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.core.knn.AdaptiveK;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class LeafLabelerTest {

  private static LeafLabeler.Spec spec(LeafLabeler.Mode mode, int k, double rho, boolean fill) {
    return new LeafLabeler.Spec(mode, k, rho, 0.5, 0.1, 10, fill);
  }

  private static int[] none(int n) {
    int[] a = new int[n];
    Arrays.fill(a, -1);
    return a;
  }

  @Test
  void fillsUnlabeledRowsFromTheirLabeledNeighbours() {
    Blobs b = Blobs.make(new int[] {60, 60, 60}, 12, 0.3, 5);
    int n = b.x.length;
    int[] given = none(n);
    for (int i = 0; i < n; i += 10) {
      given[i] = b.truth[i]; // 10% labeled
    }
    LeafLabeler.Outcome o = LeafLabeler.label(b.x, given, none(n), new double[n], null,
        spec(LeafLabeler.Mode.FILL, 3, 0.8, false));
    int correct = 0;
    for (int i = 0; i < n; i++) {
      assertTrue(o.label()[i] >= 0, "row " + i + " undecided");
      correct += o.label()[i] == b.truth[i] ? 1 : 0;
      if (given[i] >= 0) {
        assertEquals(0, o.round()[i]);
        assertEquals(1.0, o.confidence()[i]);
      }
    }
    assertEquals(n, correct);
  }

  /**
   * A chain on a circle arc: only the first point is labeled and k = 1. Round r can only reach the r-th point, so
   * labels must travel through the dynamic rounds, one hop per round.
   */
  @Test
  void rowsLabeledInARoundVoteInTheNext() {
    int n = 6;
    float[][] x = new float[n][];
    for (int i = 0; i < n; i++) {
      double a = i * 0.3;
      x[i] = new float[] {(float) Math.cos(a), (float) Math.sin(a)};
    }
    int[] given = none(n);
    given[0] = 1;
    LeafLabeler.Outcome o = LeafLabeler.label(x, given, none(n), new double[n], null,
        new LeafLabeler.Spec(LeafLabeler.Mode.FILL, 1, 0.9, 0.5, 0.1, 10, false));
    assertArrayEquals(new int[] {1, 1, 1, 1, 1, 1}, o.label());
    // row 1 is nearest to row 0 and is decided in round 1; every row is decided in some round of its own
    assertEquals(0, o.round()[0]);
    assertEquals(1, o.round()[1]);
    for (int i = 2; i < n; i++) {
      assertTrue(o.round()[i] >= o.round()[i - 1], Arrays.toString(o.round()));
    }
  }

  @Test
  void anAmbiguousRowWaitsForRelaxationThenStaysUndecidedOrIsFilled() {
    // row 2 sits exactly between a class-0 row and a class-1 row: a 2-vote tie (agreement 0.5)
    float[][] x = {{1, 0}, {0, 1}, {(float) Math.sqrt(0.5), (float) Math.sqrt(0.5)}};
    int[] given = {0, 1, -1};
    LeafLabeler.Outcome strict = LeafLabeler.label(x, given, none(3), new double[3], null,
        new LeafLabeler.Spec(LeafLabeler.Mode.FILL, 2, 0.8, 0.6, 0.1, 10, false));
    assertEquals(-1, strict.label()[2]);
    LeafLabeler.Outcome relaxed = LeafLabeler.label(x, given, none(3), new double[3], null,
        new LeafLabeler.Spec(LeafLabeler.Mode.FILL, 2, 0.8, 0.5, 0.1, 10, false));
    assertEquals(0.5, relaxed.confidence()[2], 1e-12);
    assertTrue(relaxed.round()[2] >= 4, "decided only after relaxing 0.8 -> 0.5: round " + relaxed.round()[2]);
    LeafLabeler.Outcome filled = LeafLabeler.label(x, given, none(3), new double[3], null,
        new LeafLabeler.Spec(LeafLabeler.Mode.FILL, 2, 0.8, 0.6, 0.1, 10, true));
    assertTrue(filled.label()[2] >= 0);
    assertEquals(0.5, filled.confidence()[2], 1e-12);
  }

  @Test
  void noiseModeCorrectsAFlippedLabelAndKeepsTheRest() {
    Blobs b = Blobs.make(new int[] {40, 40}, 8, 0.2, 9);
    int n = b.x.length;
    int[] given = b.truth.clone();
    given[3] = 1 - given[3];
    given[50] = 1 - given[50];
    LeafLabeler.Outcome o = LeafLabeler.label(b.x, given, none(n), new double[n], null,
        spec(LeafLabeler.Mode.NOISE, 5, 0.8, true));
    assertArrayEquals(b.truth, o.label());
    assertTrue(o.round()[3] >= 1);
    assertEquals(1, o.round()[0]);
  }

  @Test
  void presetClusterLabelsAreKeptAndVote() {
    float[][] x = {{1, 0}, {0.99f, 0.14f}};
    int[] preset = {2, -1};
    LeafLabeler.Outcome o = LeafLabeler.label(x, none(2), preset, new double[] {0.97, 0}, null,
        spec(LeafLabeler.Mode.NOISE, 1, 0.8, false));
    assertArrayEquals(new int[] {2, 2}, o.label());
    assertEquals(0.97, o.confidence()[0]);
    assertEquals(0, o.round()[0]);
  }

  @Test
  void inverseFrequencyWeightsTipAVoteTowardsTheRareClass() {
    // three neighbours: two of the frequent class 0, one of the rare class 1 (weight 3)
    float[][] x = {{1, 0}, {0.99f, 0.1f}, {0.98f, -0.2f}, {0.97f, 0.24f}};
    int[] given = {-1, 0, 0, 1};
    LeafLabeler.Spec s = new LeafLabeler.Spec(LeafLabeler.Mode.FILL, 3, 0.55, 0.55, 0.1, 1, false);
    assertEquals(0, LeafLabeler.label(x, given, none(4), new double[4], null, s).label()[0]);
    assertEquals(1, LeafLabeler.label(x, given, none(4), new double[4], new double[] {1, 3}, s).label()[0]);
  }

  @Test
  void leaveOneOutStatisticsCountOnlyLabeledMembers() {
    Blobs b = Blobs.make(new int[] {30, 30}, 8, 0.2, 4);
    int n = b.x.length;
    boolean[] member = new boolean[n];
    for (int i = 0; i < n; i++) {
      member[i] = i % 2 == 0;
    }
    AdaptiveK.Stats s = LeafLabeler.looStats(b.x, b.truth, member, null, 5);
    assertEquals(n / 2, s.rows());
    assertEquals(0, s.notPure(5)); // separated blobs: every neighbourhood is pure
    assertEquals(n / 2, s.looCorrect(1));
  }

  @Test
  void theConfidenceCountsMoreNeighboursThanTheKThatVote() {
    // neighbours of row 0 by similarity: a class-0 row, then two class-1 rows
    float[][] x = {{1, 0}, {0.99f, 0.14f}, {0.95f, 0.31f}, {0.9f, 0.44f}};
    int[] given = {-1, 0, 1, 1};
    LeafLabeler.Outcome o = LeafLabeler.label(x, given, none(4), new double[4], null,
        new LeafLabeler.Spec(LeafLabeler.Mode.FILL, 1, 0.8, 0.5, 0.1, 10, false, 3));
    assertEquals(0, o.label()[0]);
    assertEquals(1.0 / 3, o.confidence()[0], 1e-12);
  }
}
