package io.relabel.core.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LabelCountsTest {

  @Test
  void handWorkedExample() {
    // (given, corrected, truth)
    int[][] rows = {
        {0, 0, 0}, // right, kept
        {1, 0, 0}, // wrong, fixed
        {1, 2, 0}, // wrong, changed to another wrong label
        {2, 2, 1}, // wrong, missed
        {2, 1, 2}, // right, broken
    };
    LabelCounts a = new LabelCounts();
    LabelCounts b = new LabelCounts();
    for (int i = 0; i < rows.length; i++) {
      (i < 2 ? a : b).add(rows[i][0], rows[i][1], rows[i][2]);
    }
    LabelCounts c = a.merge(b);
    assertEquals(5, c.rows);
    assertEquals(2.0 / 5, c.givenAccuracy(), 1e-12);
    assertEquals(2.0 / 5, c.correctedAccuracy(), 1e-12);
    assertEquals(2.0 / 3, c.changePrecision(), 1e-12);
    assertEquals(2.0 / 3, c.changeRecall(), 1e-12);
    assertEquals(1, c.changedToTrue);
  }

  @Test
  void undefinedRatiosAreNaN() {
    LabelCounts c = new LabelCounts();
    c.add(1, 1, 1);
    assertTrue(Double.isNaN(c.changePrecision()));
    assertTrue(Double.isNaN(c.changeRecall()));
  }
}
