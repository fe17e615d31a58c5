package io.relabel.spark.ir;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.relabel.core.config.Settings;
import io.relabel.core.retrieval.Adapter;
import io.relabel.core.retrieval.RgplSpec;
import io.relabel.spark.SparkTestSession;
import io.relabel.spark.embed.OnnxCrossEncoder;
import io.relabel.spark.embed.OnnxCrossEncoderTest;
import io.relabel.spark.train.Features;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * R-GPL on a 120-document slice of Cranfield with the real encoders: mining is the exact top-k of the current
 * student, re-mining replaces the negatives, GPL mines once, and a seed fixes the trained adapter.
 */
@Tag("spark")
public class RetrieverAdaptationTest {

  static final Map<String, String> SMALL = Map.ofEntries(
      Map.entry("relabel.rgpl.studentTokens", "128"),
      Map.entry("relabel.rgpl.teacherTokens", "128"),
      Map.entry("relabel.rgpl.maxQueriesPerDoc", "2"),
      Map.entry("relabel.rgpl.negatives", "10"),
      Map.entry("relabel.rgpl.negativesPerQuery", "3"),
      Map.entry("relabel.rgpl.steps", "40"),
      Map.entry("relabel.rgpl.averagingFrequency", "10"),
      Map.entry("relabel.rgpl.remineEvery", "20"),
      Map.entry("relabel.rgpl.learningRate", "0.01"),
      Map.entry("relabel.rgpl.warmupSteps", "0"),
      Map.entry("relabel.rgpl.queryBlock", "50"),
      Map.entry("relabel.train.workers", "2"));

  static RgplSpec spec;
  static RetrieverAdaptation.Prepared prepared;

  public static Dataset<Row> cranfieldSlice(SparkSession spark, int docs) {
    Path dir = Path.of(System.getProperty("relabel.project.dir", ".."), "..", "shared", "data", "ir", "cranfield")
        .normalize();
    assumeTrue(Files.isDirectory(dir), "no ../shared/data/ir beside the project");
    IrCollection c = IrCollection.cranfield(dir);
    List<Row> rows = new ArrayList<>();
    for (Map.Entry<String, String> d : c.docs().entrySet()) {
      if (rows.size() == docs) {
        break;
      }
      rows.add(RowFactory.create(Long.parseLong(d.getKey()), d.getValue()));
    }
    return spark.createDataFrame(rows, new StructType().add("doc_id", DataTypes.LongType)
        .add("text", DataTypes.StringType)).repartition(3);
  }

  public static Settings settings(Map<String, String> extra) {
    Map<String, String> m = new HashMap<>(SMALL);
    m.putAll(extra);
    return Settings.defaults().with(m);
  }

  static RetrieverAdaptation engine(RgplSpec s, long seed) {
    SparkSession spark = SparkTestSession.get();
    return new RetrieverAdaptation(spark, s, seed, 2, new io.relabel.spark.stage.Stages(spark, null, 0));
  }

  @BeforeAll
  static void prepare() {
    SparkSession spark = SparkTestSession.get();
    spec = RgplSpec.from(settings(Map.of()));
    prepared = engine(spec, 7).prepare(cranfieldSlice(spark, 120));
  }

  @AfterAll
  static void release() {
    if (prepared != null) {
      prepared.close();
    }
  }

  @Test
  void pseudoQueriesAreBoundedAndKeyedByDocument() {
    assertEquals(120, prepared.documents);
    assertEquals(2, prepared.queriesPerDoc);
    assertTrue(prepared.queryCount > 120 && prepared.queryCount <= 240, "queries: " + prepared.queryCount);
    for (Row r : prepared.queries.select("q_idx", "doc_idx").collectAsList()) {
      assertEquals(r.getLong(1), r.getLong(0) / 2, "q_idx / QPP is the query's document");
    }
  }

