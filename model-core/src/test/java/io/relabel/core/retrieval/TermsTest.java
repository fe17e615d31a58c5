package io.relabel.core.retrieval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class TermsTest {

  @Test
  void lowerCasedLetterAndDigitRunsWithApostrophesDropped() {
    assertEquals(List.of("dont", "stop", "the", "wings", "flutter", "at", "mach", "3", "5"),
        Terms.terms("Don't stop the wing’s FLUTTER -- at Mach 3.5!"));
    // a combining accent stays in its word
    assertEquals(List.of("über", "straße", "cafe\u0301"), Terms.terms("Über (Straße), Cafe\u0301"));
    assertEquals(List.of(), Terms.terms(" -- ... '' "));
  }

  @Test
  void stopWordsAreSpelledAsTermsSpellsThem() {
    assertTrue(Terms.isStopWord("the"));
    assertTrue(Terms.isStopWord(Terms.terms("Don't").get(0)));
    assertFalse(Terms.isStopWord("flutter"));
    assertFalse(Terms.isStopWord("The"));
  }
}
