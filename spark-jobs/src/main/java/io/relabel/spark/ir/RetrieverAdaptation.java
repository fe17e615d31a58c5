package io.relabel.spark.ir;

import static org.apache.spark.sql.functions.col;

import io.relabel.core.retrieval.Adapter;
import io.relabel.core.retrieval.AdapterSpec;
import io.relabel.core.retrieval.AdapterTrainer;
import io.relabel.core.retrieval.AdamW;
import io.relabel.core.retrieval.ExtractiveQueryGenerator;
import io.relabel.core.retrieval.HashedDocumentFrequency;
import io.relabel.core.retrieval.QueryGenerator;
import io.relabel.core.retrieval.RgplSpec;
import io.relabel.core.util.RowSeeds;
import io.relabel.spark.embed.EncoderRunner;
import io.relabel.spark.embed.OnnxCrossEncoder;
import io.relabel.spark.embed.OnnxTextEncoder;
import io.relabel.spark.io.Batches;
import io.relabel.spark.io.InputValidator;
import io.relabel.spark.stage.Stages;
import io.relabel.spark.train.Features;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.nd4j.linalg.api.buffer.DataType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * R-GPL (Yuksel, Rau and Kamps, arXiv 2501.14434, on GPL by Wang et al., NAACL 2022; relabel's design in
 * {@code methods.md} §4): adapts a dense retriever to a corpus without a single human label.
 *
 * <ol>
 *   <li><b>Pseudo queries.</b> Every document gets QPP = min(ceil(budget / |D|), cap) queries from a
 *       {@link QueryGenerator} (extractive by default: relabel ships no seq2seq model).</li>
 *   <li><b>Embeddings.</b> The frozen base encoder (all-MiniLM-L6-v2) embeds documents and queries once; the
 *       student is base + a trainable {@link Adapter} initialised to the identity, so re-encoding the corpus with the
 *       current student is one adapter pass over stored base embeddings, never another transformer pass. The
 *       teacher (bge-small-en-v1.5 by default) embeds them once too.</li>
 *   <li><b>Hard negatives.</b> The top-k documents for each query by the current student, its own document removed
 *       ({@link DistributedTopK}); each query keeps {@code negativesPerQuery} of them, drawn by a seeded choice.</li>
 *   <li><b>Labels.</b> margin = teacher(q, d+) − teacher(q, d−).</li>
 *   <li><b>Training.</b> MarginMSE on the student's scores, AdamW with GPL's warm-up-then-linear schedule, by
 *       parameter averaging: the state (adapter and AdamW moments) is broadcast, every partition takes
 *       {@code averagingFrequency} steps on its own triples, and the driver averages the states.</li>
 *   <li><b>Re-mining (R-GPL).</b> Every R steps the student being trained re-encodes the corpus and steps 3 and 4
 *       run again, replacing every query's negatives. R = 0 never re-mines: plain GPL, from the same first mining.
 *       Every {@code redrawEvery} steps both draw their triples again from their current lists, so GPL sees as many
 *       distinct negatives as R-GPL and the two differ in the re-mining alone.</li>
 * </ol>
 *
 * <p>Every stage works on partitions: the corpus and queries stay distributed, the document-frequency table and the
 * training state are the only things the driver holds, and both have a size fixed by the settings, not by the corpus.
 */
public final class RetrieverAdaptation {

  private static final Logger LOG = LoggerFactory.getLogger(RetrieverAdaptation.class);

  public static final String DOC_IDX = "doc_idx";
  public static final String DOC_ID = "doc_id";
  public static final String Q_IDX = "q_idx";
  public static final String TEXT = "text";
  static final String BASE = "base";
  static final String TEACHER = "teacher";
  static final String TEACHER_POS = "teacher_pos";
  static final String NEG = "neg";
  static final String MARGIN = "margin";
  static final int DIM = OnnxTextEncoder.DIM;
  /** Rows per adapter forward pass on an executor. */
  static final int ADAPT_BATCH = 1024;

  private final SparkSession spark;
  private final RgplSpec spec;
  private final long seed;
  private final int workers;
  private final Stages stages;

  /**
   * @param workers training partitions (relabel.train.workers): the result depends on it, not on the cluster
   * @param stages  where each step is timed and logged; its manifest gets the stage records
   */
  public RetrieverAdaptation(SparkSession spark, RgplSpec spec, long seed, int workers, Stages stages) {
    this.spark = spark;
    this.spec = spec;
    this.seed = seed;
    this.workers = workers;
    this.stages = stages;
  }

