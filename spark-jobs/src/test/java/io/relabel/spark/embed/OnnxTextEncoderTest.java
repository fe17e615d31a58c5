package io.relabel.spark.embed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.spark.SparkTestSession;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The pretrained text encoders, run from the jars on the classpath. */
@Tag("spark")
class OnnxTextEncoderTest {

  static final List<Object> TEXTS = List.of(
      "A man is playing a guitar on stage.",
      "On the stage, a man plays the guitar.",
      "The quarterly report shows rising interest rates.",
      "tiny");

  static double dot(float[] a, float[] b) {
    double s = 0;
    for (int i = 0; i < a.length; i++) {
      s += a[i] * b[i];
    }
    return s;
  }

  static void unitNormAndParaphrasesCloser(OnnxTextEncoder enc) {
    float[][] e = enc.encode(TEXTS);
    assertEquals(4, e.length);
    for (float[] v : e) {
      assertEquals(384, v.length);
      assertEquals(1.0, Math.sqrt(dot(v, v)), 1e-5);
    }
    double paraphrase = dot(e[0], e[1]);
    double unrelated = dot(e[0], e[2]);
    assertTrue(paraphrase > unrelated + 0.3, enc.name() + ": paraphrase " + paraphrase + " vs unrelated "
        + unrelated);
  }

  @Test
  void miniLmGivesUnitNorm384dEmbeddingsWithParaphrasesCloserThanAnUnrelatedSentence() {
    OnnxTextEncoder enc = OnnxTextEncoder.create(OnnxTextEncoder.Model.MINILM, 128);
    assertEquals("text-minilm", enc.name());
    assertEquals(384, enc.dim());
    unitNormAndParaphrasesCloser(enc);
  }

  @Test
  void bgeGivesUnitNorm384dEmbeddingsWithParaphrasesCloserThanAnUnrelatedSentence() {
    OnnxTextEncoder enc = OnnxTextEncoder.create(OnnxTextEncoder.Model.BGE, 128);
    assertEquals("text-bge", enc.name());
    unitNormAndParaphrasesCloser(enc);
    assertNotEquals(enc.modelHash(), OnnxTextEncoder.create(OnnxTextEncoder.Model.MINILM, 128).modelHash());
  }

  @Test
  void aTextsEmbeddingDoesNotDependOnItsBatch() {
    OnnxTextEncoder enc = OnnxTextEncoder.create(OnnxTextEncoder.Model.MINILM, 128);
    float[] alone = enc.encode(List.of(TEXTS.get(1)))[0];
    float[] inBatch = enc.encode(TEXTS)[1];
    assertArrayEquals(alone, inBatch);
  }

  @Test
  void textsAreCutAtMaxTokens() {
    String longText = "word ".repeat(300);
    OnnxTextEncoder cut = OnnxTextEncoder.create(OnnxTextEncoder.Model.MINILM, 8);
    OnnxTextEncoder full = OnnxTextEncoder.create(OnnxTextEncoder.Model.MINILM, 512);
    // 8 tokens: [CLS], six words, [SEP] -- the same as a text of six words
    assertArrayEquals(cut.encode(List.of("word ".repeat(6)))[0], cut.encode(List.of(longText))[0]);
    assertArrayEquals(full.encode(List.of("word ".repeat(6)))[0], cut.encode(List.of(longText))[0]);
  }

  @Test
  void onExecutorsTheModelFromTheJarGivesTheDriversEmbeddingsBitForBit() {
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < TEXTS.size(); i++) {
      rows.add(RowFactory.create((long) i, TEXTS.get(i)));
    }
    StructType schema = new StructType().add("id", DataTypes.LongType).add("features", DataTypes.StringType);
    Dataset<Row> t = SparkTestSession.get().createDataFrame(rows, schema).repartition(2);
    OnnxTextEncoder enc = OnnxTextEncoder.create(OnnxTextEncoder.Model.MINILM, 128);
    ModelCache.clear();
    List<Row> out = new ArrayList<>(EncoderRunner.apply(t, "features", enc, 3, "emb").collectAsList());
    out.sort(Comparator.comparingLong(r -> r.getLong(0)));
    ModelCache.clear();
    float[][] driver = enc.encode(TEXTS);
    for (Row r : out) {
      assertArrayEquals(driver[(int) r.getLong(0)], EncoderRunnerTest.floats(r, 2), "row " + r.getLong(0));
    }
  }
}
