package io.relabel.core.hdl;

import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * Cluster-level labels, top down (methods.md section 2, step 3). The hierarchy is binary and every cluster is named
 * by its path from the root ("0110"); the input is the labeled-member count per class of each leaf, which a
 * distributed aggregation produces cheaply (leaves × classes numbers). Counts are summed up the tree, then the tree
 * is walked from the top: the first cluster on a row's path whose labeled members agree ({@link PurityRule}) decides
 * the label of its whole subtree, with confidence = its (weighted) purity; clusters that do not agree hand their
 * rows to the next level ("dynamic"), and rows in leaves no ancestor decided go to the leaf-level kNN.
 *
 * <p>The root itself (the whole table) never decides: a table whose labeled rows are all one class needs no labeling.
 */
public final class ClusterLabeling {

  /** The decision covering a leaf: class, confidence (purity) and depth of the deciding cluster (root = 0). */
  public record Decision(int label, double confidence, int level) implements Serializable {}

  private ClusterLabeling() {}

  /**
   * @param leafCounts labeled-member counts per class, by leaf path key
   * @return the decision for each leaf that some cluster on its path (the leaf included) decided
   */
  public static Map<String, Decision> decide(Map<String, long[]> leafCounts, int nClasses, PurityRule rule) {
    Map<String, long[]> nodeCounts = sumUp(leafCounts, nClasses);
    // Each node's decision, computed once; a leaf inherits that of its highest agreeing ancestor.
    Map<String, Decision> byNode = new HashMap<>();
    for (Map.Entry<String, long[]> e : nodeCounts.entrySet()) {
      if (e.getKey().isEmpty()) {
        continue;
      }
      int label = rule.agreedLabel(e.getValue());
      if (label >= 0) {
        byNode.put(e.getKey(), new Decision(label, rule.share(e.getValue(), label), e.getKey().length()));
      }
    }
    Map<String, Decision> out = new TreeMap<>();
    for (String leaf : leafCounts.keySet()) {
      for (int len = 1; len <= leaf.length(); len++) {
        Decision d = byNode.get(leaf.substring(0, len));
        if (d != null) {
          out.put(leaf, d);
          break;
        }
      }
    }
    return out;
  }

  /**
   * The last resort for rows no vote reached (their leaf and its neighbouring leaf have no labeled row): the
   * class-weighted majority of the deepest cluster on the leaf's path that has labeled members, with its (low)
   * share as confidence and its depth as level. Used only when undecided rows are to be filled.
   */
  public static Map<String, Decision> fallback(Map<String, long[]> leafCounts, int nClasses, double[] classWeights) {
    Map<String, long[]> nodeCounts = sumUp(leafCounts, nClasses);
    PurityRule any = new PurityRule(1.0, 1, classWeights);
    Map<String, Decision> out = new TreeMap<>();
    for (String leaf : leafCounts.keySet()) {
      for (int len = leaf.length(); len >= 0; len--) {
        long[] c = nodeCounts.get(leaf.substring(0, len));
        int best = any.majority(c);
        if (best >= 0) {
          out.put(leaf, new Decision(best, any.share(c, best), len));
          break;
        }
      }
    }
    return out;
  }

  private static Map<String, long[]> sumUp(Map<String, long[]> leafCounts, int nClasses) {
    Map<String, long[]> nodeCounts = new TreeMap<>();
    for (Map.Entry<String, long[]> e : leafCounts.entrySet()) {
      if (e.getValue().length != nClasses) {
        throw new IllegalArgumentException("leaf " + e.getKey() + " has " + e.getValue().length + " counts, expected "
            + nClasses);
      }
      String leaf = e.getKey();
      for (int len = 0; len <= leaf.length(); len++) {
        long[] acc = nodeCounts.computeIfAbsent(leaf.substring(0, len), k -> new long[nClasses]);
        for (int c = 0; c < nClasses; c++) {
          acc[c] += e.getValue()[c];
        }
      }
    }
    return nodeCounts;
  }
}