  /** The stages {@link #prepare} runs (validate, index, pseudo-queries, embed), for "stage i/n" in the log. */
  public static final int PREPARE_STAGES = 4;

  // -------------------------------------------------------------------------------------------------- prepare

  /** The corpus and its pseudo queries, embedded by base and teacher, cached until {@link #close}. */
  public static final class Prepared implements AutoCloseable {
    /** doc_idx (long, rank of the id), doc_id (as in the corpus), text, base, and teacher (bge teacher only). */
    public final Dataset<Row> docs;
    /** q_idx, doc_idx (its positive), text, base, and teacher (bge) or teacher_pos (cross-encoder). */
    public final Dataset<Row> queries;
    public final long documents;
    public final long queryCount;
    public final int queriesPerDoc;
    /** Read by the query generator; kept until close, since a cached table's plan still refers to it. */
    private final Broadcast<HashedDocumentFrequency> df;

    Prepared(Dataset<Row> docs, Dataset<Row> queries, long documents, long queryCount, int queriesPerDoc,
        Broadcast<HashedDocumentFrequency> df) {
      this.docs = docs;
      this.queries = queries;
      this.documents = documents;
      this.queryCount = queryCount;
      this.queriesPerDoc = queriesPerDoc;
      this.df = df;
    }

    @Override
    public void close() {
      docs.unpersist(false);
      queries.unpersist(false);
      df.destroy(false);
    }
  }

  /** Validates the corpus (columns relabel.rgpl.idCol and textCol), generates the queries and embeds everything. */
  public Prepared prepare(Dataset<Row> corpus) {
    long documents = stages.run("validate", -1, () -> {
      long n = InputValidator.validateCorpus(corpus, spec.idCol(), spec.textCol());
      if (n < 2) {
        throw new io.relabel.spark.io.InputValidationException("the corpus has 1 document; a query's negatives are"
            + " other documents, so adaptation needs at least 2");
      }
      Stages.rowsOut(n);
      return n;
    });
    Dataset<Row> docs = stages.run("index", documents, () -> {
      Dataset<Row> d = index(corpus).persist(StorageLevel.MEMORY_AND_DISK());
      Stages.rowsOut(d.count());
      return d;
    });
    int qpp = spec.queriesPerDoc(documents);
    List<Broadcast<HashedDocumentFrequency>> held = new ArrayList<>(1);
    Dataset<Row> queries = stages.run("pseudo-queries", documents, () -> {
      HashedDocumentFrequency df = docs.select(TEXT).javaRDD().treeAggregate(new HashedDocumentFrequency(),
          (h, r) -> h.add(r.getString(0)), HashedDocumentFrequency::merge);
      Broadcast<HashedDocumentFrequency> b = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(df);
      held.add(b);
      Dataset<Row> q = generate(docs, b, qpp).persist(StorageLevel.MEMORY_AND_DISK());
      long n = q.count();
      if (n == 0) {
        b.destroy(false);
        throw new io.relabel.spark.io.InputValidationException("column '" + spec.idCol() + "': no document gave a"
            + " pseudo query (every text has fewer words than needed); nothing to adapt to");
      }
      LOG.info("pseudo-queries: {} from {} documents ({} per document at most, {} generator)", n, documents, qpp,
          "extractive");
      Stages.rowsOut(n);
      return q;
    });
    return stages.run("embed", documents + queries.count(), () -> {
      Prepared p = embed(docs, queries, qpp, held.get(0));
      Stages.rowsOut(p.documents + p.queryCount);
      return p;
    });
  }

  /**
   * doc_idx = the rank of the id, so the index, the query numbers and every seeded choice keyed by them are a
   * function of the corpus alone, not of how its files were split. One sort of the two corpus columns.
   */
  private Dataset<Row> index(Dataset<Row> corpus) {
    Dataset<Row> ordered = corpus.select(col(spec.idCol()).as(DOC_ID), col(spec.textCol()).as(TEXT))
        .orderBy(col(DOC_ID));
    StructType schema = new StructType()
        .add(DOC_IDX, DataTypes.LongType, false)
        .add(DOC_ID, ordered.schema().apply(DOC_ID).dataType(), false)
        .add(TEXT, DataTypes.StringType, false);
    JavaRDD<Row> rows = ordered.javaRDD().zipWithIndex()
        .map(t -> RowFactory.create(t._2(), t._1().get(0), t._1().getString(1)));
    return spark.createDataFrame(rows, schema).repartition(workers, col(DOC_IDX)).sortWithinPartitions(DOC_IDX);
  }

