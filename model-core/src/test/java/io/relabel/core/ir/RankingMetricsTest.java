package io.relabel.core.ir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RankingMetricsTest {

  // judged: a gains 4, b 3, c 1, z 0 (judged, not relevant); x and y are unjudged
  private static final Map<String, Integer> GAINS = Map.of("a", 4, "b", 3, "c", 1, "z", 0);

  @Test
  void ndcgOfAHandWorkedRanking() {
    // ranking x, b, z, a, c:
    //   DCG@3  = 0/log2 2 + 3/log2 3 + 0/log2 4                  = 3 / 1.5849625 = 1.8927893
    //   IDCG@3 = 4/log2 2 + 3/log2 3 + 1/log2 4 = 4 + 1.8927893 + 0.5 = 6.3927893
    //   nDCG@3 = 0.2960819
    List<String> ranked = List.of("x", "b", "z", "a", "c");
    assertEquals(1.8927892607143721 / 6.392789260714372, RankingMetrics.ndcgAt(3, ranked, GAINS), 1e-15);
    // @5 adds a at rank 4 (4 / log2 5 = 1.7227062) and c at rank 5 (1 / log2 6 = 0.3868528):
    //   DCG@5 = 4.0023483, IDCG@5 = IDCG@3 (only three relevant documents) = 6.3927893 -> 0.6260723
    assertEquals(0.6260723, RankingMetrics.ndcgAt(5, ranked, GAINS), 1e-7);
    assertEquals(1.0, RankingMetrics.ndcgAt(10, List.of("a", "b", "c", "x"), GAINS), 1e-15);
    assertEquals(0.0, RankingMetrics.ndcgAt(10, List.of("x", "y", "z"), GAINS));
  }

  @Test
  void recallCountsRelevantDocumentsOnly() {
    assertEquals(1.0 / 3, RankingMetrics.recallAt(3, List.of("x", "b", "z", "a", "c"), GAINS), 1e-15);
    assertEquals(1.0, RankingMetrics.recallAt(5, List.of("x", "b", "z", "a", "c"), GAINS));
    assertEquals(2.0 / 3, RankingMetrics.recallAt(100, List.of("a", "c"), GAINS), 1e-15);
  }

  @Test
  void undefinedCasesAreRefused() {
    assertEquals("a query without a relevant document has no score; leave it out",
        assertThrows(IllegalArgumentException.class, () -> RankingMetrics.ndcgAt(10, List.of("a"), Map.of("a", 0)))
            .getMessage());
    assertEquals("document b is ranked twice", assertThrows(IllegalArgumentException.class,
        () -> RankingMetrics.recallAt(10, List.of("b", "a", "b"), GAINS)).getMessage());
    assertEquals("k must be at least 1: 0", assertThrows(IllegalArgumentException.class,
        () -> RankingMetrics.ndcgAt(0, List.of("a"), GAINS)).getMessage());
  }
}
