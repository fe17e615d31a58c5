package io.relabel.spark.ir;

import io.relabel.core.knn.BlockedKnn;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.Spliterators;
import java.util.stream.IntStream;
import java.util.stream.StreamSupport;
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import scala.Tuple2;

/**
 * Exact top-k retrieval of every query over a whole corpus, by dot product: the hard-negative mining of GPL and of
 * R-GPL's re-mining with the model being trained (methods.md section 4, steps 2 and R-GPL). A query's own positive
 * document is left out of its list ({@link Query#exclude}).
 *
 * <p>The corpus embeddings stay where they are, one matrix per corpus partition on the executor that computed it, and
 * the queries come to them:
 *
 * <ol>
 *   <li>Each query partition is cut into blocks of at most {@code queryBlock} consecutive queries.</li>
 *   <li>Every block is sent to every corpus partition: keyed once per corpus partition index and shuffled by that key,
 *       so that partition j of the shuffled blocks is a copy of all blocks, and zipped with corpus partition j.</li>
 *   <li>A task (one corpus partition, every block streaming through it) ranks the block's queries against its
 *       documents with {@link BlockedKnn}: a FLOAT gemm screens, the survivors are re-scored in double in a fixed
 *       order. It keeps k + 1 per query, so that dropping the excluded document still leaves k.</li>
 *   <li>The partial lists, at most k long, meet by query id in a reduceByKey that merges two sorted lists and keeps
 *       the first k.</li>
 * </ol>
 *
 * <p>Why a shuffle rather than a Spark broadcast or a cartesian product. A broadcast is made on the driver, so the
 * query vectors (GPL's 250k of them) would have to be collected there first; the shuffle is the same broadcast done
 * by the executors, and the driver never holds a vector. A cartesian product of query blocks with corpus partitions
 * also keeps the driver out, but it reads each corpus partition once per query partition, recomputing it (an encoder
 * pass) unless the caller caches it, and its tasks run wherever the query side lies. Here each input is computed
 * once, nothing needs caching, and the corpus is read in place. Both designs move the query vectors once per corpus
 * partition; that is the price of exactness without an index.
 *
 * <p>Exactness: the score of (q, d) is q·d summed in double in index order ({@link BlockedKnn#dot}), the order is
 * score descending then document id ascending, and every step ranks by exactly that order (a task sorts its
 * documents by id, so BlockedKnn's tie-break by index is the tie-break by id). The FLOAT gemm only screens, within a
 * proven rounding bound. The result is therefore the same to the bit whatever the partitioning, the block size, the
 * BLAS or the order in which partial lists merge. Scores are reported as floats, rounded from those doubles.
 *
 * <p>Memory: a task holds one corpus partition as a matrix, plus one block's similarity screen, which BlockedKnn
 * splits further to stay within {@link BlockedKnn#DEFAULT_BLOCK_BYTES}; choose the corpus partitioning so that a
 * partition's vectors fit an executor.
 *
 * <p>Ids: query ids must be distinct (a repeated one fails the job), and so must document ids (checked within a
 * partition only).
 */
public final class DistributedTopK {

  /** {@link Query#exclude} for a query that excludes no document. */
  public static final long NONE = Long.MIN_VALUE;

  private DistributedTopK() {}

  /** A query vector and the one document it must not retrieve (its own positive), or {@link #NONE}. */
  public static final class Query implements Serializable {
    private static final long serialVersionUID = 1L;
    public final long id;
    public final long exclude;
    public final float[] v;

    public Query(long id, long exclude, float[] v) {
      this.id = id;
      this.exclude = exclude;
      this.v = v;
    }
  }

  /** A document vector. */
  public static final class Doc implements Serializable {
    private static final long serialVersionUID = 1L;
    public final long id;
    public final float[] v;

    public Doc(long id, float[] v) {
      this.id = id;
      this.v = v;
    }
  }

  /** A query's documents and their scores, best first; fewer than k when the corpus has fewer eligible. */
  public static final class Hits implements Serializable {
    private static final long serialVersionUID = 1L;
    public final long[] docs;
    public final float[] scores;

    public Hits(long[] docs, float[] scores) {
      this.docs = docs;
      this.scores = scores;
    }
  }