  private Dataset<Row> generate(Dataset<Row> docs, Broadcast<HashedDocumentFrequency> df, int qpp) {
    int minWords = spec.queryMinWords();
    int maxWords = spec.queryMaxWords();
    StructType schema = new StructType()
        .add(Q_IDX, DataTypes.LongType, false)
        .add(DOC_IDX, DataTypes.LongType, false)
        .add(TEXT, DataTypes.StringType, false);
    return docs.select(DOC_IDX, TEXT).flatMap((FlatMapFunction<Row, Row>) r -> {
      QueryGenerator g = new ExtractiveQueryGenerator(df.value(), minWords, maxWords);
      long d = r.getLong(0);
      List<String> qs = g.generate(r.getString(1), qpp);
      List<Row> out = new ArrayList<>(qs.size());
      for (int j = 0; j < qs.size(); j++) {
        // q_idx leaves room for qpp queries per document whatever the generator returns, so it stays a pure
        // function of (document, position)
        out.add(RowFactory.create(d * qpp + j, d, qs.get(j)));
      }
      return out.iterator();
    }, Encoders.row(schema));
  }

  private Prepared embed(Dataset<Row> docs, Dataset<Row> queries, int qpp, Broadcast<HashedDocumentFrequency> df) {
    OnnxTextEncoder student = OnnxTextEncoder.create(OnnxTextEncoder.Model.MINILM, spec.studentTokens());
    Dataset<Row> d = EncoderRunner.apply(docs, TEXT, student, 32, BASE);
    Dataset<Row> q = EncoderRunner.apply(queries, TEXT, student, 64, BASE);
    if (spec.teacher() == RgplSpec.Teacher.BGE) {
      OnnxTextEncoder teacher = OnnxTextEncoder.create(OnnxTextEncoder.Model.BGE, spec.teacherTokens());
      d = EncoderRunner.apply(d, TEXT, teacher, 16, TEACHER);
      // bge-small's model card: short queries against passages take its instruction prefix
      q = EncoderRunner.apply(q.withColumn("_rl_prefixed",
              functions.concat(functions.lit(DenseRetrievalEval.BGE_QUERY_PREFIX), col(TEXT))),
          "_rl_prefixed", teacher, 64, TEACHER).drop("_rl_prefixed");
    } else {
      // a cross-encoder scores pairs: the positive pair of each query once, here; negatives after each mining
      Dataset<Row> pairs = q.join(d.select(col(DOC_IDX), col(TEXT).as("_rl_doc_text")), DOC_IDX);
      q = crossScore(pairs, TEXT, "_rl_doc_text", TEACHER_POS).drop("_rl_doc_text")
          .repartition(workers, col(Q_IDX)).sortWithinPartitions(Q_IDX);
    }
    d = d.persist(StorageLevel.MEMORY_AND_DISK());
    q = q.persist(StorageLevel.MEMORY_AND_DISK());
    long nd = d.count();
    long nq = q.count();
    docs.unpersist(false);
    queries.unpersist(false);
    return new Prepared(d, q, nd, nq, qpp, df);
  }

  /** Adds {@code out}, the cross-encoder's logit for (queryCol, docCol), one pair per row. */
  private Dataset<Row> crossScore(Dataset<Row> pairs, String queryCol, String docCol, String out) {
    OnnxCrossEncoder ce = OnnxCrossEncoder.open(spec.crossEncoderModel(), spec.crossEncoderTokenizer(),
        spec.teacherTokens());
    StructType schema = pairs.schema().add(out, DataTypes.FloatType, false);
    int qi = pairs.schema().fieldIndex(queryCol);
    int di = pairs.schema().fieldIndex(docCol);
    int width = pairs.schema().length();
    return pairs.mapPartitions((MapPartitionsFunction<Row, Row>) it -> new Batches<Row, Row>(it, 256, rows -> {
      List<String> qs = new ArrayList<>();
      List<String> ds = new ArrayList<>();
      for (Row r : rows) {
        qs.add(r.getString(qi));
        ds.add(r.getString(di));
      }
      float[] s = ce.score(qs, ds);
      List<Row> res = new ArrayList<>(rows.size());
      for (int i = 0; i < rows.size(); i++) {
        Object[] v = new Object[width + 1];
        for (int j = 0; j < width; j++) {
          v[j] = rows.get(i).get(j);
        }
        v[width] = s[i];
        res.add(RowFactory.create(v));
      }
      return res;
    }), Encoders.row(schema));
  }

