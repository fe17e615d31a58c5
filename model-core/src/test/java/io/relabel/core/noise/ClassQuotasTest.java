package io.relabel.core.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

class ClassQuotasTest {

  @Test
  void longTailOfTenBalancedClassesAtRatioHundred() {
    long[] sizes = new long[10];
    Arrays.fill(sizes, 6000);
    // 6000 * 100^(-c/9), rounded: the CIFAR-10-LT shape on Fashion-MNIST's training split
    assertArrayEquals(new long[] {6000, 3597, 2156, 1293, 775, 465, 278, 167, 100, 60},
        ClassQuotas.longTail(sizes, 100));
  }

  @Test
  void longTailDecaysFromTheLargestClassAndNeverGrowsAClass() {
    // n_max = 1000 (class 2); class c's target is 1000 * 10^(-c/4)
    long[] sizes = {400, 900, 1000, 50, 120};
    assertArrayEquals(new long[] {400, 562, 316, 50, 100}, ClassQuotas.longTail(sizes, 10));
  }

  @Test
  void longTailRatioOneKeepsEverything() {
    long[] sizes = {5, 0, 7, 1};
    assertArrayEquals(sizes, ClassQuotas.longTail(sizes, 1));
  }

  @Test
  void longTailKeepsOneRowOfEveryNonEmptyClassAndNoneOfAnEmptyOne() {
    assertArrayEquals(new long[] {100, 1, 0, 1}, ClassQuotas.longTail(new long[] {100, 100, 0, 100}, 1e6));
    assertArrayEquals(new long[] {42}, ClassQuotas.longTail(new long[] {42}, 100));
  }

  @Test
  void longTailRatioBelowOneIsRefused() {
    assertEquals("long-tail ratio must be at least 1: 0.5", assertThrows(IllegalArgumentException.class,
        () -> ClassQuotas.longTail(new long[] {1, 2}, 0.5)).getMessage());
  }

  @Test
  void stratifiedGivesOnePerClassThenSharesTheRestByLargestRemainder() {
    // 10 classes of 6000: 1% is 600, 60 each
    long[] sizes = new long[10];
    Arrays.fill(sizes, 6000);
    long[] expected = new long[10];
    Arrays.fill(expected, 60);
    assertArrayEquals(expected, ClassQuotas.stratified(600, sizes));
    // 1 each, then 7 more by (size - 1) = 99, 49, 9, 0: quotas 4.62, 2.29, 0.42, 0 -> 4, 2, 0, 0 and one to the
    // largest remainder (class 0)
    assertArrayEquals(new long[] {6, 3, 1, 1}, ClassQuotas.stratified(11, new long[] {100, 50, 10, 1}));
  }

  @Test
  void stratifiedTakesFromTheLargestClassesWhenThereAreFewerRowsThanClasses() {
    assertArrayEquals(new long[] {0, 1, 0, 1, 0}, ClassQuotas.stratified(2, new long[] {3, 9, 0, 9, 8}));
    assertArrayEquals(new long[] {0, 0, 0}, ClassQuotas.stratified(0, new long[] {3, 9, 2}));
  }

  @Test
  void stratifiedCountsAreExactBoundedAndCoverEveryClass() {
    Random r = new Random(3);
    for (int trial = 0; trial < 500; trial++) {
      long[] sizes = new long[1 + r.nextInt(30)];
      long rows = 0;
      int nonEmpty = 0;
      for (int c = 0; c < sizes.length; c++) {
        sizes[c] = r.nextInt(4) == 0 ? 0 : r.nextInt(5000);
        rows += sizes[c];
        nonEmpty += sizes[c] > 0 ? 1 : 0;
      }
      long total = rows == 0 ? 0 : (long) (r.nextDouble() * (rows + 1));
      long[] out = ClassQuotas.stratified(total, sizes);
      assertEquals(total, Arrays.stream(out).sum(), Arrays.toString(sizes) + " " + total);
      for (int c = 0; c < sizes.length; c++) {
        assertTrue(out[c] >= 0 && out[c] <= sizes[c], "class " + c);
        if (total >= nonEmpty && sizes[c] > 0) {
          assertTrue(out[c] >= 1, "class " + c + " keeps a label");
          // within one of its proportional quota beyond the guaranteed one
          double quota = 1 + (double) (total - nonEmpty) * (sizes[c] - 1) / (rows - nonEmpty);
          assertTrue(Math.abs(out[c] - quota) < 1 + 1e-9, "class " + c + ": " + out[c] + " vs " + quota);
        }
      }
    }
  }

  @Test
  void stratifiedRefusesMoreRowsThanThereAre() {
    assertEquals("cannot take 11 of 10 rows", assertThrows(IllegalArgumentException.class,
        () -> ClassQuotas.stratified(11, new long[] {4, 6})).getMessage());
  }
}
