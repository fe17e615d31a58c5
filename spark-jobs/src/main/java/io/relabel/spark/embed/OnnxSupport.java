package io.relabel.spark.embed;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.LongBuffer;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * What relabel's ONNX text models ({@link OnnxTextEncoder}, {@link OnnxCrossEncoder}) share: how a session is built,
 * how a tokenizer is read, and how one tokenised text becomes the model's inputs.
 */
final class OnnxSupport {

  private OnnxSupport() {}

  /**
   * A session on one intra-op thread: Spark already runs one task per core, and a task using more threads would
   * compete with its neighbours.
   */
  static OrtSession session(OrtEnvironment env, byte[] model) throws OrtException {
    OrtSession.SessionOptions so = new OrtSession.SessionOptions();
    so.setIntraOpNumThreads(1);
    so.setInterOpNumThreads(1);
    so.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
    so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
    return env.createSession(model, so);
  }

  /**
   * The tokenizer of a {@code tokenizer.json}, without padding (a tokenizer.json may pad every text to a fixed
   * length, e.g. MiniLM's to 128 tokens; relabel runs one text at a time, so padding would only cost time) and
   * cutting at {@code maxTokens} tokens, special tokens included. A pair is cut longest-first: one token at a time
   * from whichever of the two is longer.
   */
  static HuggingFaceTokenizer tokenizer(byte[] json, int maxTokens) throws IOException {
    useProjectCacheDir();
    Map<String, String> options = new HashMap<>();
    options.put("padding", "false");
    options.put("truncation", "longest_first");
    options.put("maxLength", Integer.toString(maxTokens));
    return HuggingFaceTokenizer.newInstance(new ByteArrayInputStream(json), options);
  }

  /**
   * One tokenised text (or pair) as a batch of one: {@code input_ids}, {@code attention_mask} and, where the model
   * takes it, {@code token_type_ids}, each [1, tokens]. The caller closes them.
   */
  static Map<String, OnnxTensor> inputs(OrtEnvironment env, Encoding enc, Set<String> wanted) throws OrtException {
    long[] shape = {1, enc.getIds().length};
    Map<String, OnnxTensor> inputs = new HashMap<>();
    try {
      inputs.put("input_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(enc.getIds()), shape));
      inputs.put("attention_mask", OnnxTensor.createTensor(env, LongBuffer.wrap(enc.getAttentionMask()), shape));
      if (wanted.contains("token_type_ids")) {
        inputs.put("token_type_ids", OnnxTensor.createTensor(env, LongBuffer.wrap(enc.getTypeIds()), shape));
      }
      return inputs;
    } catch (OrtException | RuntimeException e) {
      inputs.values().forEach(OnnxTensor::close);
      throw e;
    }
  }

  /**
   * DJL unpacks the tokenizer's native library under {@code DJL_CACHE_DIR}, by default {@code ~/.djl.ai}. The
   * launcher and the tests set it to a project directory; where neither did (an executor started by a cluster
   * manager), it goes under the working directory's {@code work/djl}, never the user's home.
   */
  static void useProjectCacheDir() {
    if (System.getProperty("DJL_CACHE_DIR") == null && System.getenv("DJL_CACHE_DIR") == null) {
      System.setProperty("DJL_CACHE_DIR", Path.of("work", "djl").toAbsolutePath().toString());
    }
  }
}
