package io.relabel.core.ir;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Retrieval quality of one ranked list against graded judgements, as trec_eval and BEIR compute it.
 *
 * <pre>
 *   DCG@k  = Σ_{i=1..k} g(d_i) / log2(i + 1)          g = the judged gain of the document at rank i, 0 if unjudged
 *   nDCG@k = DCG@k / IDCG@k                           IDCG@k: DCG@k of the judged documents sorted by gain
 *   Recall@k = |{relevant} ∩ top k| / |{relevant}|     relevant: gain > 0
 * </pre>
 *
 * Gains are linear (trec_eval's {@code ndcg_cut}), not 2^g − 1; for Cranfield the gain of a judgement is
 * 5 − position (position 1, a complete answer, gains 4). A query with no relevant document has no defined score:
 * the methods refuse it, and the caller leaves such queries out of the mean.
 */
public final class RankingMetrics {

  private RankingMetrics() {}

  /**
   * @param ranked the retrieved document ids, best first (duplicates are a caller error)
   * @param gains  judged gain per document id; ids not in the map gain 0
   */
  public static double ndcgAt(int k, List<String> ranked, Map<String, Integer> gains) {
    check(k, ranked, gains);
    double dcg = 0;
    for (int i = 0; i < Math.min(k, ranked.size()); i++) {
      dcg += gains.getOrDefault(ranked.get(i), 0) / log2(i + 2);
    }
    List<Integer> ideal = new ArrayList<>();
    for (int g : gains.values()) {
      if (g > 0) {
        ideal.add(g);
      }
    }
    ideal.sort((a, b) -> Integer.compare(b, a));
    double idcg = 0;
    for (int i = 0; i < Math.min(k, ideal.size()); i++) {
      idcg += ideal.get(i) / log2(i + 2);
    }
    return dcg / idcg;
  }

  /** Share of the relevant documents (gain > 0) found in the first {@code k} of {@code ranked}. */
  public static double recallAt(int k, List<String> ranked, Map<String, Integer> gains) {
    check(k, ranked, gains);
    long relevant = gains.values().stream().filter(g -> g > 0).count();
    long found = 0;
    for (int i = 0; i < Math.min(k, ranked.size()); i++) {
      if (gains.getOrDefault(ranked.get(i), 0) > 0) {
        found++;
      }
    }
    return (double) found / relevant;
  }

  private static void check(int k, List<String> ranked, Map<String, Integer> gains) {
    if (k < 1) {
      throw new IllegalArgumentException("k must be at least 1: " + k);
    }
    if (gains.values().stream().noneMatch(g -> g > 0)) {
      throw new IllegalArgumentException("a query without a relevant document has no score; leave it out");
    }
    Set<String> seen = new HashSet<>();
    for (String d : ranked) {
      if (!seen.add(d)) {
        throw new IllegalArgumentException("document " + d + " is ranked twice");
      }
    }
  }

  private static double log2(double x) {
    return Math.log(x) / Math.log(2);
  }
}
