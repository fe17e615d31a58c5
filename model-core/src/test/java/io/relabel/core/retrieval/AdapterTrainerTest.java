package io.relabel.core.retrieval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.core.retrieval.AdapterTrainer.Triples;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Local training on synthetic triples whose margins a known linear map gives: m = (Aq)·(Ap) − (Aq)·(An) with
 * A = I + 0.5·R/√dim (or the cosines of the mapped rows, for a normalising adapter). A LINEAR adapter can represent
 * the map exactly, an MLP one approximately; either should drive MarginMSE far down.
 */
class AdapterTrainerTest {

  private static final int DIM = 16;
  private static final int ROWS = 256;

  /** Triples of random base embeddings with the map's margins. */
  static Triples synthetic(long seed, int rows, boolean cosine) {
    Random rng = new Random(seed);
    double[] a = Rand.gaussians(new Random(99), DIM * DIM, 0.5 / Math.sqrt(DIM));
    for (int i = 0; i < DIM; i++) {
      a[i * DIM + i] += 1;
    }
    float[] q = Rand.floats(rng, rows * DIM, 1 / Math.sqrt(DIM));
    float[] p = Rand.floats(rng, rows * DIM, 1 / Math.sqrt(DIM));
    float[] n = Rand.floats(rng, rows * DIM, 1 / Math.sqrt(DIM));
    float[] m = new float[rows];
    for (int r = 0; r < rows; r++) {
      double[] aq = map(a, q, r, cosine);
      double[] ap = map(a, p, r, cosine);
      double[] an = map(a, n, r, cosine);
      double margin = 0;
      for (int j = 0; j < DIM; j++) {
        margin += aq[j] * (ap[j] - an[j]);
      }
      m[r] = (float) margin;
    }
    return new Triples(rows, DIM, q, p, n, m);
  }

  private static double[] map(double[] a, float[] x, int row, boolean normalise) {
    double[] y = new double[DIM];
    double norm = 0;
    for (int i = 0; i < DIM; i++) {
      for (int j = 0; j < DIM; j++) {
        y[i] += a[i * DIM + j] * x[row * DIM + j];
      }
      norm += y[i] * y[i];
    }
    if (normalise) {
      for (int i = 0; i < DIM; i++) {
        y[i] /= Math.sqrt(norm);
      }
    }
    return y;
  }

  /** MarginMSE of the adapter in {@code state} over a whole shard. */
  static double shardLoss(AdapterTrainer t, double[] state, Triples s) {
    return MarginMse.loss(t.adapter(state), rows(s.q(), s), rows(s.p(), s), rows(s.n(), s),
        Nd4j.createFromArray(s.margin()));
  }

  private static INDArray rows(float[] x, Triples s) {
    return Nd4j.create(x, new long[] {s.rows(), s.dim()}, 'c');
  }

  private static AdapterTrainer trainer(AdapterSpec spec, long total) {
    return new AdapterTrainer(spec, DIM, 32, new AdamW(1e-2, 10, total, 0.01));
  }

  @ParameterizedTest
  @CsvSource({"LINEAR, false", "MLP, true"})
  void lossFallsOnMarginsOfAKnownMap(AdapterSpec.Kind kind, boolean normalise) {
    Triples shard = synthetic(1, ROWS, normalise);
    AdapterTrainer t = trainer(new AdapterSpec(kind, 32, normalise), 300);
    double[] start = t.initState(5);
    double before = shardLoss(t, start, shard);
    AdapterTrainer.Result r = t.run(start, shard, 7, 0, 0, 300);
    double after = shardLoss(t, r.state(), shard);
    assertTrue(after < 0.01 * before, kind + ": MarginMSE " + before + " -> " + after);
    assertTrue(r.meanLoss() < before, "mean loss over the run " + r.meanLoss() + " vs " + before);
  }

  @Test
  void theSameArgumentsGiveTheSameBitsAndRunsSplitFreely() {
    Triples shard = synthetic(2, 100, false);
    AdapterTrainer t = trainer(new AdapterSpec(AdapterSpec.Kind.MLP, 8, true), 100);
    double[] start = t.initState(3);
    double[] copy = start.clone();
    AdapterTrainer.Result a = t.run(start, shard, 11, 2, 0, 20);
    AdapterTrainer.Result b = t.run(start, shard, 11, 2, 0, 20);
    assertArrayEquals(copy, start, "run must not change the state it is given");
    assertArrayEquals(a.state(), b.state());
    assertEquals(Double.doubleToLongBits(a.meanLoss()), Double.doubleToLongBits(b.meanLoss()));
    // 100 rows and B = 32: the 20 steps cross six epochs of the walk; cutting the run at step 7 changes nothing
    double[] split = t.run(t.run(start, shard, 11, 2, 0, 7).state(), shard, 11, 2, 7, 13).state();
    assertArrayEquals(a.state(), split);
  }

