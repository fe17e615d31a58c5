package io.relabel.spark.embed;

import static io.relabel.spark.embed.TinyOnnx.FLOAT;
import static io.relabel.spark.embed.TinyOnnx.INT64;
import static io.relabel.spark.embed.TinyOnnx.floatTensor;
import static io.relabel.spark.embed.TinyOnnx.int64Tensor;
import static io.relabel.spark.embed.TinyOnnx.intAttribute;
import static io.relabel.spark.embed.TinyOnnx.node;
import static io.relabel.spark.embed.TinyOnnx.tensorValue;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import io.relabel.spark.cli.RelabelException;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The user-provided cross-encoder, run on tiny ONNX models written by hand ({@link TinyOnnx}) whose logit can be
 * computed exactly from the token ids, with MiniLM's real tokenizer.json from its jar. No Spark: the executor side
 * is a serialised copy and an emptied {@link ModelCache}.
 */
@Tag("spark")
public class OnnxCrossEncoderTest {

  /** Segment B's ids count twice; every position the mask leaves out adds this (it shows padding). */
  static final float PAD_PENALTY = 1000;

  static final String QUERY = "the cat sat";
  static final String DOC = "the dog ran across the green field while the cat sat on the mat all day long";

  @TempDir
  static Path dir;
  static String tokenizer;
  static HuggingFaceTokenizer reference;

  @BeforeAll
  static void writeTokenizer() throws IOException {
    OnnxSupport.useProjectCacheDir();
    Path p = dir.resolve("tokenizer.json");
    Files.write(p, ModelBytes.readResource(OnnxTextEncoder.Model.MINILM.tokenizer));
    tokenizer = p.toString();
    // the same file, neither padded nor cut: the test's own view of the ids
    reference = HuggingFaceTokenizer.newInstance(p, Map.of("padding", "false", "truncation", "false"));
  }

  @AfterAll
  static void closeReference() {
    reference.close();
  }

  /** MiniLM's tokenizer.json from its jar, written to {@code dir} (for tests in other packages). */
  public static String writeMiniLmTokenizer(Path dir) throws IOException {
    Path p = dir.resolve("tokenizer.json");
    Files.write(p, ModelBytes.readResource(OnnxTextEncoder.Model.MINILM.tokenizer));
    return p.toString();
  }

  /**
   * logits = Σ_t ids·mask·(1 + type) + {@link #PAD_PENALTY}·Σ_t (1 − mask), summed over the sequence (ReduceSum,
   * axes as an input from opset 13).
   *
   * @param ids       the name of the first input ("input_ids" unless a test wants it missing)
   * @param withTypes whether the model takes token_type_ids
   * @param output    "batch" for logits [batch], "batch1" for [batch, 1], "tokens" for the per-token sum [batch, seq]
   */
  public static byte[] sumModel(String ids, boolean withTypes, String output) {
    List<TinyOnnx.Message> nodes = new ArrayList<>(List.of(
        node("Cast", List.of(ids), List.of("ids_f"), intAttribute("to", FLOAT)),
        node("Cast", List.of("attention_mask"), List.of("mask_f"), intAttribute("to", FLOAT)),
        node("Mul", List.of("ids_f", "mask_f"), List.of("masked"))));
    List<TinyOnnx.Message> inputs = new ArrayList<>(List.of(
        tensorValue(ids, INT64, "batch", "seq"), tensorValue("attention_mask", INT64, "batch", "seq")));
    String weighted = "masked";
    if (withTypes) {
      inputs.add(tensorValue("token_type_ids", INT64, "batch", "seq"));
      nodes.add(node("Cast", List.of("token_type_ids"), List.of("type_f"), intAttribute("to", FLOAT)));
      nodes.add(node("Add", List.of("type_f", "one"), List.of("segment")));
      nodes.add(node("Mul", List.of("masked", "segment"), List.of("weighted")));
      weighted = "weighted";
    }
    nodes.add(node("Sub", List.of("one", "mask_f"), List.of("pad")));
    nodes.add(node("Mul", List.of("pad", "penalty"), List.of("pad_w")));
    nodes.add(node("Add", List.of(weighted, "pad_w"), List.of("per_token")));
    List<TinyOnnx.Message> initializers = new ArrayList<>(List.of(floatTensor("one", new long[0], 1f),
        floatTensor("penalty", new long[0], PAD_PENALTY)));
    TinyOnnx.Message out;
    if (output.equals("tokens")) {
      out = tensorValue("per_token", FLOAT, "batch", "seq");
    } else {
      boolean keep = output.equals("batch1");
      initializers.add(int64Tensor("axes", new long[] {1}, 1));
      nodes.add(node("ReduceSum", List.of("per_token", "axes"), List.of("logits"),
          intAttribute("keepdims", keep ? 1 : 0)));
      out = keep ? tensorValue("logits", FLOAT, "batch", 1) : tensorValue("logits", FLOAT, "batch");
    }
    return TinyOnnx.model(nodes, initializers, inputs, List.of(out));
  }

