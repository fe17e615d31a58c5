package io.relabel.core.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class NoisePlanTest {

  private static final int C = 10;

  /** Rows 0..n-1 with class (id * 7) mod C, in a given order and chunking. */
  private static InMemoryRows rows(List<Long> ids, int chunks) {
    return InMemoryRows.of(ids, id -> cls(id), chunks);
  }

  private static int cls(long id) {
    return (int) ((id * 7) % C);
  }

  private static List<Long> ids(int n) {
    List<Long> ids = new ArrayList<>();
    for (long i = 0; i < n; i++) {
      ids.add(i);
    }
    return ids;
  }

  /** The noisy class of each row (-1 for trusted rows). */
  private static int[] apply(NoisePlan plan, int n) {
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      long id = i;
      out[i] = plan.isTrusted(id) ? -1 : plan.noisyClass(id, cls(id));
    }
    return out;
  }

  private static NoiseSpec symmetric(double rate, long trusted, long seed) {
    return new NoiseSpec(NoiseType.SYMMETRIC, rate, trusted, seed, null);
  }

  @Test
  void symmetricNoiseFlipsExactlyRoundRateTimesN() {
    for (int n : new int[] {1, 7, 100, 999, 5000}) {
      for (double rate : new double[] {0.0, 0.1, 0.35, 0.4, 0.5, 0.8, 1.0}) {
        NoisePlan plan = NoisePlan.build(rows(ids(n), 3), symmetric(rate, 0, 42), C, 64);
        int[] out = apply(plan, n);
        long flipped = 0;
        for (int i = 0; i < n; i++) {
          if (out[i] != cls(i)) {
            flipped++;
          }
        }
        long expected = Math.round(rate * n);
        assertEquals(expected, flipped, "n " + n + ", rate " + rate);
        assertEquals(expected, plan.stats().flipped());
        assertEquals(n, plan.stats().noisy());
      }
    }
  }

  @Test
  void aFlippedLabelAlwaysChanges() {
    int n = 3000;
    NoisePlan plan = NoisePlan.build(rows(ids(n), 2), symmetric(1.0, 0, 3), C, 4096);
    int[] out = apply(plan, n);
    for (int i = 0; i < n; i++) {
      assertNotEquals(cls(i), out[i], "row " + i);
      assertTrue(out[i] >= 0 && out[i] < C);
    }
  }

  @Test
  void symmetricTargetsAreUniformOverTheOtherClasses() {
    // 27000 rows of class 3, all flipped: each of the 9 other classes should get about 3000.
    InMemoryRows r = new InMemoryRows(4);
    int n = 27000;
    for (long id = 0; id < n; id++) {
      r.add(id, 3);
    }
    NoisePlan plan = NoisePlan.build(r, symmetric(1.0, 0, 11), C, 4096);
    long[] counts = new long[C];
    for (long id = 0; id < n; id++) {
      counts[plan.noisyClass(id, 3)]++;
    }
    assertEquals(0, counts[3]);
    double expected = n / 9.0;
    double chi2 = 0;
    for (int c = 0; c < C; c++) {
      if (c != 3) {
        chi2 += (counts[c] - expected) * (counts[c] - expected) / expected;
      }
    }
    // 8 degrees of freedom: P(chi2 > 26.12) = 0.001
    assertTrue(chi2 < 26.12, "chi2 " + chi2 + " counts " + java.util.Arrays.toString(counts));
  }

  @Test
  void symmetricTargetNeverReturnsTheSourceAndCoversAllOthers() {
    for (int cls = 0; cls < 4; cls++) {
      boolean[] seen = new boolean[4];
      for (long id = 0; id < 500; id++) {
        int t = NoisePlan.symmetricTarget(5, id, cls, 4);
        assertNotEquals(cls, t);
        seen[t] = true;
      }
      for (int c = 0; c < 4; c++) {
        assertEquals(c != cls, seen[c], "class " + cls + " target " + c);
      }
    }
  }

  @Test
  void pairNoiseMovesExactlyRoundRateTimesNcOfEachSourceClass() {
    int n = 4321;
    int[] targets = PairMap.parse("0:6,6:0,2:4,4:2", List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"),
        "column 'label'");
    NoisePlan plan = NoisePlan.build(rows(ids(n), 5), new NoiseSpec(NoiseType.PAIR, 0.3, 0, 9, targets), C, 32);
    int[] out = apply(plan, n);
    long[] perClass = new long[C];
    long[] moved = new long[C];
    for (int i = 0; i < n; i++) {
      perClass[cls(i)]++;
      if (out[i] != cls(i)) {
        moved[cls(i)]++;
        assertEquals(targets[cls(i)], out[i], "row " + i);
      }
    }
    long total = 0;
    for (int c = 0; c < C; c++) {
      long expected = targets[c] >= 0 ? Math.round(0.3 * perClass[c]) : 0;
      assertEquals(expected, moved[c], "class " + c);
      assertEquals(expected, plan.stats().flippedPerSource()[c]);
      total += expected;
    }
    assertEquals(total, plan.stats().flipped());
    assertEquals((double) total / n, plan.stats().realErrorRate(), 1e-12);
  }

  @Test
  void trustedRowsAreExactAndNoiseIsExactAmongTheRest() {
    int n = 2000;
    NoisePlan plan = NoisePlan.build(rows(ids(n), 4), symmetric(0.4, 150, 1), C, 16);
    int[] out = apply(plan, n);
    long trusted = 0;
    long flipped = 0;
    for (int i = 0; i < n; i++) {
      if (out[i] < 0) {
        trusted++;
      } else if (out[i] != cls(i)) {
        flipped++;
      }
    }
    assertEquals(150, trusted);
    assertEquals(Math.round(0.4 * (n - 150)), flipped);
    assertEquals(1850, plan.stats().noisy());
    assertEquals(0.4, plan.stats().realErrorRate(), 1e-12);
  }

  @Test
  void sameSeedAndRowsGiveTheSamePlanInAnyOrderAndChunking() {
    int n = 3000;
    List<Long> shuffled = ids(n);
    Collections.shuffle(shuffled, new Random(5));
    int[] a = apply(NoisePlan.build(rows(ids(n), 1), symmetric(0.4, 100, 77), C, 8), n);
    int[] b = apply(NoisePlan.build(rows(shuffled, 7), symmetric(0.4, 100, 77), C, 8), n);
    int[] c = apply(NoisePlan.build(rows(shuffled, 3), symmetric(0.4, 100, 77), C, 4096), n);
    assertArrayEquals(a, b);
    assertArrayEquals(a, c);
    int[] other = apply(NoisePlan.build(rows(ids(n), 1), symmetric(0.4, 100, 78), C, 8), n);
    assertTrue(!java.util.Arrays.equals(a, other), "another seed gives another draw");
  }

  @Test
  void trustedSizeLargerThanTheRowsIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> NoisePlan.build(rows(ids(10), 1), symmetric(0.4, 11, 1), C, 8));
    assertEquals("trusted size 11 exceeds the 10 eligible rows", e.getMessage());
  }

  @Test
  void symmetricNoiseNeedsTwoClasses() {
    InMemoryRows r = new InMemoryRows(1).add(1L, 0).add(2L, 0);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> NoisePlan.build(r, symmetric(0.5, 0, 1), 1, 8));
    assertEquals("symmetric noise needs at least 2 classes, found 1", e.getMessage());
    // no flips asked: fine
    assertEquals(0, NoisePlan.build(r, symmetric(0.0, 0, 1), 1, 8).stats().flipped());
  }

  @Test
  void exactCountRoundsHalfUpInDecimal() {
    assertEquals(5, NoisePlan.exactCount(0.45, 10));
    assertEquals(2, NoisePlan.exactCount(0.5, 3));
    assertEquals(24000, NoisePlan.exactCount(0.4, 60000));
    assertEquals(7, NoisePlan.exactCount(0.35, 20));
    assertEquals(0, NoisePlan.exactCount(0.0, 100));
    assertEquals(100, NoisePlan.exactCount(1.0, 100));
  }

  // ---- labeled share

  private static NoiseSpec shared(NoiseType type, double rate, long trusted, double share, long seed, int[] targets) {
    return new NoiseSpec(type, rate, trusted, share, seed, targets);
  }

  @Test
  void aLabeledShareKeepsExactlyRoundShareTimesNStratifiedAndNoiseIsExactAmongThem() {
    int n = 5003;
    NoisePlan plan = NoisePlan.build(rows(ids(n), 4), shared(NoiseType.SYMMETRIC, 0.4, 100, 0.05, 3, null), C, 16);
    long[] nonTrusted = new long[C];
    long[] labeled = new long[C];
    long trusted = 0;
    long flipped = 0;
    for (long id = 0; id < n; id++) {
      int c = cls(id);
      if (plan.isTrusted(id)) {
        trusted++;
        assertTrue(plan.keepsLabel(id, c), "trusted rows keep their label");
        assertEquals(c, plan.noisyClass(id, c), "trusted rows are never flipped");
        continue;
      }
      nonTrusted[c]++;
      if (plan.keepsLabel(id, c)) {
        labeled[c]++;
        flipped += plan.noisyClass(id, c) != c ? 1 : 0;
      } else {
        assertEquals(c, plan.noisyClass(id, c), "rows without a label are never flipped");
      }
    }
    assertEquals(100, trusted);
    assertEquals(Math.round(0.05 * 4903), java.util.Arrays.stream(labeled).sum());
    assertArrayEquals(ClassQuotas.stratified(245, nonTrusted), labeled);
    assertArrayEquals(nonTrusted, plan.stats().nonTrustedPerClass());
    assertArrayEquals(labeled, plan.stats().noisyPerClass());
    assertEquals(Math.round(0.4 * 245), flipped);
    assertEquals(98, plan.stats().flipped());
    assertEquals(245, plan.stats().noisy());
    assertEquals(4903 - 245, plan.stats().unlabeled());
    assertEquals(345, plan.stats().labeled());
    assertEquals(0.4, plan.stats().realErrorRate(), 1e-12);
    assertEquals(98.0 / 345, plan.stats().labeledErrorRate(), 1e-12);
  }

  @Test
  void pairNoiseWithALabeledShareFlipsRoundRateTimesTheLabeledRowsOfEachClass() {
    int n = 4000;
    int[] targets = PairMap.parse("0:6,6:0", List.of("0", "1", "2", "3", "4", "5", "6", "7", "8", "9"), "test");
    NoisePlan plan = NoisePlan.build(rows(ids(n), 3), shared(NoiseType.PAIR, 0.5, 0, 0.1, 8, targets), C, 8);
    long[] labeled = new long[C];
    long[] moved = new long[C];
    for (long id = 0; id < n; id++) {
      int c = cls(id);
      if (plan.keepsLabel(id, c)) {
        labeled[c]++;
        if (plan.noisyClass(id, c) != c) {
          moved[c]++;
          assertEquals(targets[c], plan.noisyClass(id, c));
        }
      }
    }
    long[] expected = new long[C];
    java.util.Arrays.fill(expected, 40);
    assertArrayEquals(expected, labeled);
    assertEquals(20, moved[0]);
    assertEquals(20, moved[6]);
    assertEquals(40, plan.stats().flipped());
  }

  @Test
  void aLabeledShareOfZeroLeavesOnlyTheTrustedLabels() {
    int n = 1000;
    NoisePlan plan = NoisePlan.build(rows(ids(n), 2), shared(NoiseType.SYMMETRIC, 0.4, 30, 0.0, 1, null), C, 8);
    long labeled = 0;
    for (long id = 0; id < n; id++) {
      labeled += plan.keepsLabel(id, cls(id)) ? 1 : 0;
    }
    assertEquals(30, labeled);
    assertEquals(0, plan.stats().flipped());
    assertEquals(970, plan.stats().unlabeled());
  }

  @Test
  void theLabeledRowsDependOnSeedAndRowsOnly() {
    int n = 3000;
    List<Long> shuffled = ids(n);
    Collections.shuffle(shuffled, new Random(2));
    NoiseSpec spec = shared(NoiseType.SYMMETRIC, 0.3, 50, 0.02, 77, null);
    NoisePlan a = NoisePlan.build(rows(ids(n), 1), spec, C, 8);
    NoisePlan b = NoisePlan.build(rows(shuffled, 5), spec, C, 4096);
    NoisePlan other = NoisePlan.build(rows(ids(n), 1), shared(NoiseType.SYMMETRIC, 0.3, 50, 0.02, 78, null), C, 8);
    boolean differs = false;
    for (long id = 0; id < n; id++) {
      assertEquals(a.keepsLabel(id, cls(id)), b.keepsLabel(id, cls(id)), "row " + id);
      assertEquals(a.noisyClass(id, cls(id)), b.noisyClass(id, cls(id)), "row " + id);
      differs |= a.keepsLabel(id, cls(id)) != other.keepsLabel(id, cls(id));
    }
    assertTrue(differs, "another seed labels other rows");
  }

  @Test
  void aLabeledShareOutsideZeroToOneIsRefused() {
    assertEquals("labeled share must be in [0, 1]: 1.5", assertThrows(IllegalArgumentException.class,
        () -> shared(NoiseType.SYMMETRIC, 0.3, 0, 1.5, 1, null)).getMessage());
  }
}
