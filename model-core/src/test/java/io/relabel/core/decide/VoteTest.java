package io.relabel.core.decide;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class VoteTest {

  private static final Vote TWO = new Vote(2, 0.0);

  @Test
  void aLabelChangesOnlyWhenEnoughMethodsNameTheSameOtherClass() {
    // two of three name class 2 against the given 0
    Vote.Outcome o = TWO.decide(0, new int[] {2, 2, 0}, new double[] {0.9, 0.7, 0.8});
    assertEquals(2, o.label());
    assertEquals(2, o.votes());
    assertEquals(0.8, o.confidence(), 1e-12);
    // two methods disagree with the label, but not on the same class
    assertEquals(-1, TWO.decide(0, new int[] {1, 2, 0}, new double[] {0.9, 0.9, 0.9}).label());
    // agreeing with the given label is no vote for a change
    assertEquals(-1, TWO.decide(1, new int[] {1, 1, 1}, new double[] {1, 1, 1}).label());
  }

  @Test
  void abstentionsAndWeakVotesDoNotCount() {
    assertEquals(-1, TWO.decide(0, new int[] {3, -1, -1}, new double[] {0.9, 0, 0}).label());
    Vote strict = new Vote(2, 0.6);
    assertEquals(-1, strict.decide(0, new int[] {3, 3}, new double[] {0.9, 0.5}).label());
    assertEquals(3, strict.decide(0, new int[] {3, 3}, new double[] {0.9, 0.6}).label());
    // a NaN confidence (unknown) never passes a threshold
    assertEquals(-1, TWO.decide(0, new int[] {3, 3}, new double[] {0.9, Double.NaN}).label());
  }

  @Test
  void tiesGoToTheLargerSummedConfidenceThenTheLowerClass() {
    Vote one = new Vote(1, 0.0);
    assertEquals(4, one.decide(0, new int[] {3, 4}, new double[] {0.6, 0.7}).label());
    assertEquals(3, one.decide(0, new int[] {4, 3}, new double[] {0.7, 0.7}).label());
    // more votes beat more confidence
    assertEquals(2, one.decide(0, new int[] {5, 2, 2}, new double[] {0.99, 0.3, 0.3}).label());
  }

  @Test
  void anUnlabeledRowTakesThePluralityHoweverFewVotes() {
    Vote.Outcome o = TWO.decide(-1, new int[] {-1, 6, -1}, new double[] {0, 0.4, 0});
    assertEquals(6, o.label());
    assertEquals(1, o.votes());
    assertEquals(-1, TWO.decide(-1, new int[] {-1, -1}, new double[] {0, 0}).label());
  }

  @Test
  void badSettingsAndShapesAreRefused() {
    assertEquals("minVotes must be at least 1: 0",
        assertThrows(IllegalArgumentException.class, () -> new Vote(0, 0)).getMessage());
    assertEquals("minConfidence must be in [0, 1]: 1.5",
        assertThrows(IllegalArgumentException.class, () -> new Vote(1, 1.5)).getMessage());
    assertEquals("labels and confidences differ in length: 2 vs 1",
        assertThrows(IllegalArgumentException.class, () -> TWO.decide(0, new int[] {1, 2}, new double[] {1}))
            .getMessage());
  }
}