  static String write(String name, byte[] bytes) throws IOException {
    Path p = dir.resolve(name);
    Files.write(p, bytes);
    return p.toString();
  }

  static long sum(long[] ids) {
    return Arrays.stream(ids).sum();
  }

  /**
   * The logit of the sum model for (q, d), from the tokenizer's own encodings of q and d alone: [CLS] q [SEP] is
   * segment 0 and counts once; d [SEP] (d's encoding without its [CLS]) is segment 1 and counts twice.
   */
  static float expected(String q, String d) {
    long[] qIds = reference.encode(q).getIds();
    long[] dIds = reference.encode(d).getIds();
    assertEquals(101, qIds[0], "[CLS]");
    assertEquals(102, qIds[qIds.length - 1], "[SEP]");
    return sum(qIds) + 2 * (sum(dIds) - dIds[0]);
  }

  static String words(String text, int n) {
    return String.join(" ", Arrays.asList(text.split(" ")).subList(0, n));
  }

  static OnnxCrossEncoder sumEncoder(int maxTokens) throws IOException {
    return OnnxCrossEncoder.open(write("sum.onnx", sumModel("input_ids", true, "batch")), tokenizer, maxTokens);
  }

  static String refused(String model, String tok) {
    return assertThrows(RelabelException.class, () -> OnnxCrossEncoder.open(model, tok, 128)).getMessage();
  }

  @Test
  void theScoreIsTheModelsLogitForTheQueryAndDocumentEncodedAsOnePairOfTwoSegments() throws IOException {
    OnnxCrossEncoder enc = sumEncoder(128);
    List<String> queries = List.of(QUERY, "where is the dog", "tiny");
    List<String> docs = List.of(DOC, "the dog ran across the green field", "a");
    float[] got = enc.score(queries, docs);
    assertEquals(3, got.length);
    for (int i = 0; i < 3; i++) {
      assertEquals(expected(queries.get(i), docs.get(i)), got[i], "pair " + i);
      // the same from the tokenizer's own pair encoding: [CLS] q [SEP] d [SEP], type ids 0 then 1
      Encoding pair = reference.encode(queries.get(i), docs.get(i));
      long[] ids = pair.getIds();
      long[] types = pair.getTypeIds();
      long logit = 0;
      for (int t = 0; t < ids.length; t++) {
        logit += ids[t] * (1 + types[t]);
      }
      assertEquals(logit, got[i], "pair " + i);
    }
    assertEquals(0, enc.score(List.of(), List.of()).length);
  }

  @Test
  void logitsShapedBatchByOneAndAModelWithoutTokenTypeIdsAreAccepted() throws IOException {
    OnnxCrossEncoder batch1 = OnnxCrossEncoder.open(write("batch1.onnx", sumModel("input_ids", true, "batch1")),
        tokenizer, 128);
    assertArrayEquals(new float[] {expected(QUERY, DOC)}, batch1.score(List.of(QUERY), List.of(DOC)));
    OnnxCrossEncoder untyped = OnnxCrossEncoder.open(write("untyped.onnx", sumModel("input_ids", false, "batch")),
        tokenizer, 128);
    // without token types both segments count once: every id of [CLS] q [SEP] d [SEP]
    long[] d = reference.encode(DOC).getIds();
    assertArrayEquals(new float[] {sum(reference.encode(QUERY).getIds()) + sum(d) - d[0]},
        untyped.score(List.of(QUERY), List.of(DOC)));
  }

