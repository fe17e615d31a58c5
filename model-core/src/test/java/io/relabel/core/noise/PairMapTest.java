package io.relabel.core.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;

class PairMapTest {

  private static final List<String> CLASSES = List.of("cat", "dog", "owl");

  @Test
  void mapsClassNamesToIndices() {
    assertArrayEquals(new int[] {1, 0, -1}, PairMap.parse("cat:dog, dog:cat", CLASSES, "column 'label'"));
  }

  @Test
  void unknownClassIsNamed() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PairMap.parse("cat:cow", CLASSES, "column 'label'"));
    assertEquals("relabel.noise.pairs names class 'cow', which is not a label in column 'label' (classes: cat, dog,"
        + " owl)", e.getMessage());
  }

  @Test
  void selfMapIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PairMap.parse("owl:owl", CLASSES, "column 'label'"));
    assertEquals("relabel.noise.pairs maps class 'owl' to itself", e.getMessage());
  }

  @Test
  void duplicateSourceIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PairMap.parse("cat:dog,cat:owl", CLASSES, "column 'label'"));
    assertEquals("relabel.noise.pairs maps class 'cat' twice", e.getMessage());
  }

  @Test
  void malformedPairIsRefused() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> PairMap.parse("cat:dog,owl", CLASSES, "column 'label'"));
    assertEquals("relabel.noise.pairs has a malformed pair 'owl'; expected from:to", e.getMessage());
  }

  @Test
  void longClassListsAreShortened() {
    List<String> many = new java.util.ArrayList<>();
    for (int i = 0; i < 25; i++) {
      many.add("c" + i);
    }
    assertEquals("c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15, c16, c17, c18, c19, ..."
        + " (25 in all)", PairMap.listed(many));
  }
}
