package io.relabel.core.retrieval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class AdamWTest {

  @Test
  void warmupLinearSchedule() {
    AdamW o = new AdamW(1e-3, 10, 110, 0.01);
    assertEquals(0.0, o.learningRate(0));
    assertEquals(5e-4, o.learningRate(5), 1e-18);
    assertEquals(1e-3, o.learningRate(10), 1e-18); // the peak: warm-up ends, decay starts from lr
    assertEquals(5e-4, o.learningRate(60), 1e-18); // (110 − 60) / (110 − 10) = 0.5
    assertEquals(1e-5, o.learningRate(109), 1e-18);
    assertEquals(0.0, o.learningRate(110));
    assertEquals(0.0, o.learningRate(500), "past the end the rate stays 0, not negative");
    assertEquals(2e-5, new AdamW(2e-5, 0, 100, 0).learningRate(0), 1e-20, "no warm-up starts at the peak");
  }

  /**
   * lr 0.01, warm-up 1 and T = 11, so η_1 = 0.01; λ = 0.1; step 1, so t = 2; θ = (1, 0.5) with only the first
   * decayed; m = (0.2, −0.1), v = (0.04, 0.01), g = (0.5, −1):
   * <pre>
   *  m = 0.9·(0.2, −0.1) + 0.1·(0.5, −1)        = (0.23, −0.19)
   *  v = 0.999·(0.04, 0.01) + 0.001·(0.25, 1)   = (0.04021, 0.01099)
   *  step size = 0.01·√(1 − 0.999²)/(1 − 0.9²) = 0.01·0.0447102/0.19 = 0.00235316725
   *  θ1 = 1 − 0.00235316725·0.23/(√0.04021 + 1e-6)    = 0.99730094689
   *       then decayed: 0.99730094689·(1 − 0.01·0.1) = 0.99630364595
   *  θ2 = 0.5 + 0.00235316725·0.19/(√0.01099 + 1e-6)  = 0.50426484653 (a bias: not decayed)</pre>
   */
  @Test
  void oneHandWorkedStep() {
    AdamW o = new AdamW(0.01, 1, 11, 0.1);
    double[] theta = {1.0, 0.5};
    double[] m = {0.2, -0.1};
    double[] v = {0.04, 0.01};
    o.step(theta, m, v, new double[] {0.5, -1.0}, new boolean[] {true, false}, 1);
    assertArrayEquals(new double[] {0.23, -0.19}, m, 1e-16);
    assertArrayEquals(new double[] {0.04021, 0.01099}, v, 1e-16);
    assertArrayEquals(new double[] {0.9963036459467592, 0.5042648465339205}, theta, 1e-15);
  }

  @Test
  void theFirstStepOfAWarmUpMovesOnlyTheMoments() {
    AdamW o = new AdamW(0.01, 5, 100, 0.1);
    double[] theta = {1.0, -2.0};
    double[] m = new double[2];
    double[] v = new double[2];
    o.step(theta, m, v, new double[] {1.0, 2.0}, new boolean[] {true, true}, 0);
    assertArrayEquals(new double[] {1.0, -2.0}, theta);
    assertArrayEquals(new double[] {0.1, 0.2}, m, 1e-16);
    assertArrayEquals(new double[] {0.001, 0.004}, v, 1e-16);
  }

  @Test
  void badSettingsAndArraysAreRefused() {
    assertEquals("AdamW learning rate must be > 0, got 0.0",
        assertThrows(IllegalArgumentException.class, () -> new AdamW(0, 1, 10, 0)).getMessage());
    assertEquals("AdamW total steps must be >= 1, got 0",
        assertThrows(IllegalArgumentException.class, () -> new AdamW(1e-3, 0, 0, 0)).getMessage());
    assertEquals("AdamW weight decay must be >= 0, got -0.1",
        assertThrows(IllegalArgumentException.class, () -> new AdamW(1e-3, 0, 10, -0.1)).getMessage());
    AdamW o = new AdamW(1e-3, 0, 10, 0);
    assertEquals("AdamW needs arrays of one length; params 2, m 2, v 2, gradient 3, decay mask 2",
        assertThrows(IllegalArgumentException.class, () -> o.step(new double[2], new double[2], new double[2],
            new double[3], new boolean[2], 0)).getMessage());
  }
}
