package io.relabel.core.privacy;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.core.config.Settings;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * RR_eps and RR-with-prior: the eps-DP inequality on the exact output probabilities, k* on hand-worked priors,
 * seeded draws against the exact probabilities, determinism, and the messages for unusable priors.
 */
class RandomizedResponseTest {

  static final double[] EPSILONS = {0.1, 0.5, 1.0, Math.log(3), 2.0, 4.0, 8.0};
  static final List<double[]> PRIORS = List.of(
      new double[] {0.25, 0.25, 0.25, 0.25},
      new double[] {0.7, 0.1, 0.1, 0.1},
      new double[] {0.0, 0.0, 1.0, 0.0},
      new double[] {0.4, 0.35, 0.2, 0.05},
      new double[] {3, 0, 1, 1},
      new double[] {0.05, 0.45, 0.05, 0.45});

  /** P(o | a) &le; e^eps P(o | b) for all labels a, b and outputs o, and every row of P sums to 1. */
  static void assertEpsDp(double eps, int classes, Probability p) {
    double bound = Math.exp(eps) * (1 + 1e-12);
    for (int a = 0; a < classes; a++) {
      double total = 0;
      for (int o = 0; o < classes; o++) {
        double pa = p.of(o, a);
        total += pa;
        for (int b = 0; b < classes; b++) {
          double pb = p.of(o, b);
          assertTrue(pa <= bound * pb, "eps " + eps + ": P(" + o + "|" + a + ") = " + pa + " > e^eps P(" + o + "|"
              + b + ") = " + pb);
        }
      }
      assertEquals(1.0, total, 1e-12, "probabilities of label " + a + " sum to 1");
    }
  }

  interface Probability {
    double of(int output, int label);
  }

  @Test
  void plainRrIsEpsDpAndTight() {
    for (double eps : EPSILONS) {
      for (int classes : new int[] {2, 4, 10}) {
        RandomizedResponse rr = new RandomizedResponse(eps, classes, 1);
        assertEpsDp(eps, classes, rr::probability);
        // the bound is met exactly: P(a | a) / P(a | b) = e^eps
        assertEquals(Math.exp(eps), rr.probability(0, 0) / rr.probability(0, 1), 1e-9 * Math.exp(eps));
        assertEquals(Math.exp(eps) / (Math.exp(eps) + classes - 1), rr.probability(1, 1), 1e-15);
      }
    }
  }

  @Test
  void rrWithPriorIsEpsDpForEveryPrior() {
    for (double eps : EPSILONS) {
      RandomizedResponse rr = new RandomizedResponse(eps, 4, 1);
      for (double[] prior : PRIORS) {
        assertEpsDp(eps, 4, (o, a) -> rr.probability(o, a, prior));
      }
    }
  }

  @Test
  void kStarOnHandWorkedPriors() {
    // p = (0.6, 0.3, 0.1), e^eps = 3: f(1) = 3/3 * 0.6 = 0.6; f(2) = 3/4 * 0.9 = 0.675; f(3) = 3/5 * 1 = 0.6 -> {0, 1}
    assertArrayEquals(new int[] {0, 1}, rr(Math.log(3), 3).support(new double[] {0.6, 0.3, 0.1}));
    // same p, e^eps = 9: f(1) = 0.6; f(2) = 9/10 * 0.9 = 0.81; f(3) = 9/11 * 1 = 0.818... -> all three
    assertArrayEquals(new int[] {0, 1, 2}, rr(Math.log(9), 3).support(new double[] {0.6, 0.3, 0.1}));
    // p = (0.1, 0.45, 0.45), e^eps = 3: order 1, 2 (tie, lower index first), 0; f(1) = 0.45; f(2) = 3/4 * 0.9 = 0.675;
    // f(3) = 3/5 = 0.6 -> {1, 2}
    assertArrayEquals(new int[] {1, 2}, rr(Math.log(3), 3).support(new double[] {0.1, 0.45, 0.45}));
    // p = (0.75, 0.25), e^eps = 3: f(1) = 0.75; f(2) = 3/4 * 1 = 0.75, a tie -> the smaller k, {0}
    assertArrayEquals(new int[] {0}, rr(Math.log(3), 2).support(new double[] {0.75, 0.25}));
    // p = (0.25, 0.75) mirrors it: the top class is 1
    assertArrayEquals(new int[] {1}, rr(Math.log(3), 2).support(new double[] {0.25, 0.75}));
    // uniform over 4, e^eps = 2: f(k) = 2/(k+1) * k/4 = 0.25, 0.333, 0.375, 0.4 -> all four (plain RR)
    assertArrayEquals(new int[] {0, 1, 2, 3}, rr(Math.log(2), 4).support(new double[] {1, 1, 1, 1}));
    // a point mass on class 2, eps = 1: f(1) = 1 > f(k) = e/(e+k-1) for k > 1 -> {2}
    assertArrayEquals(new int[] {2}, rr(1, 4).support(new double[] {0, 0, 1, 0}));
    // unnormalised (2, 1, 1) = (0.5, 0.25, 0.25), e^eps = 3: f(1) = 0.5; f(2) = 3/4 * 0.75 = 0.5625; f(3) = 0.6 -> all
    assertArrayEquals(new int[] {0, 1, 2}, rr(Math.log(3), 3).support(new double[] {2, 1, 1}));
  }