  /**
   * For every query, the k documents with the largest q·d, its excluded document left out, ordered by score
   * descending then document id ascending. Lazy: nothing runs until the result is used, and each input is computed
   * once per use of the result (persist the inputs if they are costly and the result is used more than once).
   *
   * @param queryBlock the most queries ranked against a corpus partition at a time
   * @throws IllegalArgumentException at once for k or queryBlock below 1; inside the job for vectors of different
   *     lengths, empty or non-finite vectors and repeated ids
   */
  public static JavaPairRDD<Long, Hits> topK(JavaRDD<Query> queries, JavaRDD<Doc> docs, int k, int queryBlock) {
    if (k < 1) {
      throw new IllegalArgumentException("k must be at least 1: " + k);
    }
    if (queryBlock < 1) {
      throw new IllegalArgumentException("queryBlock must be at least 1: " + queryBlock);
    }
    if (docs.getNumPartitions() == 0) {
      // an RDD without partitions would have no task to answer the queries: stand in one empty partition
      docs = JavaSparkContext.fromSparkContext(docs.context()).parallelize(Collections.emptyList(), 1);
    }
    int parts = docs.getNumPartitions();
    JavaRDD<QueryBlock> blocks = queries.mapPartitions(it -> QueryBlock.cut(it, queryBlock).iterator())
        .flatMapToPair(b -> IntStream.range(0, parts).mapToObj(j -> new Tuple2<>(j, b)).iterator())
        .partitionBy(new HashPartitioner(parts))
        .values();
    return docs.zipPartitions(blocks, (d, b) -> search(d, b, k))
        .mapToPair(p -> new Tuple2<>(p.query, p))
        .reduceByKey((a, b) -> a.merge(b, k), Math.max(1, queries.getNumPartitions()))
        .mapValues(p -> p.hits(parts));
  }

  /** One corpus partition against every query block: a partial list per query. */
  private static Iterator<Partial> search(Iterator<Doc> docs, Iterator<QueryBlock> blocks, int k) {
    CorpusPartition corpus = CorpusPartition.of(docs);
    return StreamSupport.stream(Spliterators.spliteratorUnknownSize(blocks, 0), false)
        .flatMap(b -> corpus.search(b, k).stream())
        .iterator();
  }

  /** Checks a vector's values: present and finite. */
  private static void checkValues(String what, long id, float[] v) {
    if (v.length == 0) {
      throw new IllegalArgumentException(what + " " + id + " has no values");
    }
    for (int j = 0; j < v.length; j++) {
      if (!Float.isFinite(v[j])) {
        throw new IllegalArgumentException(what + " " + id + " has a non-finite value at " + j + ": " + v[j]);
      }
    }
  }

  private static void checkLength(String what, long id, float[] v, String otherWhat, long otherId, int length) {
    if (v.length != length) {
      throw new IllegalArgumentException(what + " " + id + " has " + v.length + " values where " + otherWhat + " "
          + otherId + " has " + length);
    }
  }

  /** Up to queryBlock consecutive queries of one query partition, as rows. */
  static final class QueryBlock implements Serializable {
    private static final long serialVersionUID = 1L;
    final long[] ids;
    final long[] exclude;
    final float[][] v;

    QueryBlock(long[] ids, long[] exclude, float[][] v) {
      this.ids = ids;
      this.exclude = exclude;
      this.v = v;
    }

    /** A query partition's blocks, every vector checked against the partition's first. */
    static List<QueryBlock> cut(Iterator<Query> queries, int size) {
      List<QueryBlock> out = new ArrayList<>();
      List<Query> block = new ArrayList<>();
      Query first = null;
      while (queries.hasNext()) {
        Query q = queries.next();
        checkValues("query", q.id, q.v);
        if (first == null) {
          first = q;
        }
        checkLength("query", q.id, q.v, "query", first.id, first.v.length);
        block.add(q);
        if (block.size() == size || !queries.hasNext()) {
          out.add(of(block));
          block.clear();
        }
      }
      return out;
    }