  @Test
  void anotherPartitionOrSeedDrawsOtherBatches() {
    Triples shard = synthetic(2, 100, false);
    AdapterTrainer t = trainer(new AdapterSpec(AdapterSpec.Kind.LINEAR, 0, false), 100);
    double[] start = t.initState(3);
    double[] base = t.run(start, shard, 11, 2, 0, 15).state();
    assertFalse(Arrays.equals(base, t.run(start, shard, 11, 3, 0, 15).state()), "another partition");
    assertFalse(Arrays.equals(base, t.run(start, shard, 12, 2, 0, 15).state()), "another seed");
    assertFalse(Arrays.equals(base, t.run(start, shard, 11, 2, 1, 15).state()), "another first step");
  }

  /**
   * What the driver does: two partitions run the same steps from one state on their own shards, and the states are
   * averaged element-wise. The average holds the mean parameters (and moments), and it trains on.
   */
  @Test
  void averagedStatesAreStatesToo() {
    Triples s1 = synthetic(3, 128, false);
    Triples s2 = synthetic(4, 128, false);
    AdapterTrainer t = trainer(new AdapterSpec(AdapterSpec.Kind.LINEAR, 0, false), 200);
    int params = t.stateLength() / 3;
    double[] start = t.initState(1);
    double[] a = t.run(start, s1, 9, 0, 0, 50).state();
    double[] b = t.run(start, s2, 9, 1, 0, 50).state();
    double[] avg = new double[a.length];
    for (int i = 0; i < avg.length; i++) {
      avg[i] = (a[i] + b[i]) / 2;
    }
    double[] pa = t.adapter(a).paramsCopy();
    double[] pb = t.adapter(b).paramsCopy();
    double[] pAvg = t.adapter(avg).paramsCopy();
    for (int i = 0; i < params; i++) {
      assertEquals((pa[i] + pb[i]) / 2, pAvg[i], 1e-6, "parameter " + i);
    }
    assertTrue(Arrays.stream(avg, 2 * params, 3 * params).allMatch(v -> v >= 0), "second moments stay >= 0");
    assertTrue(Arrays.stream(avg, params, 2 * params).anyMatch(v -> v != 0), "first moments were averaged too");
    double before = shardLoss(t, start, s1);
    double averaged = shardLoss(t, avg, s1);
    assertTrue(averaged < 0.5 * before, "average " + averaged + " vs start " + before);
    double[] next = t.run(avg, s1, 9, 0, 50, 50).state();
    assertTrue(shardLoss(t, next, s1) < averaged, "training goes on from the average");
  }

  @Test
  void badTriplesAndRunsAreRefused() {
    float[] six = new float[6];
    assertEquals("triples: p has 5 values, expected 2 rows x 3 = 6", assertThrows(IllegalArgumentException.class,
        () -> new Triples(2, 3, six, new float[5], six, new float[2])).getMessage());
    assertEquals("triples: margin has 3 values, expected one per row (2)",
        assertThrows(IllegalArgumentException.class, () -> new Triples(2, 3, six, six, six, new float[3]))
            .getMessage());
    assertEquals("triples: n has no values, expected 2 rows x 3 = 6", assertThrows(IllegalArgumentException.class,
        () -> new Triples(2, 3, six, six, null, new float[2])).getMessage());

    AdapterTrainer t = trainer(new AdapterSpec(AdapterSpec.Kind.LINEAR, 0, false), 10);
    double[] s = t.initState(0);
    assertEquals("adapter of dimension 16 cannot train on triples of dimension 3",
        assertThrows(IllegalArgumentException.class, () -> t.run(s, new Triples(2, 3, six, six, six, new float[2]),
            0, 0, 0, 1)).getMessage());
    Triples empty = new Triples(0, DIM, new float[0], new float[0], new float[0], new float[0]);
    assertEquals("partition 4 has no triples to train on",
        assertThrows(IllegalArgumentException.class, () -> t.run(s, empty, 0, 4, 0, 1)).getMessage());
    assertEquals("adapter state of length 3, expected 816 (3 x 272 parameters)",
        assertThrows(IllegalArgumentException.class, () -> t.adapter(new double[3])).getMessage());
  }
}
