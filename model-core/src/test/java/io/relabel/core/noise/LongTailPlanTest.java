package io.relabel.core.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class LongTailPlanTest {

  private static final int C = 5;

  /** 5000 rows, 1000 per class, ids 3k+1, in the given order and chunking. */
  private static InMemoryRows rows(List<Long> ids, int chunks) {
    return InMemoryRows.of(ids, id -> cls(id), chunks);
  }

  private static int cls(long id) {
    return (int) (((id - 1) / 3) % C);
  }

  private static List<Long> ids() {
    List<Long> ids = new ArrayList<>();
    for (long k = 0; k < 5000; k++) {
      ids.add(3 * k + 1);
    }
    return ids;
  }

  private static List<Long> kept(LongTailPlan plan) {
    List<Long> out = new ArrayList<>();
    for (long id : ids()) {
      if (plan.test(id, cls(id))) {
        out.add(id);
      }
    }
    return out;
  }

  @Test
  void keepsExactlyTheDecayingClassSizes() {
    LongTailPlan plan = LongTailPlan.build(rows(ids(), 3), 50, 42, C, 16);
    long[] expected = {1000, 376, 141, 53, 20};
    assertArrayEquals(expected, plan.kept());
    assertArrayEquals(new long[] {1000, 1000, 1000, 1000, 1000}, plan.before());
    long[] perClass = new long[C];
    for (long id : kept(plan)) {
      perClass[cls(id)]++;
    }
    assertArrayEquals(expected, perClass);
    assertEquals(1590, plan.keptTotal());
  }

  @Test
  void theSubsampleDependsOnSeedAndRowsOnly() {
    List<Long> shuffled = ids();
    Collections.shuffle(shuffled, new Random(9));
    List<Long> a = kept(LongTailPlan.build(rows(ids(), 1), 100, 7, C, 8));
    List<Long> b = kept(LongTailPlan.build(rows(shuffled, 6), 100, 7, C, 4096));
    assertEquals(a, b);
    assertNotEquals(a, kept(LongTailPlan.build(rows(ids(), 1), 100, 8, C, 8)));
  }

  @Test
  void laterDrawsSeeOnlyTheKeptRows() {
    InMemoryRows all = rows(ids(), 4);
    LongTailPlan tail = LongTailPlan.build(all, 50, 42, C, 16);
    NoisePlan plan = NoisePlan.build(all.where(tail), new NoiseSpec(NoiseType.SYMMETRIC, 0.5, 10, 42, null), C, 16);
    assertEquals(1590, plan.stats().eligible());
    assertEquals(Math.round(0.5 * 1580), plan.stats().flipped());
    long flipped = 0;
    for (long id : kept(tail)) {
      if (!plan.isTrusted(id) && plan.noisyClass(id, cls(id)) != cls(id)) {
        flipped++;
      }
    }
    assertEquals(790, flipped);
  }
}