    private static QueryBlock of(List<Query> block) {
      int n = block.size();
      long[] ids = new long[n];
      long[] exclude = new long[n];
      float[][] v = new float[n][];
      for (int r = 0; r < n; r++) {
        ids[r] = block.get(r).id;
        exclude[r] = block.get(r).exclude;
        v[r] = block.get(r).v;
      }
      return new QueryBlock(ids, exclude, v);
    }
  }

  /** One corpus partition's documents, sorted by id, as rows. */
  private static final class CorpusPartition {
    final long[] ids;
    final float[][] rows;

    private CorpusPartition(long[] ids, float[][] rows) {
      this.ids = ids;
      this.rows = rows;
    }

    static CorpusPartition of(Iterator<Doc> docs) {
      List<Doc> list = new ArrayList<>();
      docs.forEachRemaining(list::add);
      // index order is then id order, so that BlockedKnn's ties go to the lower id
      list.sort(Comparator.comparingLong(d -> d.id));
      long[] ids = new long[list.size()];
      float[][] rows = new float[list.size()][];
      for (int j = 0; j < ids.length; j++) {
        Doc d = list.get(j);
        checkValues("doc", d.id, d.v);
        checkLength("doc", d.id, d.v, "doc", list.get(0).id, list.get(0).v.length);
        if (j > 0 && d.id == ids[j - 1]) {
          throw new IllegalArgumentException("doc id " + d.id + " appears more than once");
        }
        ids[j] = d.id;
        rows[j] = d.v;
      }
      return new CorpusPartition(ids, rows);
    }

    List<Partial> search(QueryBlock b, int k) {
      int n = b.ids.length;
      List<Partial> out = new ArrayList<>(n);
      if (ids.length == 0) {
        for (long q : b.ids) {
          out.add(new Partial(q, new long[0], new double[0], 1));
        }
        return out;
      }
      checkLength("query", b.ids[0], b.v[0], "doc", ids[0], rows[0].length);
      // one more than k, so that removing the query's excluded document still leaves k
      int keep = (int) Math.min(k + 1L, ids.length);
      int[][] index = BlockedKnn.topK(b.v, rows, null, keep, false).index();
      for (int r = 0; r < n; r++) {
        int size = 0;
        long[] docs = new long[Math.min(k, index[r].length)];
        double[] scores = new double[docs.length];
        for (int i = 0; i < index[r].length && size < docs.length; i++) {
          int j = index[r][i];
          if (ids[j] != b.exclude[r]) {
            docs[size] = ids[j];
            scores[size++] = BlockedKnn.dot(b.v[r], rows[j]);
          }
        }
        out.add(new Partial(b.ids[r], Arrays.copyOf(docs, size), Arrays.copyOf(scores, size), 1));
      }
      return out;
    }
  }

  /**
   * A query's best documents within some corpus partitions, best first, with the exact double scores the merge ranks
   * by, and how many partitions it covers (a query id that appears twice covers too many).
   */
  static final class Partial implements Serializable {
    private static final long serialVersionUID = 1L;
    final long query;
    final long[] docs;
    final double[] scores;
    final int parts;

    Partial(long query, long[] docs, double[] scores, int parts) {
      this.query = query;
      this.docs = docs;
      this.scores = scores;
      this.parts = parts;
    }

    /** The first k of the two lists merged: score descending, then document id ascending. */
    Partial merge(Partial o, int k) {
      int n = Math.min(k, docs.length + o.docs.length);
      long[] d = new long[n];
      double[] s = new double[n];
      int a = 0;
      int b = 0;
      for (int i = 0; i < n; i++) {
        boolean takeMine = b == o.docs.length || (a < docs.length && (scores[a] > o.scores[b]
            || (scores[a] == o.scores[b] && docs[a] < o.docs[b])));
        if (takeMine) {
          d[i] = docs[a];
          s[i] = scores[a++];
        } else {
          d[i] = o.docs[b];
          s[i] = o.scores[b++];
        }
      }
      return new Partial(query, d, s, parts + o.parts);
    }

    Hits hits(int corpusPartitions) {
      if (parts != corpusPartitions) {
        throw new IllegalArgumentException("query id " + query + " appears more than once");
      }
      float[] f = new float[scores.length];
      for (int i = 0; i < f.length; i++) {
        f[i] = (float) scores[i];
      }
      return new Hits(docs, f);
    }
  }
}
