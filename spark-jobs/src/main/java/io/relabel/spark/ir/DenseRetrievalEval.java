package io.relabel.spark.ir;

import io.relabel.core.ir.RankingMetrics;
import io.relabel.spark.embed.Encoder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Scores a dense retriever on a test collection: every document and query is embedded, each query ranks the documents
 * by dot product (the encoders L2-normalise, so this is cosine similarity), and nDCG@10 and Recall@100 are averaged
 * over the queries that have a relevant document. Runs on the driver: test collections have a few thousand documents,
 * and this is evaluation, not the product.
 */
public final class DenseRetrievalEval {

  /** bge-small-en-v1.5's instruction for short queries against passages (its model card). */
  public static final String BGE_QUERY_PREFIX = "Represent this sentence for searching relevant passages: ";

  private static final int BATCH = 64;

  private DenseRetrievalEval() {}

  /** Mean nDCG@10 and Recall@100 over {@code queries} queries. */
  public record Scores(double ndcg10, double recall100, int queries) {}

  public static Scores evaluate(IrCollection c, Encoder encoder, String queryPrefix) {
    List<String> docIds = new ArrayList<>(c.docs().keySet());
    float[][] docs = embed(encoder, new ArrayList<>(c.docs().values()), "");
    Map<String, float[]> byId = new java.util.LinkedHashMap<>();
    for (int i = 0; i < docs.length; i++) {
      byId.put(docIds.get(i), docs[i]);
    }
    return evaluate(c, byId, texts -> embed(encoder, texts, queryPrefix));
  }

  /**
   * The same scores for embeddings computed elsewhere: {@code docs} holds every document's embedding by id, and
   * {@code queries} embeds a list of query texts (e.g. a frozen encoder followed by a trained adapter).
   */
  public static Scores evaluate(IrCollection c, Map<String, float[]> docs,
      java.util.function.Function<List<String>, float[][]> queries) {
    List<String> docIds = new ArrayList<>(c.docs().keySet());
    float[][] docVectors = new float[docIds.size()][];
    for (int i = 0; i < docVectors.length; i++) {
      docVectors[i] = docs.get(docIds.get(i));
      if (docVectors[i] == null) {
        throw new IllegalArgumentException(c.name() + ": no embedding for document " + docIds.get(i));
      }
    }
    List<String> queryIds = new ArrayList<>();
    List<String> queryTexts = new ArrayList<>();
    for (Map.Entry<String, String> q : c.queries().entrySet()) {
      Map<String, Integer> gains = c.qrels().get(q.getKey());
      if (gains != null && gains.values().stream().anyMatch(g -> g > 0)) {
        queryIds.add(q.getKey());
        queryTexts.add(q.getValue());
      }
    }
    float[][] queryVectors = queries.apply(queryTexts);
    double ndcg = 0;
    double recall = 0;
    for (int i = 0; i < queryVectors.length; i++) {
      List<String> ranked = topK(queryVectors[i], docVectors, docIds, 100);
      Map<String, Integer> gains = c.qrels().get(queryIds.get(i));
      ndcg += RankingMetrics.ndcgAt(10, ranked, gains);
      recall += RankingMetrics.recallAt(100, ranked, gains);
    }
    return new Scores(ndcg / queryVectors.length, recall / queryVectors.length, queryVectors.length);
  }

  /** {@code texts} embedded by {@code encoder} in batches, each text prefixed by {@code prefix}. */
  public static float[][] embed(Encoder encoder, List<String> texts, String prefix) {
    float[][] out = new float[texts.size()][];
    for (int from = 0; from < texts.size(); from += BATCH) {
      List<Object> batch = new ArrayList<>();
      for (int i = from; i < Math.min(texts.size(), from + BATCH); i++) {
        batch.add(prefix + texts.get(i));
      }
      float[][] e = encoder.encode(batch);
      System.arraycopy(e, 0, out, from, e.length);
    }
    return out;
  }

  /** The k documents with the largest dot product, best first; ties go to the earlier document. */
  static List<String> topK(float[] q, float[][] docs, List<String> ids, int k) {
    // a min-heap of the best k so far: (score, index), worst on top
    PriorityQueue<double[]> heap = new PriorityQueue<>((a, b) -> a[0] != b[0] ? Double.compare(a[0], b[0])
        : Double.compare(b[1], a[1]));
    for (int d = 0; d < docs.length; d++) {
      double s = 0;
      for (int j = 0; j < q.length; j++) {
        s += q[j] * docs[d][j];
      }
      heap.add(new double[] {s, d});
      if (heap.size() > k) {
        heap.poll();
      }
    }
    List<double[]> best = new ArrayList<>(heap);
    best.sort((a, b) -> a[0] != b[0] ? Double.compare(b[0], a[0]) : Double.compare(a[1], b[1]));
    List<String> out = new ArrayList<>();
    for (double[] b : best) {
      out.add(ids.get((int) b[1]));
    }
    return out;
  }
}