  // ---------------------------------------------------------------------------------------------------- train

  /** The adapter after the last step and what the training did. */
  public static final class Trained {
    public final Adapter adapter;
    public final Map<String, Object> metrics;

    Trained(Adapter adapter, Map<String, Object> metrics) {
      this.adapter = adapter;
      this.metrics = metrics;
    }
  }

  /** Trains the adapter: GPL when relabel.rgpl.remineEvery is 0, R-GPL otherwise. */
  public Trained train(Prepared p) {
    return stages.run(spec.remineEvery() == 0 ? "train-gpl" : "train-rgpl", p.queryCount, () -> {
      Trained t = trainLoop(p);
      Stages.rowsOut(p.queryCount);
      return t;
    });
  }

  private Trained trainLoop(Prepared p) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    AdapterTrainer trainer = trainer(spec);
    double[] state = trainer.initState(seed);
    int r = spec.remineEvery();
    JavaRDD<Shard> shards = null;
    JavaPairRDD<Long, DistributedTopK.Hits> mined = null;
    List<Double> losses = new ArrayList<>();
    List<Double> replaced = new ArrayList<>();
    double mineSeconds = 0;
    double stepSeconds = 0;
    int redraw = spec.redrawEvery();
    int minings = 0;
    int draws = 0;
    long triples = 0;
    for (long step = 0; step < spec.steps(); ) {
      boolean remine = mined == null || (r > 0 && step % r == 0);
      if (remine || (redraw > 0 && step % redraw == 0)) {
        long t0 = System.nanoTime();
        if (remine) {
          JavaPairRDD<Long, DistributedTopK.Hits> hits = mine(p, state).persist(StorageLevel.MEMORY_AND_DISK());
          if (mined != null) {
            double share = replacedShare(mined, hits);
            replaced.add(share);
            LOG.info("re-mining at step {}: {} of the mined negatives are new", step,
                String.format(java.util.Locale.ROOT, "%.3f", share));
            mined.unpersist(false);
          }
          mined = hits;
          minings++;
        }
        // draw number `draws` keys the seeded choice, so each draw (after a mining or not) picks afresh
        if (shards != null) {
          shards.unpersist(false); // before the next draw, so that two draws never share the memory
        }
        shards = shards(p, mined, draws).persist(StorageLevel.MEMORY_AND_DISK());
        triples = shards.map(s -> (long) s.triples.rows()).reduce(Long::sum);
        draws++;
        mineSeconds += (System.nanoTime() - t0) / 1e9;
      }
      int n = (int) Math.min(spec.averagingFrequency(), spec.steps() - step);
      long t0 = System.nanoTime();
      double[] out = round(jsc, shards, state, step, n);
      state = Arrays.copyOf(out, out.length - 1);
      losses.add(out[out.length - 1]);
      stepSeconds += (System.nanoTime() - t0) / 1e9;
      step += n;
      if (losses.size() % 10 == 0 || step >= spec.steps()) {
        LOG.info("adapter training: step {} of {}, MarginMSE {}", step, spec.steps(),
            String.format(java.util.Locale.ROOT, "%.6f", out[out.length - 1]));
      }
    }
    if (mined != null) {
      mined.unpersist(false);
    }
    if (shards != null) {
      shards.unpersist(false);
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("steps", spec.steps());
    m.put("remineEvery", r);
    m.put("minings", minings);
    m.put("draws", draws);
    m.put("triplesPerMining", triples);
    m.put("negativesReplaced", replaced);
    m.put("lossCurve", losses);
    m.put("miningSeconds", mineSeconds);
    m.put("trainSeconds", stepSeconds);
    return new Trained(trainer.adapter(state), m);
  }

  static AdapterTrainer trainer(RgplSpec spec) {
    return new AdapterTrainer(spec.adapter(), DIM, spec.batchSize(),
        new AdamW(spec.learningRate(), spec.warmupSteps(), spec.steps(), spec.weightDecay()));
  }