  @Test
  void miningIsTheStudentsExactTopKWithoutThePositive() {
    RetrieverAdaptation e = engine(spec, 7);
    double[] init = RetrieverAdaptation.trainer(spec).initState(7);
    Map<Long, long[]> hits = RetrieverAdaptation.collectHits(e.mine(prepared, init));
    assertEquals(prepared.queryCount, hits.size());
    // brute force on the driver with the base embeddings (the identity adapter L2-normalises them)
    Map<Long, float[]> docs = new HashMap<>();
    for (Row r : prepared.docs.select("doc_idx", "base").collectAsList()) {
      docs.put(r.getLong(0), Features.floats(r, 1, 384));
    }
    Adapter id = Adapter.identity(spec.adapter(), 384, DataType.FLOAT, 0);
    int checked = 0;
    for (Row r : prepared.queries.select("q_idx", "doc_idx", "base").collectAsList()) {
      if (checked++ % 7 != 0) {
        continue;
      }
      float[] q = id.apply(new float[][] {Features.floats(r, 2, 384)})[0];
      List<long[]> scored = new ArrayList<>();
      List<Double> sims = new ArrayList<>();
      for (Map.Entry<Long, float[]> d : docs.entrySet()) {
        if (d.getKey() == r.getLong(1)) {
          continue;
        }
        float[] dv = id.apply(new float[][] {d.getValue()})[0];
        double s = 0;
        for (int j = 0; j < 384; j++) {
          s += (double) q[j] * dv[j];
        }
        scored.add(new long[] {d.getKey()});
        sims.add(s);
      }
      Integer[] order = new Integer[scored.size()];
      for (int i = 0; i < order.length; i++) {
        order[i] = i;
      }
      Arrays.sort(order, (a, b) -> sims.get(a).equals(sims.get(b))
          ? Long.compare(scored.get(a)[0], scored.get(b)[0]) : Double.compare(sims.get(b), sims.get(a)));
      long[] expected = new long[10];
      for (int i = 0; i < 10; i++) {
        expected[i] = scored.get(order[i])[0];
      }
      assertArrayEquals(expected, hits.get(r.getLong(0)), "query " + r.getLong(0));
    }
  }

  @Test
  void reMiningReplacesTheNegativesAndGplMinesOnce() {
    RetrieverAdaptation.Trained rgpl = engine(spec, 7).train(prepared);
    assertEquals(2, rgpl.metrics.get("minings"));
    @SuppressWarnings("unchecked")
    List<Double> replaced = (List<Double>) rgpl.metrics.get("negativesReplaced");
    assertEquals(1, replaced.size());
    assertTrue(replaced.get(0) > 0.05, "re-mining with the trained student changed only " + replaced.get(0));
    assertEquals(4, ((List<?>) rgpl.metrics.get("lossCurve")).size());

    RetrieverAdaptation.Trained gpl = engine(spec.withRemineEvery(0), 7).train(prepared);
    assertEquals(1, gpl.metrics.get("minings"));
    assertEquals(List.of(), gpl.metrics.get("negativesReplaced"));
    assertFalse(Arrays.equals(gpl.adapter.paramsCopy(), rgpl.adapter.paramsCopy()));

    // the triples after a mining with the trained student: negatives from its own top-k, never the positive
    RetrieverAdaptation e = engine(spec, 7);
    double[] state = new double[RetrieverAdaptation.trainer(spec).stateLength()];
    System.arraycopy(rgpl.adapter.paramsCopy(), 0, state, 0, rgpl.adapter.numParams());
    JavaPairRDD<Long, DistributedTopK.Hits> now = e.mine(prepared, state);
    Map<Long, long[]> hits = RetrieverAdaptation.collectHits(now);
    Map<Long, long[]> before = RetrieverAdaptation.collectHits(
        e.mine(prepared, RetrieverAdaptation.trainer(spec).initState(7)));
    assertNotEquals(0, hits.entrySet().stream().filter(h -> !Arrays.equals(h.getValue(), before.get(h.getKey())))
        .count());
    Map<Long, Integer> perQuery = new HashMap<>();
    long triples = 0;
    for (RetrieverAdaptation.Shard s : e.shards(prepared, now, 1).collect()) {
      for (int i = 0; i < s.queries.length; i++) {
        long q = s.queries[i];
        Set<Long> mined = new HashSet<>();
        for (long d : hits.get(q)) {
          mined.add(d);
        }
        assertTrue(mined.contains(s.negatives[i]), "negative " + s.negatives[i] + " of query " + q);
        assertNotEquals(q / 2, s.negatives[i], "the positive is never a negative");
        perQuery.merge(q, 1, Integer::sum);
        triples++;
      }
      assertEquals(s.queries.length, s.triples.rows());
    }
    assertEquals(prepared.queryCount * 3, triples);
    assertTrue(perQuery.values().stream().allMatch(n -> n == 3));
  }