  @Test
  void drawsMatchTheExactProbabilities() {
    int n = 100_000;
    RandomizedResponse rr = new RandomizedResponse(1.0, 4, 42);
    double[] prior = {0.5, 0.3, 0.15, 0.05}; // e^1 = 2.718: f = 0.5, 0.585, 0.547, 0.475 -> Y_k = {0, 1}
    assertArrayEquals(new int[] {0, 1}, rr.support(prior));
    for (int label = 0; label < 4; label += 3) { // label 0 inside Y_k, label 3 outside
      int[] plain = new int[4];
      int[] withPrior = new int[4];
      for (long id = 0; id < n; id++) {
        plain[rr.privatise(id, label)]++;
        withPrior[rr.privatise(id, label, prior)]++;
      }
      for (int o = 0; o < 4; o++) {
        assertWithin(n, plain[o], rr.probability(o, label), "RR, label " + label + ", output " + o);
        assertWithin(n, withPrior[o], rr.probability(o, label, prior), "RR-prior, label " + label + ", output " + o);
      }
    }
  }

  /** The count is within 4 standard errors of n p (and exactly 0 where p is 0). */
  static void assertWithin(int n, int count, double p, String what) {
    double sd = Math.sqrt(n * p * (1 - p));
    assertTrue(Math.abs(count - n * p) <= 4 * sd, what + ": " + count + " of " + n + ", expected " + n * p
        + " +- " + 4 * sd);
  }

  @Test
  void drawsAreAPureFunctionOfSeedAndId() {
    RandomizedResponse a = new RandomizedResponse(0.5, 5, 7);
    RandomizedResponse b = new RandomizedResponse(0.5, 5, 7);
    RandomizedResponse other = new RandomizedResponse(0.5, 5, 8);
    double[] prior = {0.3, 0.3, 0.2, 0.1, 0.1};
    int differ = 0;
    for (long id = 0; id < 2_000; id++) {
      int label = (int) (id % 5);
      assertEquals(a.privatise(id, label), b.privatise(id, label));
      assertEquals(a.privatise(id, label, prior), b.privatise(id, label, prior));
      assertEquals(a.privatise("row-" + id, label), b.privatise("row-" + id, label));
      differ += a.privatise(id, label) != other.privatise(id, label) ? 1 : 0;
    }
    // int and long ids of the same value are the same row
    assertEquals(a.privatise(17L, 3), a.privatise(17, 3));
    assertTrue(differ > 500, "another seed changes many draws: " + differ);
  }

  @Test
  void rrWithPriorOutputsStayInsideTheTopK() {
    for (double eps : EPSILONS) {
      RandomizedResponse rr = new RandomizedResponse(eps, 4, 3);
      for (double[] prior : PRIORS) {
        List<Integer> top = java.util.Arrays.stream(rr.support(prior)).boxed().toList();
        for (long id = 0; id < 500; id++) {
          int out = rr.privatise(id, (int) (id % 4), prior);
          assertTrue(top.contains(out), "output " + out + " outside Y_k " + top);
        }
      }
    }
  }

