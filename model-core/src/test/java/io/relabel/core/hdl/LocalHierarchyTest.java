package io.relabel.core.hdl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LocalHierarchyTest {

  private static final PurityRule RULE = new PurityRule(0.95, 5, null);

  @Test
  void splitsUntilLeavesAreSmallAndKeepsBlobsTogether() {
    Blobs b = Blobs.make(new int[] {120, 120, 120, 120}, 16, 0.2, 7);
    int[] none = new int[b.x.length];
    Arrays.fill(none, -1);
    int[][] paths = LocalHierarchy.split(b.x, none, 4, 130, RULE, 20, 42, 1);
    Map<String, Integer> sizes = new HashMap<>();
    Map<String, Set<Integer>> classes = new HashMap<>();
    for (int i = 0; i < paths.length; i++) {
      String leaf = LocalHierarchy.key(paths[i]);
      sizes.merge(leaf, 1, Integer::sum);
      classes.computeIfAbsent(leaf, l -> new HashSet<>()).add(b.truth[i]);
    }
    for (Map.Entry<String, Integer> e : sizes.entrySet()) {
      assertTrue(e.getValue() <= 130, "leaf " + e.getKey() + " has " + e.getValue() + " rows");
      assertEquals(1, classes.get(e.getKey()).size(), "leaf " + e.getKey() + " mixes blobs");
    }
    assertEquals(4, sizes.size());
  }

  @Test
  void aClusterWhoseLabeledMembersAgreeIsNotSplit() {
    Blobs b = Blobs.make(new int[] {100, 100}, 8, 0.2, 3);
    int[] labels = new int[b.x.length];
    Arrays.fill(labels, 0); // every labeled member says class 0
    int[][] paths = LocalHierarchy.split(b.x, labels, 2, 10, RULE, 20, 42, 1);
    for (int[] p : paths) {
      assertEquals(0, p.length);
    }
  }

  @Test
  void identicalRowsStayOneLeaf() {
    float[][] x = new float[50][];
    for (int i = 0; i < x.length; i++) {
      x[i] = new float[] {0.6f, 0.8f};
    }
    int[] none = new int[50];
    Arrays.fill(none, -1);
    int[][] paths = LocalHierarchy.split(x, none, 2, 10, RULE, 20, 42, 1);
    assertEquals(0, paths[0].length);
  }

  @Test
  void theSameSeedGivesTheSameTreeAndAnotherPathSeedMayNot() {
    Blobs b = Blobs.make(new int[] {80, 80, 80}, 8, 0.8, 11);
    int[] none = new int[b.x.length];
    Arrays.fill(none, -1);
    int[][] a = LocalHierarchy.split(b.x, none, 3, 20, RULE, 20, 42, 5);
    int[][] c = LocalHierarchy.split(b.x, none, 3, 20, RULE, 20, 42, 5);
    for (int i = 0; i < a.length; i++) {
      assertArrayEquals(a[i], c[i]);
    }
  }

  @Test
  void keysRoundTrip() {
    assertEquals("0110", LocalHierarchy.key(new int[] {0, 1, 1, 0}));
    assertArrayEquals(new int[] {1, 0}, LocalHierarchy.path("10"));
    assertArrayEquals(new int[] {}, LocalHierarchy.path(""));
  }
}
