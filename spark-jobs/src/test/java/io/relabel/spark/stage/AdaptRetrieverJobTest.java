package io.relabel.spark.stage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.relabel.core.config.Settings;
import io.relabel.core.retrieval.Adapter;
import io.relabel.spark.SparkTestSession;
import io.relabel.spark.cli.RelabelException;
import io.relabel.spark.embed.OnnxTextEncoder;
import io.relabel.spark.io.InputValidationException;
import io.relabel.spark.ir.RetrieverAdaptationTest;
import io.relabel.spark.train.Features;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code relabel adapt-retriever} end to end on 60 Cranfield documents, and its refusals of bad corpora. */
@Tag("spark")
class AdaptRetrieverJobTest {

  @TempDir Path dir;

  static Settings settings(String... kv) {
    Map<String, String> m = new HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return RetrieverAdaptationTest.settings(m);
  }

  @Test
  void writesEmbeddingsTheAdapterReproducesAndAManifest() throws Exception {
    SparkSession spark = SparkTestSession.get();
    String in = dir.resolve("corpus").toString();
    RetrieverAdaptationTest.cranfieldSlice(spark, 60).write().parquet(in);
    String out = dir.resolve("adapted").toString();
    AdaptRetrieverJob.Result r = new AdaptRetrieverJob(spark, settings()).run(in, out, false);
    assertEquals(60, r.documents());

    List<Row> rows = spark.read().parquet(out).orderBy("doc_id").collectAsList();
    assertEquals(60, rows.size());
    assertEquals(List.of("doc_id", "embedding"), List.of(spark.read().parquet(out).columns()));
    Adapter adapter = Adapter.fromBytes(Files.readAllBytes(Path.of(out, AdaptRetrieverJob.ADAPTER_FILE)));
    // the saved adapter on the frozen encoder's embedding of the text gives the written embedding
    Map<Long, String> text = new HashMap<>();
    for (Row t : spark.read().parquet(in).collectAsList()) {
      text.put(t.getLong(0), t.getString(1));
    }
    OnnxTextEncoder minilm = OnnxTextEncoder.create(OnnxTextEncoder.Model.MINILM, 128);
    for (Row row : rows.subList(0, 5)) {
      float[] base = minilm.encode(List.of(text.get(row.getLong(0))))[0];
      float[] expected = adapter.apply(new float[][] {base})[0];
      float[] written = Features.floats(row, 1, 384);
      double norm = 0;
      for (int j = 0; j < 384; j++) {
        assertEquals(expected[j], written[j], 1e-5, "doc " + row.getLong(0) + " dim " + j);
        norm += written[j] * written[j];
      }
      assertEquals(1.0, norm, 1e-4, "cosine similarity: unit vectors");
    }
    JsonNode m = new ObjectMapper().readTree(Path.of(out, "_manifest.json").toFile());
    assertEquals("adapt-retriever", m.path("command").asText());
    assertEquals(60, m.path("metrics").path("rgpl").path("documents").asLong());
    assertEquals(2, m.path("metrics").path("rgpl").path("train").path("minings").asInt());
    List<String> stages = new ArrayList<>();
    m.path("stages").forEach(s -> stages.add(s.path("name").asText()));
    // the manifest is written inside the write stage, before its commit, so it lists the stages before it
    assertEquals(List.of("validate", "index", "pseudo-queries", "embed", "train-rgpl"), stages);
    assertEquals("write", r.manifest().stages().get(5).name());
  }

  @Test
  void badCorporaAreRefusedBeforeAnythingIsWritten() {
    SparkSession spark = SparkTestSession.get();
    StructType schema = new StructType().add("doc_id", DataTypes.StringType).add("text", DataTypes.StringType);
    Object[][][] cases = {
        {{"a", "lift of a wing"}, {"b", "  "}, {"c", "drag"}},
        {{"a", "lift of a wing"}, {"b", null}},
        {{"a", "lift"}, {"a", "drag"}, {"b", "shock"}},
        {{null, "lift"}, {"b", "drag"}},
        {{"a", "lift of a wing"}},
    };
    String[] expected = {
        "column 'text' is null or blank in 1 row; the first is row id 'b' with value '  '; every document needs"
            + " some text",
        "column 'text' is null or blank in 1 row; the first is row id 'b' with value null; every document needs"
            + " some text",
        "column 'doc_id' must be unique, but 1 id occurs more than once (2 rows in all); the first is id 'a',"
            + " which occurs 2 times",
        "column 'doc_id' (the document id) is null in 1 row",
        "the corpus has 1 document; a query's negatives are other documents, so adaptation needs at least 2",
    };
    for (int i = 0; i < cases.length; i++) {
      List<Row> rows = new ArrayList<>();
      for (Object[] r : cases[i]) {
        rows.add(RowFactory.create(r));
      }
      String in = dir.resolve("bad" + i).toString();
      spark.createDataFrame(rows, schema).write().parquet(in);
      String out = dir.resolve("out" + i).toString();
      InputValidationException e = assertThrows(InputValidationException.class,
          () -> new AdaptRetrieverJob(spark, settings()).run(in, out, false));
      assertEquals(expected[i], e.getMessage());
      assertFalse(Files.exists(Path.of(out)), "nothing written for case " + i);
    }
    Dataset<Row> noText = spark.createDataFrame(List.of(RowFactory.create("a", 1)),
        new StructType().add("doc_id", DataTypes.StringType).add("body", DataTypes.IntegerType));
    String in = dir.resolve("notext").toString();
    noText.write().parquet(in);
    InputValidationException e = assertThrows(InputValidationException.class,
        () -> new AdaptRetrieverJob(spark, settings()).run(in, dir.resolve("o").toString(), false));
    assertEquals("column 'text' (relabel.rgpl.textCol) is missing; the table has columns: doc_id, body",
        e.getMessage());
    InputValidationException t = assertThrows(InputValidationException.class,
        () -> new AdaptRetrieverJob(spark, settings("relabel.rgpl.textCol", "body")).run(in,
            dir.resolve("o").toString(), false));
    assertEquals("column 'body' (relabel.rgpl.textCol) has type int; accepted: string", t.getMessage());
    RelabelException s = assertThrows(RelabelException.class,
        () -> new AdaptRetrieverJob(spark, settings("relabel.rgpl.remineEvery", "15")).run(in,
            dir.resolve("o").toString(), false));
    assertEquals("relabel.rgpl.remineEvery=15 must be 0 or a multiple of relabel.rgpl.averagingFrequency=10",
        s.getMessage());
    assertTrue(Files.notExists(dir.resolve("o")));
  }
}
