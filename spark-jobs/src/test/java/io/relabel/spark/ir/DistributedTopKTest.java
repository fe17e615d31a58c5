package io.relabel.spark.ir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.spark.SparkTestSession;
import io.relabel.spark.ir.DistributedTopK.Doc;
import io.relabel.spark.ir.DistributedTopK.Hits;
import io.relabel.spark.ir.DistributedTopK.Query;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The distributed top-k against a brute force on the driver, to the bit, for several partitionings and blocks. */
@Tag("spark")
class DistributedTopKTest {

  static final int DIM = 6;
  static final int K = 10;

  static JavaSparkContext jsc;
  static List<Doc> docs;
  static List<Query> queries;

  @BeforeAll
  static void data() {
    jsc = JavaSparkContext.fromSparkContext(SparkTestSession.get().sparkContext());
    Random r = new Random(61);
    // ids scattered over negative and positive values (7919 is invertible mod the prime 100003, so they are distinct)
    docs = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      long id = i * 7919L % 100_003 - 50_000;
      // every tenth document repeats the previous one's vector: equal scores under different ids
      float[] v = i % 10 == 9 ? docs.get(i - 1).v.clone() : vector(r, i % 3 == 0);
      docs.add(new Doc(id, v));
    }
    queries = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      float[] v = vector(r, i % 2 == 0);
      long exclude = switch (i % 3) {
        case 0 -> bruteForce(new Query(0, DistributedTopK.NONE, v), docs, 1).docs[0]; // its best document
        case 1 -> DistributedTopK.NONE;
        default -> docs.get(r.nextInt(docs.size())).id; // any document, mostly outside the top k
      };
      queries.add(new Query(1000 + 3L * i, exclude, v));
    }
    // shuffled, so that no partition arrives in id order
    Collections.shuffle(docs, new Random(62));
    Collections.shuffle(queries, new Random(63));
  }

  /**
   * Small integers from -2 to 2 (dot products that are exact and tie often), or Gaussian values; the integer rows
   * are scaled by a power of two, which keeps the ties.
   */
  static float[] vector(Random r, boolean integers) {
    float[] v = new float[DIM];
    for (int j = 0; j < DIM; j++) {
      v[j] = integers ? (r.nextInt(5) - 2) * 0.25f : (float) r.nextGaussian();
    }
    return v;
  }

  /** The definition: q·d summed in double in index order, ranked by score descending then id ascending. */
  static Hits bruteForce(Query q, List<Doc> corpus, int k) {
    List<Doc> eligible = new ArrayList<>();
    List<Double> score = new ArrayList<>();
    for (Doc d : corpus) {
      if (d.id != q.exclude) {
        double s = 0;
        for (int j = 0; j < q.v.length; j++) {
          s += (double) q.v[j] * d.v[j];
        }
        eligible.add(d);
        score.add(s);
      }
    }
    Integer[] order = new Integer[eligible.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> score.get(a).equals(score.get(b))
        ? Long.compare(eligible.get(a).id, eligible.get(b).id) : Double.compare(score.get(b), score.get(a)));
    int n = Math.min(k, order.length);
    long[] ids = new long[n];
    float[] s = new float[n];
    for (int i = 0; i < n; i++) {
      ids[i] = eligible.get(order[i]).id;
      s[i] = (float) (double) score.get(order[i]);
    }
    return new Hits(ids, s);
  }

  static void assertSameAsBruteForce(List<Query> qs, List<Doc> corpus, int k, Map<Long, Hits> actual,
      String what) {
    assertEquals(qs.size(), actual.size(), what + ": queries answered");
    for (Query q : qs) {
      Hits expected = bruteForce(q, corpus, k);
      Hits got = actual.get(q.id);
      assertNotNull(got, what + ": query " + q.id);
      assertArrayEquals(expected.docs, got.docs, what + ": documents of query " + q.id);
      assertArrayEquals(expected.scores, got.scores, what + ": scores of query " + q.id);
    }
  }

  static Map<Long, Hits> run(List<Query> qs, int queryParts, List<Doc> corpus, int corpusParts, int k, int block) {
    return DistributedTopK.topK(jsc.parallelize(qs, queryParts), jsc.parallelize(corpus, corpusParts), k, block)
        .collectAsMap();
  }

  @Test
  void equalsTheBruteForceToTheBitForAnyPartitioningAndBlock() {
    // the data does exercise the tie-break: many queries have equal scores within their top k
    long withTies = queries.stream().map(q -> bruteForce(q, docs, K)).filter(h -> {
      for (int i = 1; i < h.scores.length; i++) {
        if (h.scores[i] == h.scores[i - 1]) {
          return true;
        }
      }
      return false;
    }).count();
    assertTrue(withTies >= 30, "queries with tied scores in their top k: " + withTies);
    for (int corpusParts : new int[] {1, 3}) {
      for (int block : new int[] {1, 7, 1000}) {
        assertSameAsBruteForce(queries, docs, K, run(queries, 2, docs, corpusParts, K, block),
            corpusParts + " corpus partitions, blocks of " + block);
      }
    }
  }

  @Test
  void kAboveTheCorpusSizeReturnsEveryEligibleDocument() {
    List<Doc> small = docs.subList(0, 20);
    List<Query> some = new ArrayList<>(queries.subList(0, 30));
    some.add(new Query(-1, small.get(5).id, queries.get(0).v)); // surely excludes one of the 20
    Map<Long, Hits> hits = run(some, 3, small, 3, 50, 4);
    assertSameAsBruteForce(some, small, 50, hits, "k = 50");
    assertEquals(19, hits.get(-1L).docs.length);
    assertSameAsBruteForce(some, small, Integer.MAX_VALUE, run(some, 3, small, 3, Integer.MAX_VALUE, 4),
        "k = Integer.MAX_VALUE");
  }

  @Test
  void noQueriesGiveNoResults() {
    assertEquals(0, DistributedTopK.topK(jsc.parallelize(List.<Query>of(), 2), jsc.parallelize(docs, 3), K, 7)
        .count());
    assertEquals(0, DistributedTopK.topK(jsc.<Query>emptyRDD(), jsc.parallelize(docs, 3), K, 7).count());
  }

  @Test
  void anEmptyCorpusGivesEveryQueryNoHits() {
    List<Query> some = queries.subList(0, 5);
    for (JavaRDD<Doc> none : List.of(jsc.<Doc>emptyRDD(), jsc.parallelize(List.<Doc>of(), 3))) {
      Map<Long, Hits> hits = DistributedTopK.topK(jsc.parallelize(some, 2), none, K, 2).collectAsMap();
      assertEquals(5, hits.size());
      hits.values().forEach(h -> assertEquals(0, h.docs.length));
    }
  }

  @Test
  void badInputsAreNamed() {
    float[] four = {1, 2, 3, 4};
    float[] five = {1, 2, 3, 4, 5};
    List<Doc> corpus = List.of(new Doc(1, four), new Doc(2, four), new Doc(3, new float[] {1, 2, 3}));
    List<Query> mixed = List.of(new Query(10, DistributedTopK.NONE, four), new Query(11, 2, four),
        new Query(12, DistributedTopK.NONE, five));
    assertEquals("query 12 has 5 values where query 10 has 4",
        jobFailure(mixed, corpus.subList(0, 2)));
    assertEquals("doc 3 has 3 values where doc 1 has 4",
        jobFailure(mixed.subList(0, 2), corpus));
    assertEquals("query 12 has 5 values where doc 1 has 4",
        jobFailure(mixed.subList(2, 3), corpus.subList(0, 2)));
    assertEquals("doc 2 has a non-finite value at 1: NaN",
        jobFailure(mixed.subList(0, 1), List.of(new Doc(1, four), new Doc(2, new float[] {0, Float.NaN, 0, 0}))));
    assertEquals("query 10 has no values",
        jobFailure(List.of(new Query(10, DistributedTopK.NONE, new float[0])), corpus.subList(0, 2)));
    assertEquals("query id 11 appears more than once",
        jobFailure(List.of(mixed.get(1), mixed.get(1)), corpus.subList(0, 2)));

    JavaRDD<Query> q = jsc.parallelize(mixed, 1);
    JavaRDD<Doc> d = jsc.parallelize(corpus, 1);
    assertEquals("k must be at least 1: 0",
        assertThrows(IllegalArgumentException.class, () -> DistributedTopK.topK(q, d, 0, 7)).getMessage());
    assertEquals("queryBlock must be at least 1: 0",
        assertThrows(IllegalArgumentException.class, () -> DistributedTopK.topK(q, d, 3, 0)).getMessage());
  }

  /** The message of the IllegalArgumentException that fails the job (one partition each side). */
  static String jobFailure(List<Query> qs, List<Doc> corpus) {
    Exception e = assertThrows(Exception.class, () -> run(qs, 1, corpus, 1, 3, 2));
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof IllegalArgumentException) {
        return t.getMessage();
      }
    }
    throw new AssertionError("no IllegalArgumentException behind the job's failure", e);
  }
}