  /**
   * One averaging round: broadcast the state, {@code n} steps from global step {@code step} on every partition's
   * triples, the element-wise mean of the resulting states. Returns the mean state with the mean loss appended.
   */
  private double[] round(JavaSparkContext jsc, JavaRDD<Shard> shards, double[] state, long step, int n) {
    Broadcast<double[]> b = jsc.broadcast(state);
    RgplSpec s = spec;
    long sd = seed;
    try {
      double[] sum = shards.mapPartitions((Iterator<Shard> it) -> {
        List<double[]> out = new ArrayList<>();
        while (it.hasNext()) {
          Shard sh = it.next();
          if (sh.triples.rows() == 0) {
            continue;
          }
          AdapterTrainer.Result res = trainer(s).run(b.value(), sh.triples, sd, sh.partition, step, n);
          double[] v = Arrays.copyOf(res.state(), res.state().length + 2);
          v[v.length - 2] = res.meanLoss();
          v[v.length - 1] = 1;
          out.add(v);
        }
        return out.iterator();
      }).treeAggregate(null, RetrieverAdaptation::add, RetrieverAdaptation::add);
      if (sum == null) {
        throw new IllegalStateException("no partition holds training triples");
      }
      double parts = sum[sum.length - 1];
      double[] mean = new double[sum.length - 1];
      for (int i = 0; i < mean.length; i++) {
        mean[i] = sum[i] / parts;
      }
      return mean;
    } finally {
      b.destroy(false);
    }
  }

  private static double[] add(double[] a, double[] b) {
    if (a == null) {
      return b;
    }
    if (b == null) {
      return a;
    }
    double[] out = a.clone();
    for (int i = 0; i < out.length; i++) {
      out[i] += b[i];
    }
    return out;
  }

  // ----------------------------------------------------------------------------------------------------- mine