  @Test
  void unusablePriorsAreNamedExactly() {
    RandomizedResponse rr = rr(1, 3);
    assertEquals("prior [0.5, -0.1, 0.6] has a negative entry -0.1",
        assertThrows(IllegalArgumentException.class, () -> rr.support(new double[] {0.5, -0.1, 0.6})).getMessage());
    assertEquals("prior [0.5, NaN, 0.5] has a non-finite entry NaN",
        assertThrows(IllegalArgumentException.class, () -> rr.support(new double[] {0.5, Double.NaN, 0.5}))
            .getMessage());
    assertEquals("prior [0.5, 0.5, Infinity] has a non-finite entry Infinity", assertThrows(
        IllegalArgumentException.class, () -> rr.support(new double[] {0.5, 0.5, Double.POSITIVE_INFINITY}))
        .getMessage());
    assertEquals("prior [0.0, 0.0, 0.0] has no positive entry",
        assertThrows(IllegalArgumentException.class, () -> rr.support(new double[] {0, 0, 0})).getMessage());
    assertEquals("prior [0.2, 0.8] has 2 entries, expected 3 (one per class)",
        assertThrows(IllegalArgumentException.class, () -> rr.support(new double[] {0.2, 0.8})).getMessage());
    assertEquals("prior [1.0E308, 1.0E308, 0.0] sums to Infinity",
        assertThrows(IllegalArgumentException.class, () -> rr.support(new double[] {1e308, 1e308, 0})).getMessage());
    assertEquals("prior [0.5, -0.1, 0.6] has a negative entry -0.1",
        assertThrows(IllegalArgumentException.class, () -> rr.probability(0, 0, new double[] {0.5, -0.1, 0.6}))
            .getMessage());
    // boxed entries are shown as given: floats without double noise, nulls named
    assertEquals("prior [0.5, -0.1, 0.6] has a negative entry -0.1",
        RandomizedResponse.priorProblem(new Number[] {0.5f, -0.1f, 0.6f}, 3));
    assertEquals("prior [0.5, null, 0.5] has a null entry",
        RandomizedResponse.priorProblem(new Number[] {0.5, null, 0.5}, 3));
    assertEquals("prior [1] has 1 entry, expected 3 (one per class)",
        RandomizedResponse.priorProblem(new Number[] {1}, 3));
    assertNull(RandomizedResponse.priorProblem(new Number[] {0, 2, 0.0f}, 3));
    assertEquals("label 3 is outside [0, 3)",
        assertThrows(IllegalArgumentException.class, () -> rr.privatise(1L, 3)).getMessage());
  }

  @Test
  void specFromSettings() {
    PrivacySpec off = PrivacySpec.from(Settings.defaults());
    assertFalse(off.enabled());
    assertEquals(PrivacySpec.Mechanism.OFF, off.mechanism());
    assertNull(off.priorCol());
    PrivacySpec prior = PrivacySpec.from(Settings.defaults().with(Map.of("relabel.privacy.mechanism", "rr-prior",
        "relabel.privacy.priorCol", "prior_p", "relabel.privacy.epsilon", "1.5")));
    assertTrue(prior.enabled());
    assertEquals(PrivacySpec.Mechanism.RR_PRIOR, prior.mechanism());
    assertEquals("prior_p", prior.priorCol());
    assertEquals(1.5, prior.epsilon());
    assertEquals(PrivacySpec.Mechanism.LP_2ST, PrivacySpec.from(Settings.defaults()
        .with(Map.of("relabel.privacy.mechanism", "lp-2st"))).mechanism());
    assertEquals("relabel.privacy.mechanism=rr-prior reads each row's prior from relabel.privacy.priorCol, which is"
        + " empty; name the prior column or choose rr or lp-2st", assertThrows(IllegalArgumentException.class,
            () -> PrivacySpec.from(Settings.defaults().with(Map.of("relabel.privacy.mechanism", "rr-prior"))))
        .getMessage());
  }

  static RandomizedResponse rr(double eps, int classes) {
    return new RandomizedResponse(eps, classes, 1);
  }
}
