package io.relabel.core.util;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class RowSeedsTest {

  @Test
  void sameInputsSameDraw() {
    assertEquals(RowSeeds.bits(7, "noise", 123L, 0), RowSeeds.bits(7, "noise", 123L, 0));
    assertEquals(RowSeeds.bits(7, "noise", 123, 0), RowSeeds.bits(7, "noise", 123L, 0));
  }

  @Test
  void seedStageIdAndDrawEachChangeTheDraw() {
    long base = RowSeeds.bits(7, "noise", 123L, 0);
    assertNotEquals(base, RowSeeds.bits(8, "noise", 123L, 0));
    assertNotEquals(base, RowSeeds.bits(7, "folds", 123L, 0));
    assertNotEquals(base, RowSeeds.bits(7, "noise", 124L, 0));
    assertNotEquals(base, RowSeeds.bits(7, "noise", 123L, 1));
    assertNotEquals(base, RowSeeds.bits(7, "noise", "123x", 0));
  }

  @Test
  void uniformIntIsRoughlyUniform() {
    int[] counts = new int[5];
    int n = 50_000;
    for (long id = 0; id < n; id++) {
      counts[RowSeeds.uniformInt(1, "folds", id, 0, 5)]++;
    }
    for (int c : counts) {
      assertTrue(Math.abs(c - n / 5) < 500, "fold sizes " + java.util.Arrays.toString(counts));
    }
  }
}
