package io.relabel.core.retrieval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class ExtractiveQueryGeneratorTest {

  private static final String DOC = "Laminar flow over a wing. The results are shown. "
      + "Heat transfer at supersonic speeds was measured in a wind tunnel.";

  /** DOC and three more documents, N = 4. */
  private static HashedDocumentFrequency corpus() {
    HashedDocumentFrequency df = new HashedDocumentFrequency();
    df.add("Wing flutter at supersonic speeds.");
    df.add("Flutter of panels.");
    df.add("Heat transfer in laminar flow.");
    df.add(DOC);
    return df;
  }

  /** Statistics of no document: every term has idf ln(1/1) + 1 = 1. */
  private static ExtractiveQueryGenerator flat(int minWords, int maxWords) {
    return new ExtractiveQueryGenerator(new HashedDocumentFrequency(), minWords, maxWords);
  }

  @Test
  void handWorkedDocument() {
    // N = 4. Non-stop terms of DOC and their document frequencies:
    //   laminar, flow, wing, heat, transfer, supersonic, speeds: 2 -> idf = ln(5/3) + 1 = 1.5108256
    //   results, shown, measured, wind, tunnel:                  1 -> idf = ln(5/2) + 1 = 1.9162907
    // (over, a, the, are, at, was, in are stop words.) With minWords 3 and maxWords 6:
    //   "Laminar flow over a wing", 5 words, whole:  3 x 1.5108256 / sqrt 5            = 2.0269853
    //   "The results are shown", 4 words, whole:     2 x 1.9162907 / sqrt 4            = 1.9162907
    //   "Heat transfer ... wind tunnel", 11 words: its windows of 6 words, / sqrt 6:
    //     Heat transfer at supersonic speeds was         4 x 1.5108256                 = 2.4671679
    //     transfer at supersonic speeds was measured     3 x 1.5108256 + 1.9162907     = 2.6326983  <- best
    //     at supersonic speeds was measured in           2 x 1.5108256 + 1.9162907     = 2.0159064
    //     supersonic speeds was measured in a            the same terms                = 2.0159064
    //     speeds was measured in a wind                  1.5108256 + 2 x 1.9162907     = 2.1814368
    //     was measured in a wind tunnel                  3 x 1.9162907                 = 2.3469672
    ExtractiveQueryGenerator g = new ExtractiveQueryGenerator(corpus(), 3, 6);
    List<String> all = List.of(
        "transfer at supersonic speeds was measured", "Laminar flow over a wing", "The results are shown");
    assertEquals(all, g.generate(DOC, 3));
    assertEquals(all, g.generate(DOC, 10));
    assertEquals(all.subList(0, 1), g.generate(DOC, 1));
    assertEquals(List.of(), g.generate(DOC, 0));
    // minWords 5 leaves out the four-word sentence
    assertEquals(all.subList(0, 2), new ExtractiveQueryGenerator(corpus(), 5, 6).generate(DOC, 3));
  }

  @Test
  void aLongSentenceGivesItsMostSalientWindowTheEarliestAmongEquals() {
    // idf 1 for every term: a window's salience is its count of distinct non-stop terms / sqrt 3
    //   [the alpha of] 1, [alpha of beta] 2, [of beta gamma] 2, [beta gamma delta] 3, [gamma delta alpha] 3
    assertEquals(List.of("beta gamma delta"), flat(1, 3).generate("the alpha of beta gamma delta alpha", 5));
    assertEquals(List.of("alpha beta gamma"), flat(1, 3).generate("alpha beta gamma delta epsilon", 5));
  }

  @Test
  void equalSaliencesRankByPositionAndDuplicatesGo() {
    assertEquals(List.of("Alpha beta gamma", "Delta epsilon zeta"),
        flat(2, 5).generate("Alpha beta gamma. Delta epsilon zeta.", 5));
    // the same words in another case (and spacing) are one query: the first written
    assertEquals(List.of("Wind tunnel tests", "Wind tunnel"),
        flat(2, 5).generate("Wind tunnel tests. wind tunnel  tests! Wind tunnel. WIND\tTUNNEL TESTS?", 5));
  }

  @Test
  void documentsWithoutACandidateFallBackToTheirFirstWords() {
    ExtractiveQueryGenerator g = flat(3, 4);
    assertEquals(List.of("Flutter"), g.generate("Flutter.", 2));
    assertEquals(List.of("Wing flutter. Heat flow"), g.generate("Wing flutter. Heat flow. Wind tunnel.", 2));
    assertEquals(List.of(), g.generate("", 2));
    assertEquals(List.of(), g.generate(" -- ... ! ", 2));
  }

  @Test
  void decimalsAbbreviationsAndInitialsDoNotEndASentence() {
    String text = "The lift rose by 3.5 percent, e.g. at Mach 2.0 near Fig. 3 of Dr. J. Smith's report (U.S.A.).";
    assertEquals(List.of(text.substring(0, text.length() - 1)), flat(1, 40).generate(text, 5));
  }

  @Test
  void lineBreaksSemicolonsAndQuestionMarksEndSentences() {
    assertEquals(List.of("Heat transfer", "in laminar flow", "over a wing", "why"),
        flat(1, 10).generate("Heat transfer\nin laminar flow; over a wing? why!", 5));
  }

  @Test
  void queriesAreTheTextAsWrittenWithSpacesFoldedAndTrailingPunctuationRemoved() {
    assertEquals(List.of("Results, as shown"), flat(1, 10).generate("  Results,\tas   shown: ", 1));
    assertEquals(List.of("the (kerosene) fuel"), flat(1, 10).generate("the (kerosene) fuel --", 1));
  }

  @Test
  void deterministic() {
    String text = "Aerodynamic heating of a blunt body. The heating rate rises with speed; "
        + "boundary layer transition changes the heating rate near the stagnation point of the blunt body.";
    List<String> once = new ExtractiveQueryGenerator(corpus(), 2, 5).generate(text, 4);
    for (int i = 0; i < 3; i++) {
      assertEquals(once, new ExtractiveQueryGenerator(corpus(), 2, 5).generate(text, 4));
    }
    assertEquals(3, once.size()); // one per sentence
  }

  @Test
  void badArgumentsAreRefused() {
    assertEquals("minWords must be at least 1: 0",
        assertThrows(IllegalArgumentException.class, () -> flat(0, 4)).getMessage());
    assertEquals("maxWords (2) must be at least minWords (3)",
        assertThrows(IllegalArgumentException.class, () -> flat(3, 2)).getMessage());
    assertEquals("count must not be negative: -1",
        assertThrows(IllegalArgumentException.class, () -> flat(1, 2).generate("a b", -1)).getMessage());
  }
}
