package io.relabel.spark.stage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.relabel.core.config.Settings;
import io.relabel.spark.SparkTestSession;
import io.relabel.spark.cli.CliRun;
import io.relabel.spark.cli.RelabelException;
import io.relabel.spark.embed.EmbeddingStore;
import io.relabel.spark.io.RunManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code relabel embed}, then runs that reuse its table: the same result as embedding, or a clear refusal. */
@Tag("spark")
class EmbedReuseTest {

  @TempDir static Path dir;
  static String numeric;
  static String text;

  static final Map<String, String> FAST = Map.of(
      "relabel.train.epochs", "3",
      "relabel.consensus.retrainEpochs", "3",
      "relabel.train.hiddenUnits", "16",
      "relabel.train.batchSize", "32",
      "relabel.train.averagingFrequency", "5",
      "relabel.embed.pcaDims", "4",
      "relabel.consensus.folds", "2",
      "relabel.eval.ceiling", "false");

  /** 300 rows: 3 Gaussian classes in 8-d (ids 0..299), every 5th row held out. */
  @BeforeAll
  static void writeInputs() {
    SparkSession spark = SparkTestSession.get();
    Random r = new Random(23);
    List<Row> rows = new ArrayList<>();
    for (long id = 0; id < 300; id++) {
      int y = (int) (id % 3);
      float[] x = new float[8];
      for (int j = 0; j < 8; j++) {
        x[j] = (float) ((j % 3 == y ? 2 : 0) + r.nextGaussian());
      }
      rows.add(RowFactory.create(id, x, y, id % 5 == 0 ? "test" : "train"));
    }
    StructType schema = new StructType().add("id", DataTypes.LongType)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType)).add("label", DataTypes.IntegerType)
        .add("split", DataTypes.StringType);
    numeric = dir.resolve("numeric").toString();
    spark.createDataFrame(rows, schema).repartition(3).write().parquet(numeric);

    String[][] sentences = {
        {"a dog barks at the mailman", "the puppy chews a bone", "a cat sleeps on the sofa",
            "the kitten chases a mouse", "a horse runs in the field", "the cow eats grass"},
        {"the stock price fell sharply", "interest rates rose again", "the bank reported a loss",
            "investors sold their shares", "inflation hit a new high", "the market closed lower"}};
    List<Row> texts = new ArrayList<>();
    for (int c = 0; c < 2; c++) {
      for (int i = 0; i < sentences[c].length; i++) {
        texts.add(RowFactory.create("t" + c + i, sentences[c][i], c == 0 ? "animal" : "finance"));
      }
    }
    text = dir.resolve("text").toString();
    spark.createDataFrame(texts, new StructType().add("id", DataTypes.StringType)
        .add("features", DataTypes.StringType).add("label", DataTypes.StringType)).write().parquet(text);
  }

  static Settings settings(String... kv) {
    Map<String, String> m = new HashMap<>(FAST);
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return Settings.defaults().with(m);
  }

  static RelabelJob.Result run(String input, String out, Settings s) {
    return new RelabelJob(SparkTestSession.get(), s).run(input, dir.resolve(out).toString(), false, "test");
  }

  static String embed(String input, String out, String... sets) {
    List<String> args = new ArrayList<>(List.of("embed", "--input", input, "--output", dir.resolve(out).toString()));
    Map<String, String> all = new HashMap<>(FAST);
    for (int i = 0; i < sets.length; i += 2) {
      all.put(sets[i], sets[i + 1]);
    }
    all.forEach((k, v) -> args.addAll(List.of("--set", k + "=" + v)));
    CliRun r = CliRun.of(args.toArray(new String[0]));
    assertEquals(0, r.exitCode(), r.err());
    return dir.resolve(out).toString();
  }

  static String refusal(String input, String out, Settings s) {
    String e = assertThrows(RelabelException.class, () -> run(input, out, s)).getMessage();
    assertFalse(Files.exists(dir.resolve(out)), "nothing is written");
    return e;
  }

  @Test
  void aRunReusingStoredEmbeddingsGivesTheRunThatEmbedsItself() throws Exception {
    String stored = embed(numeric, "emb-pca");
    SparkSession spark = SparkTestSession.get();
    Dataset<Row> t = spark.read().parquet(stored);
    assertEquals(List.of("id", "embedding"), List.of(t.columns()));
    assertEquals(300, t.count());
    JsonNode info = new ObjectMapper().readTree(Files.readString(Path.of(stored, EmbeddingStore.SIDECAR)));
    assertEquals("pca", info.get("encoder").asText());
    assertEquals(4, info.get("dim").asInt());
    assertEquals(64, info.get("modelHash").asText().length());
    assertEquals("id", info.get("idColumn").asText());
    assertEquals("bigint", info.get("idType").asText());
    assertEquals(300, info.get("rows").asLong());
    assertEquals("4", info.get("settings").get("relabel.embed.pcaDims").asText());
    assertTrue(Files.exists(Path.of(stored, RunManifest.FILE_NAME)));

    RelabelJob.Result computed = run(numeric, "out-computed", settings());
    RelabelJob.Result reused = run(numeric, "out-reused", settings("relabel.embed.reuse", stored));
    assertEquals(stored, reused.manifest().getMetric("embed.reusedFrom"));
    assertEquals(info.get("modelHash").asText(), computed.manifest().getMetric("embed.modelHash"),
        "the run fits the same PCA as relabel embed did");
    Dataset<Row> a = spark.read().parquet(computed.outputPath()).select("id", "label_corrected", "label_confidence");
    Dataset<Row> b = spark.read().parquet(reused.outputPath()).select("id", "label_corrected", "label_confidence");
    assertEquals(0, a.except(b).count());
    assertEquals(300, a.join(b, "id").count());
  }

  @Test
  void textIsEmbeddedByMiniLmAndStoredWithItsModelHash() throws Exception {
    String stored = embed(text, "emb-text");
    JsonNode info = new ObjectMapper().readTree(Files.readString(Path.of(stored, EmbeddingStore.SIDECAR)));
    assertEquals("text-minilm", info.get("encoder").asText());
    assertEquals(384, info.get("dim").asInt());
    assertEquals("string", info.get("idType").asText());
    RunManifest m = RunManifest.fromJson(Files.readString(Path.of(stored, RunManifest.FILE_NAME)));
    assertEquals("text-minilm", m.getMetric("embed.encoder"));
    assertEquals(384L, m.getMetric("embed.dim"));
    assertEquals(12L, m.getMetric("embed.rows"));
    assertTrue(((Number) m.getMetric("embed.rowsPerSecondPerCore")).doubleValue() > 0);

    RelabelJob.Result r = run(text, "text-out", settings("relabel.embed.reuse", stored));
    assertEquals(12L, r.manifest().outputRows());
    String bge = refusal(text, "text-bge-out", settings("relabel.embed.reuse", stored,
        "relabel.embed.encoder", "text-bge"));
    assertEquals("relabel.embed.reuse: the embeddings in " + stored + " were made by encoder text-minilm, but this"
        + " run is configured for text-bge (relabel.embed.encoder=text-bge)", bge);
  }

  @Test
  void anInputRowWithoutAStoredEmbeddingIsRefusedByItsId() {
    SparkSession spark = SparkTestSession.get();
    String part = dir.resolve("numeric-part").toString();
    spark.read().parquet(numeric).filter("id < 290 and id != 17").write().parquet(part);
    String stored = embed(part, "emb-part");
    assertEquals("relabel.embed.reuse: no stored embedding in " + stored + " for row id 17 (11 of 300 rows have"
        + " none); embed this input again with `relabel embed`",
        refusal(numeric, "out-missing", settings("relabel.embed.reuse", stored)));
  }

  @Test
  void anotherEncoderOrWidthOrNoStoredTableIsRefused() {
    String stored = embed(numeric, "emb-pca-check");
    assertEquals("relabel.embed.reuse: the embeddings in " + stored + " were made by encoder pca, but this run is"
        + " configured for vectors (relabel.embed.encoder=vectors)",
        refusal(numeric, "out-enc", settings("relabel.embed.reuse", stored, "relabel.embed.encoder", "vectors")));
    assertEquals("relabel.embed.reuse: the embeddings in " + stored + " have 4 dimensions, but encoder pca as"
        + " configured gives 5",
        refusal(numeric, "out-dim", settings("relabel.embed.reuse", stored, "relabel.embed.pcaDims", "5")));
    assertEquals("relabel.embed.reuse: " + numeric + " holds no stored embeddings (no _embedding.json); write them"
        + " with `relabel embed`", refusal(numeric, "out-none", settings("relabel.embed.reuse", numeric)));
    String absent = dir.resolve("absent").toString();
    assertEquals("relabel.embed.reuse: " + absent + " does not exist",
        refusal(numeric, "out-absent", settings("relabel.embed.reuse", absent)));
  }

  @Test
  void theEmbedCommandRefusesToReuse() {
    CliRun r = CliRun.of("embed", "--input", numeric, "--output", dir.resolve("emb-reuse").toString(), "--set",
        "relabel.embed.reuse=/x");
    assertEquals(2, r.exitCode());
    assertEquals("relabel embed: error: relabel embed computes embeddings; relabel.embed.reuse must be empty, not /x",
        r.err().strip());
  }
}
