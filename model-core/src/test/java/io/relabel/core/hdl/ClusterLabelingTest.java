package io.relabel.core.hdl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class ClusterLabelingTest {

  private static final PurityRule RULE = new PurityRule(0.9, 5, null);

  /**
   * A constructed hierarchy of depth 3:
   * <pre>
   *            root
   *        0          1
   *     00   01    10    11
   *         010 011
   * </pre>
   * Node 0 sums to 19 of class 0 and 1 of class 1 (purity 0.95): it decides leaves 00, 010, 011 at level 1 even though
   * leaf 011 alone is impure. Node 1 is mixed; its child 10 is pure (level 2), 11 is impure and too small, so it
   * goes undecided to the leaf kNN.
   */
  @Test
  void labelsTopDownFromTheHighestPureCluster() {
    Map<String, long[]> leaves = new TreeMap<>();
    leaves.put("00", new long[] {10, 0, 0});
    leaves.put("010", new long[] {6, 0, 0});
    leaves.put("011", new long[] {3, 1, 0});
    leaves.put("10", new long[] {0, 0, 12});
    leaves.put("11", new long[] {0, 2, 1});
    Map<String, ClusterLabeling.Decision> d = ClusterLabeling.decide(leaves, 3, RULE);
    assertEquals(new ClusterLabeling.Decision(0, 0.95, 1), d.get("00"));
    assertEquals(new ClusterLabeling.Decision(0, 0.95, 1), d.get("010"));
    assertEquals(new ClusterLabeling.Decision(0, 0.95, 1), d.get("011"));
    assertEquals(new ClusterLabeling.Decision(2, 1.0, 2), d.get("10"));
    assertFalse(d.containsKey("11"));
    assertEquals(4, d.size());
  }

  @Test
  void supportBelowTheMinimumDecidesNothing() {
    Map<String, long[]> leaves = new TreeMap<>();
    leaves.put("0", new long[] {4, 0});
    leaves.put("1", new long[] {0, 4});
    assertEquals(Map.of(), ClusterLabeling.decide(leaves, 2, RULE));
  }

  @Test
  void theRootNeverDecides() {
    Map<String, long[]> leaves = new TreeMap<>();
    leaves.put("", new long[] {50, 0});
    assertEquals(Map.of(), ClusterLabeling.decide(leaves, 2, RULE));
  }

  @Test
  void inverseFrequencyWeightsLetARareClassOutweighAFewMislabeledRows() {
    // class 1 is rare overall (weight 10): 9 rows of it and 2 of class 0 give a weighted purity 90 / 92
    Map<String, long[]> leaves = new TreeMap<>();
    leaves.put("0", new long[] {2, 9});
    leaves.put("1", new long[] {100, 0});
    PurityRule weighted = new PurityRule(0.9, 5, new double[] {1.0, 10.0});
    assertEquals(1, ClusterLabeling.decide(leaves, 2, weighted).get("0").label());
    assertFalse(ClusterLabeling.decide(leaves, 2, RULE).containsKey("0"));
  }

  @Test
  void countsOfTheWrongWidthAreRefused() {
    Map<String, long[]> leaves = Map.of("0", new long[] {1, 2, 3});
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ClusterLabeling.decide(leaves, 2, RULE));
    assertEquals("leaf 0 has 3 counts, expected 2", e.getMessage());
  }

  @Test
  void purityOutsideItsRangeIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new PurityRule(0.5, 1, null));
    assertEquals("purity must be in (0.5, 1], got 0.5", e.getMessage());
  }

  @Test
  void theFallbackIsTheMajorityOfTheDeepestLabeledAncestor() {
    Map<String, long[]> leaves = new TreeMap<>();
    leaves.put("00", new long[] {0, 0}); // no labels: its parent "0" has them through "01"
    leaves.put("01", new long[] {1, 3});
    leaves.put("10", new long[] {0, 0}); // no labels down to the root, which has 1 + 0 vs 3 + 2
    leaves.put("11", new long[] {0, 2});
    Map<String, ClusterLabeling.Decision> f = ClusterLabeling.fallback(leaves, 2, null);
    assertEquals(new ClusterLabeling.Decision(1, 0.75, 1), f.get("00"));
    assertEquals(new ClusterLabeling.Decision(1, 0.75, 2), f.get("01"));
    assertEquals(new ClusterLabeling.Decision(1, 1.0, 1), f.get("10"));
    assertEquals(new ClusterLabeling.Decision(1, 1.0, 2), f.get("11"));
  }
}