  @Test
  void aPairsScoreDoesNotDependOnTheOtherPairsInItsCall() throws IOException {
    OnnxCrossEncoder enc = sumEncoder(128);
    // pairs of different lengths: padding one to another's length would add PAD_PENALTY per padded position
    List<String> queries = List.of("where is the dog", QUERY, "tiny");
    List<String> docs = List.of("nowhere", DOC, "a");
    float[] together = enc.score(queries, docs);
    for (int i = 0; i < queries.size(); i++) {
      assertEquals(enc.score(List.of(queries.get(i)), List.of(docs.get(i)))[0], together[i], "pair " + i);
      assertEquals(expected(queries.get(i), docs.get(i)), together[i], "pair " + i);
    }
    float[] reversed = enc.score(List.of(queries.get(2), queries.get(1), queries.get(0)),
        List.of(docs.get(2), docs.get(1), docs.get(0)));
    assertArrayEquals(new float[] {together[2], together[1], together[0]}, reversed);
    assertEquals("cross-encoder: 2 queries but 1 documents; pairs need one of each",
        assertThrows(IllegalArgumentException.class, () -> enc.score(List.of("a", "b"), List.of("c")))
            .getMessage());
  }

  @Test
  void tasksOnSeveralThreadsShareOneSessionAndGetTheSameScores() throws Exception {
    OnnxCrossEncoder enc = sumEncoder(128);
    List<String> queries = List.of(QUERY, "where is the dog", "tiny", "the green field");
    List<String> docs = List.of(DOC, "nowhere", "a", DOC);
    float[] alone = enc.score(queries, docs);
    long builds = ModelCache.builds();
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<float[]>> runs = new ArrayList<>();
      for (int t = 0; t < 16; t++) {
        runs.add(pool.submit(() -> enc.score(queries, docs)));
      }
      for (Future<float[]> r : runs) {
        assertArrayEquals(alone, r.get());
      }
    } finally {
      pool.shutdown();
    }
    assertEquals(builds, ModelCache.builds());
  }

  @Test
  void pairsAreCutAtMaxTokensLongestFirst() throws IOException {
    for (String text : List.of(QUERY, DOC)) {
      assertEquals(text.split(" ").length + 2, reference.encode(text).getIds().length, "one token a word: " + text);
    }
    // 12 tokens: [CLS] + 3 query words + [SEP] + 6 document words + [SEP]; the short query stays whole
    float cut = sumEncoder(12).score(List.of(QUERY), List.of(DOC))[0];
    assertEquals(expected(QUERY, words(DOC, 6)), cut);
    assertNotEquals(expected(QUERY, DOC), cut);
    // two 10-word texts in 13 tokens: 10 for the words, taken from whichever is longer, so 5 and 5
    String longQuery = words(DOC, 10);
    String longDoc = words(DOC.substring(DOC.indexOf("while")), 10);
    assertEquals(expected(words(longQuery, 5), words(longDoc, 5)),
        sumEncoder(13).score(List.of(longQuery), List.of(longDoc))[0]);
    // fewer tokens than the pair template's own three
    String tooFew = assertThrows(IllegalStateException.class,
        () -> sumEncoder(2).score(List.of(QUERY), List.of(DOC))).getMessage();
    assertEquals("the tokenizer " + tokenizer + " cannot encode a pair within 2 tokens: it gave 23 (its special"
        + " tokens alone may take more)", tooFew);
  }

  /** The end of every refusal of a model's inputs or outputs: what relabel runs. */
  static final String ACCEPTED = "accepted: inputs input_ids and attention_mask and optionally token_type_ids, each"
      + " int64 [batch, sequence] with a free sequence length, and a first output of float logits [batch] or"
      + " [batch, 1])";

  @Test
  void aModelWithoutInputIdsIsRefusedNamingWhatItFoundAndWhatIsAccepted() throws IOException {
    String model = write("no-input-ids.onnx", sumModel("ids", true, "batch"));
    assertEquals("relabel.rgpl.crossEncoderModel: " + model + " is not a cross-encoder relabel can run: it has no"
        + " input input_ids (found: inputs ids int64 [batch, seq], attention_mask int64 [batch, seq], token_type_ids"
        + " int64 [batch, seq]; outputs logits float [batch]; " + ACCEPTED, refused(model, tokenizer));
  }

  @Test
  void aModelWhoseFirstOutputIsPerTokenIsRefused() throws IOException {
    String model = write("per-token.onnx", sumModel("input_ids", true, "tokens"));
    assertEquals("relabel.rgpl.crossEncoderModel: " + model + " is not a cross-encoder relabel can run: its first"
        + " output per_token float [batch, seq] is not float logits [batch] or [batch, 1] (found: inputs input_ids"
        + " int64 [batch, seq], attention_mask int64 [batch, seq], token_type_ids int64 [batch, seq]; outputs"
        + " per_token float [batch, seq]; " + ACCEPTED, refused(model, tokenizer));
  }

  @Test
  void missingOrUnreadableFilesAreRefusedWithTheirPath() throws IOException {
    String model = write("sum.onnx", sumModel("input_ids", true, "batch"));
    String missing = dir.resolve("nothing-here.onnx").toString();
    assertEquals("relabel.rgpl.crossEncoderModel: no file at " + missing, refused(missing, tokenizer));
    String noTokenizer = dir.resolve("no-tokenizer.json").toString();
    assertEquals("relabel.rgpl.crossEncoderTokenizer: no file at " + noTokenizer, refused(model, noTokenizer));
    String notOnnx = write("not-a-model.onnx", "not a model".getBytes(StandardCharsets.UTF_8));
    String msg = refused(notOnnx, tokenizer);
    assertTrue(msg.startsWith("relabel.rgpl.crossEncoderModel: " + notOnnx
        + " is not an ONNX model ONNX Runtime can load: "), msg);
    String notJson = write("not-a-tokenizer.json", "{\"model\": 3}".getBytes(StandardCharsets.UTF_8));
    msg = refused(model, notJson);
    assertTrue(msg.startsWith("relabel.rgpl.crossEncoderTokenizer: " + notJson
        + " is not a tokenizer.json the Hugging Face tokenizers library can read: "), msg);
  }

  @Test
  void theHashNamesModelAndTokenizerTogether() throws IOException {
    byte[] model = sumModel("input_ids", true, "batch");
    OnnxCrossEncoder enc = OnnxCrossEncoder.open(write("hash.onnx", model), tokenizer, 128);
    String tokenizerHash = ModelBytes.sha256(Files.readAllBytes(Path.of(tokenizer)));
    assertEquals(ModelBytes.sha256((ModelBytes.sha256(model) + "/" + tokenizerHash).getBytes(StandardCharsets.UTF_8)),
        enc.modelHash());
    assertEquals(enc.modelHash(), OnnxCrossEncoder.open(write("hash-copy.onnx", model), tokenizer, 64).modelHash());
    assertNotEquals(enc.modelHash(), OnnxCrossEncoder.open(write("hash-other.onnx",
        sumModel("input_ids", true, "batch1")), tokenizer, 128).modelHash());
  }

  @Test
  void onAnExecutorTheSerialisedEncoderReadsTheFilesOnceAndChecksTheyAreTheDrivers() throws Exception {
    String model = write("executor.onnx", sumModel("input_ids", true, "batch"));
    long before = ModelCache.builds();
    OnnxCrossEncoder driver = OnnxCrossEncoder.open(model, tokenizer, 96);
    assertEquals(before + 1, ModelCache.builds(), "open builds the session once, to check it");
    float[] onDriver = driver.score(List.of(QUERY), List.of(DOC));
    assertEquals(before + 1, ModelCache.builds(), "scoring reuses it");

    byte[] task = serialise(driver);
    assertTrue(task.length < 2_000, "paths and hashes only: " + task.length + " bytes");
    ModelCache.clear();
    OnnxCrossEncoder executor = deserialise(task);
    assertArrayEquals(onDriver, executor.score(List.of(QUERY), List.of(DOC)));
    executor.score(List.of("tiny"), List.of("a"));
    assertEquals(before + 2, ModelCache.builds(), "one build per JVM, not per call");

    // the model file replaced after the driver read it: the executor refuses it instead of mixing two models
    byte[] other = sumModel("input_ids", true, "batch1");
    Files.write(Path.of(model), other);
    ModelCache.clear();
    OnnxCrossEncoder late = deserialise(task);
    String driverHash = ModelBytes.sha256(sumModel("input_ids", true, "batch"));
    assertEquals("relabel.rgpl.crossEncoderModel: " + model + " has SHA-256 " + ModelBytes.sha256(other)
        + " here but " + driverHash + " when the driver read it: the file changed while the job ran",
        assertThrows(IllegalStateException.class, () -> late.score(List.of(QUERY), List.of(DOC))).getMessage());
  }

  static byte[] serialise(Object o) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(o);
    }
    return bytes.toByteArray();
  }

  static OnnxCrossEncoder deserialise(byte[] bytes) throws IOException, ClassNotFoundException {
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes))) {
      return (OnnxCrossEncoder) in.readObject();
    }
  }
}
