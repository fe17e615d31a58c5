package io.relabel.spark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.relabel.spark.SparkTestSession;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The embed benchmark on tiny stand-ins of Fashion-MNIST and WordNet, and on a data dir holding neither. */
@Tag("spark")
class EmbedBenchCommandTest {

  @TempDir Path dir;

  static JsonNode results(Path out) throws Exception {
    try (Stream<Path> s = Files.list(out)) {
      Path json = s.filter(p -> p.toString().endsWith(".json")).findFirst().orElseThrow();
      return new ObjectMapper().readTree(Files.readString(json));
    }
  }

  @Test
  void measuresEveryEncoderWhoseDataIsThere() throws Exception {
    SparkSession spark = SparkTestSession.get();
    List<Row> images = new ArrayList<>();
    for (long id = 0; id < 30; id++) {
      float[] x = new float[8];
      for (int j = 0; j < 8; j++) {
        x[j] = (id * 7 + j * 3) % 11 / 10f;
      }
      images.add(RowFactory.create(id, x, (int) (id % 3)));
    }
    spark.createDataFrame(images, new StructType().add("id", DataTypes.LongType)
            .add("features", DataTypes.createArrayType(DataTypes.FloatType)).add("label", DataTypes.IntegerType))
        .write().parquet(dir.resolve("data/fashion-mnist").toString());
    spark.createDataFrame(List.of(RowFactory.create(1L, "a small domesticated carnivore", "noun.animal"),
            RowFactory.create(2L, "a financial institution that accepts deposits", "noun.group")),
        new StructType().add("id", DataTypes.LongType).add("text", DataTypes.StringType)
            .add("label", DataTypes.StringType)).write().parquet(dir.resolve("data/wordnet").toString());

    Path out = dir.resolve("results");
    int code = new CommandLine(new EmbedBenchCommand()).execute("--out", out.toString(), "--rows", "20",
        "--set", "relabel.data.dir=" + dir.resolve("data"), "--set", "relabel.embed.pcaDims=3");
    assertEquals(0, code);
    JsonNode doc = results(out);
    List<String> encoders = new ArrayList<>();
    doc.get("runs").forEach(r -> encoders.add(r.get("encoder").asText()));
    assertEquals(List.of("vectors", "pca", "text-minilm", "text-bge"), encoders);
    JsonNode pca = doc.get("runs").get(1);
    assertEquals(20, pca.get("rows").asLong());
    assertEquals(3, pca.get("dim").asInt());
    assertEquals(2, doc.get("runs").get(2).get("rows").asLong());
    assertEquals("wordnet glosses (text)", doc.get("runs").get(2).get("data").asText());
    for (JsonNode r : doc.get("runs")) {
      assertTrue(r.get("rowsPerSecondPerCore").asDouble() > 0, r.toString());
      assertTrue(r.get("encoderCpuSeconds").asDouble() > 0, r.toString());
    }
    assertEquals("dl4j-model: relabel.embed.modelPath is not set", doc.get("skipped").get(0).asText());
  }

  @Test
  void dataNotFetchedIsSkippedWithAMessage() throws Exception {
    Path out = dir.resolve("results");
    int code = new CommandLine(new EmbedBenchCommand()).execute("--out", out.toString(),
        "--set", "relabel.data.dir=" + dir.resolve("none"));
    assertEquals(0, code);
    JsonNode doc = results(out);
    assertEquals(0, doc.get("runs").size());
    assertEquals("no table at " + dir.resolve("none/fashion-mnist") + ": Fashion-MNIST; run `bin/relabel fetch"
        + " fashion-mnist` (vectors, pca and dl4j-model skipped)", doc.get("skipped").get(0).asText());
    assertEquals("no table at " + dir.resolve("none/wordnet") + ": WordNet glosses; run `bin/relabel fetch wordnet`"
        + " (text-minilm and text-bge skipped)", doc.get("skipped").get(1).asText());
  }
}