  @Test
  void aCrossEncoderTeacherLabelsEveryTripleWithItsLogitMargin(@TempDir Path tmp) throws Exception {
    // a hand-written ONNX "cross-encoder" whose logit is a sum over the pair's tokens (OnnxCrossEncoderTest)
    Path model = tmp.resolve("xenc.onnx");
    Files.write(model, OnnxCrossEncoderTest.sumModel("input_ids", true, "batch"));
    String tokenizer = OnnxCrossEncoderTest.writeMiniLmTokenizer(tmp);
    RgplSpec s = RgplSpec.from(settings(Map.of("relabel.rgpl.teacher", "cross-encoder",
        "relabel.rgpl.crossEncoderModel", model.toString(), "relabel.rgpl.crossEncoderTokenizer", tokenizer,
        "relabel.rgpl.steps", "20")));
    SparkSession spark = SparkTestSession.get();
    try (RetrieverAdaptation.Prepared p = engine(s, 3).prepare(cranfieldSlice(spark, 30))) {
      OnnxCrossEncoder ce = OnnxCrossEncoder.open(model.toString(), tokenizer, 128);
      Map<Long, String> docText = new HashMap<>();
      for (Row r : p.docs.select("doc_idx", "text").collectAsList()) {
        docText.put(r.getLong(0), r.getString(1));
      }
      Map<Long, String> queryText = new HashMap<>();
      Map<Long, Float> positive = new HashMap<>();
      for (Row r : p.queries.select("q_idx", "doc_idx", "text", "teacher_pos").collectAsList()) {
        queryText.put(r.getLong(0), r.getString(2));
        positive.put(r.getLong(0), r.getFloat(3));
        assertEquals(ce.score(List.of(r.getString(2)), List.of(docText.get(r.getLong(1))))[0], r.getFloat(3));
      }
      RetrieverAdaptation e = engine(s, 3);
      JavaPairRDD<Long, DistributedTopK.Hits> hits = e.mine(p, RetrieverAdaptation.trainer(s).initState(3));
      int checked = 0;
      for (RetrieverAdaptation.Shard sh : e.shards(p, hits, 0).collect()) {
        float[] margin = sh.triples.margin();
        for (int i = 0; i < sh.queries.length; i++) {
          float neg = ce.score(List.of(queryText.get(sh.queries[i])), List.of(docText.get(sh.negatives[i])))[0];
          assertEquals(positive.get(sh.queries[i]) - neg, margin[i], "query " + sh.queries[i]);
          checked++;
        }
      }
      assertEquals(p.queryCount * 3, checked);
      assertEquals(1, e.train(p).metrics.get("minings"));
    }
  }

  @Test
  void theSameSeedGivesTheSameAdapter() {
    RgplSpec s = spec.withRemineEvery(0);
    double[] a = engine(s, 11).train(prepared).adapter.paramsCopy();
    double[] b = engine(s, 11).train(prepared).adapter.paramsCopy();
    double[] c = engine(s, 12).train(prepared).adapter.paramsCopy();
    assertArrayEquals(a, b);
    assertFalse(Arrays.equals(a, c));
  }
}