  /** Every query's top-k documents by the student with {@code state}, its own document excluded. */
  JavaPairRDD<Long, DistributedTopK.Hits> mine(Prepared p, double[] state) {
    // only the adapter's parameters travel, not the optimiser moments of the state
    Broadcast<double[]> b = JavaSparkContext.fromSparkContext(spark.sparkContext())
        .broadcast(trainer(spec).adapter(state).paramsCopy());
    AdapterSpec a = spec.adapter();
    // in batches: a Row's array column reads as boxed floats, so a partition of rows is never held at once
    JavaRDD<DistributedTopK.Doc> docs = p.docs.select(DOC_IDX, BASE).javaRDD().mapPartitions(it -> {
      Adapter student = student(a, b.value());
      return new Batches<Row, DistributedTopK.Doc>(it, ADAPT_BATCH, rows -> {
        float[][] v = adapt(student, rows, 1);
        List<DistributedTopK.Doc> out = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
          out.add(new DistributedTopK.Doc(rows.get(i).getLong(0), v[i]));
        }
        return out;
      });
    });
    JavaRDD<DistributedTopK.Query> queries = p.queries.select(Q_IDX, BASE, DOC_IDX).javaRDD().mapPartitions(it -> {
      Adapter student = student(a, b.value());
      return new Batches<Row, DistributedTopK.Query>(it, ADAPT_BATCH, rows -> {
        float[][] v = adapt(student, rows, 1);
        List<DistributedTopK.Query> out = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
          out.add(new DistributedTopK.Query(rows.get(i).getLong(0), rows.get(i).getLong(2), v[i]));
        }
        return out;
      });
    });
    return DistributedTopK.topK(queries, docs, spec.negatives(), spec.queryBlock());
  }

  /** The adapter with {@code params}, built once per partition on an executor. */
  static Adapter student(AdapterSpec a, double[] params) {
    Adapter adapter = Adapter.identity(a, DIM, DataType.FLOAT, 0);
    adapter.setParams(params);
    return adapter;
  }

  /** The student's embeddings of the rows' column {@code col} (base embeddings), in row order. */
  static float[][] adapt(Adapter adapter, List<Row> rows, int col) {
    float[][] x = new float[rows.size()][];
    for (int i = 0; i < x.length; i++) {
      x[i] = Features.floats(rows.get(i), col, DIM);
    }
    return x.length == 0 ? new float[0][] : adapter.apply(x);
  }

  /** Share of the mined (query, negative) pairs of {@code now} that {@code before} did not have. */
  private static double replacedShare(JavaPairRDD<Long, DistributedTopK.Hits> before,
      JavaPairRDD<Long, DistributedTopK.Hits> now) {
    long[] counts = now.join(before).map(t -> {
      java.util.Set<Long> old = new java.util.HashSet<>();
      for (long d : t._2()._2().docs) {
        old.add(d);
      }
      long fresh = 0;
      for (long d : t._2()._1().docs) {
        if (!old.contains(d)) {
          fresh++;
        }
      }
      return new long[] {fresh, t._2()._1().docs.length};
    }).fold(new long[2], (x, y) -> new long[] {x[0] + y[0], x[1] + y[1]});
    return counts[1] == 0 ? 0 : (double) counts[0] / counts[1];
  }

  // --------------------------------------------------------------------------------------------------- triples

  /** One partition's training triples, built once per mining and read by every round until the next. */
  static final class Shard implements Serializable {
    private static final long serialVersionUID = 1L;
    final int partition;
    final AdapterTrainer.Triples triples;
    /** q_idx and negative doc_idx of each triple, in the order of {@link #triples} (audit and tests). */
    final long[] queries;
    final long[] negatives;

    Shard(int partition, AdapterTrainer.Triples triples, long[] queries, long[] negatives) {
      this.partition = partition;
      this.triples = triples;
      this.queries = queries;
      this.negatives = negatives;
    }
  }

  /**
   * The training triples of draw number {@code draw}: each query keeps {@code negativesPerQuery} of its mined
   * negatives, drawn without replacement by a generator seeded with (seed, draw, query), and every triple
   * gets its teacher margin. Laid out in {@code workers} partitions by query, sorted, so a partition's triples and
   * their order do not depend on the cluster.
   */
  JavaRDD<Shard> shards(Prepared p, JavaPairRDD<Long, DistributedTopK.Hits> hits, int draw) {
    int m = spec.negativesPerQuery();
    long sd = seed;
    JavaRDD<Row> drawn = hits.flatMap(t -> {
      long[] docs = t._2().docs;
      int take = Math.min(m, docs.length);
      long[] pool = docs.clone();
      String stage = "rgpl-negatives-" + draw;
      List<Row> out = new ArrayList<>(take);
      for (int i = 0; i < take; i++) {
        int j = i + RowSeeds.uniformInt(sd, stage, t._1(), i, pool.length - i);
        long tmp = pool[i];
        pool[i] = pool[j];
        pool[j] = tmp;
        out.add(RowFactory.create(t._1(), pool[i]));
      }
      return out.iterator();
    });
    StructType schema = new StructType().add(Q_IDX, DataTypes.LongType, false).add(NEG, DataTypes.LongType, false);
    Dataset<Row> t = spark.createDataFrame(drawn, schema);
    boolean bge = spec.teacher() == RgplSpec.Teacher.BGE;
    // only what the teacher needs travels through the joins: bge vectors, or the cross-encoder's texts
    Dataset<Row> q = bge
        ? p.queries.select(col(Q_IDX), col(DOC_IDX).as("_rl_pos"), col(BASE).as("_rl_q"), col(TEACHER).as("_rl_qt"))
        : p.queries.select(col(Q_IDX), col(DOC_IDX).as("_rl_pos"), col(BASE).as("_rl_q"),
            col(TEACHER_POS).as("_rl_tpos"), col(TEXT).as("_rl_qtext"));
    Dataset<Row> pos = bge
        ? p.docs.select(col(DOC_IDX).as("_rl_pos"), col(BASE).as("_rl_p"), col(TEACHER).as("_rl_pt"))
        : p.docs.select(col(DOC_IDX).as("_rl_pos"), col(BASE).as("_rl_p"));
    Dataset<Row> neg = p.docs.select(col(DOC_IDX).as(NEG), col(BASE).as("_rl_n"),
        bge ? col(TEACHER).as("_rl_nt") : col(TEXT).as("_rl_ntext"));
    Dataset<Row> joined = t.join(q, Q_IDX).join(pos, "_rl_pos").join(neg, NEG);
    Dataset<Row> labelled;
    if (bge) {
      labelled = joined.withColumn(MARGIN, functions.udf(
          (scala.collection.Seq<Float> qt, scala.collection.Seq<Float> pt, scala.collection.Seq<Float> nt) ->
              margin(qt, pt, nt), DataTypes.FloatType).apply(col("_rl_qt"), col("_rl_pt"), col("_rl_nt")));
    } else {
      labelled = crossScore(joined, "_rl_qtext", "_rl_ntext", "_rl_tneg")
          .withColumn(MARGIN, col("_rl_tpos").minus(col("_rl_tneg")).cast(DataTypes.FloatType));
    }
    Dataset<Row> laid = labelled.select(col(Q_IDX), col(NEG), col("_rl_q"), col("_rl_p"), col("_rl_n"), col(MARGIN))
        .repartition(workers, col(Q_IDX)).sortWithinPartitions(Q_IDX, NEG);
    return laid.javaRDD().mapPartitionsWithIndex((idx, it) -> {
      // rows are copied into primitive arrays as they stream by (a Row's arrays are boxed floats)
      int cap = 1024;
      int n = 0;
      float[] qv = new float[cap * DIM];
      float[] pv = new float[cap * DIM];
      float[] nv = new float[cap * DIM];
      float[] mg = new float[cap];
      long[] qs = new long[cap];
      long[] ns = new long[cap];
      while (it.hasNext()) {
        Row r = it.next();
        if (n == cap) {
          cap *= 2;
          qv = Arrays.copyOf(qv, cap * DIM);
          pv = Arrays.copyOf(pv, cap * DIM);
          nv = Arrays.copyOf(nv, cap * DIM);
          mg = Arrays.copyOf(mg, cap);
          qs = Arrays.copyOf(qs, cap);
          ns = Arrays.copyOf(ns, cap);
        }
        qs[n] = r.getLong(0);
        ns[n] = r.getLong(1);
        System.arraycopy(Features.floats(r, 2, DIM), 0, qv, n * DIM, DIM);
        System.arraycopy(Features.floats(r, 3, DIM), 0, pv, n * DIM, DIM);
        System.arraycopy(Features.floats(r, 4, DIM), 0, nv, n * DIM, DIM);
        mg[n] = r.getFloat(5);
        n++;
      }
      AdapterTrainer.Triples tr = new AdapterTrainer.Triples(n, DIM, Arrays.copyOf(qv, n * DIM),
          Arrays.copyOf(pv, n * DIM), Arrays.copyOf(nv, n * DIM), Arrays.copyOf(mg, n));
      return List.of(new Shard(idx, tr, Arrays.copyOf(qs, n), Arrays.copyOf(ns, n))).iterator();
    }, true);
  }

  /** teacher(q, d+) − teacher(q, d−) for a bi-encoder teacher: a difference of dot products, in double. */
  static float margin(scala.collection.Seq<Float> q, scala.collection.Seq<Float> p, scala.collection.Seq<Float> n) {
    double s = 0;
    for (int j = 0; j < q.length(); j++) {
      double qj = q.apply(j);
      s += qj * (p.apply(j) - (double) n.apply(j));
    }
    return (float) s;
  }

  // ---------------------------------------------------------------------------------------------------- output

  /** doc_id and the adapted student's embedding of every document. */
  public Dataset<Row> documentEmbeddings(Prepared p, Adapter adapter) {
    double[] params = adapter.paramsCopy();
    AdapterSpec a = spec.adapter();
    StructType schema = new StructType()
        .add(DOC_ID, p.docs.schema().apply(DOC_ID).dataType(), false)
        .add("embedding", DataTypes.createArrayType(DataTypes.FloatType, false), false);
    return p.docs.select(DOC_ID, BASE).mapPartitions((MapPartitionsFunction<Row, Row>) it -> {
      Adapter student = student(a, params);
      return new Batches<Row, Row>(it, ADAPT_BATCH, rows -> {
        float[][] v = adapt(student, rows, 1);
        List<Row> out = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
          out.add(RowFactory.create(rows.get(i).get(0), v[i]));
        }
        return out;
      });
    }, Encoders.row(schema));
  }

  /** For tests: the mined hits as a driver map (small corpora only). */
  static Map<Long, long[]> collectHits(JavaPairRDD<Long, DistributedTopK.Hits> hits) {
    Map<Long, long[]> out = new java.util.TreeMap<>();
    for (Tuple2<Long, DistributedTopK.Hits> t : hits.collect()) {
      out.put(t._1(), t._2().docs);
    }
    return out;
  }
}
