package io.relabel.spark.embed;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.relabel.core.config.RelabelParams;
import io.relabel.spark.cli.RelabelException;
import java.io.IOException;
import java.io.Serializable;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * A cross-encoder the user provides ({@code relabel.rgpl.teacher=cross-encoder}): an ONNX model that reads a query
 * and a document together as one sequence and gives one relevance logit, with the model's Hugging Face
 * {@code tokenizer.json}. R-GPL's teacher uses its raw logit as the score of a (query, document) pair.
 *
 * <p><b>What it runs.</b> The model must take {@code input_ids} and {@code attention_mask} and may take
 * {@code token_type_ids} (int64, [batch, sequence], the sequence length free) and nothing else; its first output must
 * be float logits of shape [batch] or [batch, 1] (a sentence-transformers {@code CrossEncoder} with one label,
 * exported to ONNX, has this form). {@link #open} checks this on the driver and refuses anything else, naming what it
 * found.
 *
 * <p><b>Tokenisation.</b> A pair is encoded as the tokenizer's pair template, for a BERT tokenizer
 * {@code [CLS] query [SEP] document [SEP]} with token type 0 for the query part and 1 for the document part, and cut
 * to {@code maxTokens} tokens, special tokens included, <i>longest-first</i>: one token at a time from the end of
 * whichever of the two texts is longer at that moment, as sentence-transformers' {@code CrossEncoder} does. With
 * R-GPL's short queries (a few to {@code relabel.rgpl.queryMaxWords} words) against long documents, that cuts the
 * document and keeps the query whole; only where both are long do both lose tokens.
 *
 * <p><b>One pair per ONNX call.</b> A pair's score depends only on the pair, never on the other pairs in its call:
 * pairs are not padded, and they are not batched either, since a dynamically quantised model quantises each matrix
 * product's input with one scale for the whole batch (see {@link OnnxTextEncoder}), so even a padding-free batch
 * of equal-length pairs would let a pair's score depend on its neighbours. A score is therefore the same on the
 * driver and on any executor, for any partitioning.
 *
 * <p><b>On executors.</b> The serialised object holds the two files' paths and hashes, nothing heavy; each JVM
 * reads the files once ({@link ModelBytes#hadoopFile}), checks they are the driver's, and keeps one session and
 * tokenizer ({@link ModelCache}) that every task and thread shares (both are safe to call concurrently). The session
 * runs one intra-op thread ({@link OnnxSupport#session}).
 */
public final class OnnxCrossEncoder implements Serializable, ModelIdentity {

  private static final long serialVersionUID = 1L;

  static final String ACCEPTED = "accepted: inputs input_ids and attention_mask and optionally token_type_ids, each"
      + " int64 [batch, sequence] with a free sequence length, and a first output of float logits [batch] or"
      + " [batch, 1]";

  private static final String MODEL_SETTING = RelabelParams.RGPL_CROSS_ENCODER_MODEL.key();
  private static final String TOKENIZER_SETTING = RelabelParams.RGPL_CROSS_ENCODER_TOKENIZER.key();

  private final String modelPath;
  private final String tokenizerPath;
  private final ModelBytes onnx;
  private final ModelBytes tokenizer;
  private final int maxTokens;

  private OnnxCrossEncoder(String modelPath, String tokenizerPath, ModelBytes onnx, ModelBytes tokenizer,
      int maxTokens) {
    this.modelPath = modelPath;
    this.tokenizerPath = tokenizerPath;
    this.onnx = onnx;
    this.tokenizer = tokenizer;
    this.maxTokens = maxTokens;
  }

  /**
   * Reads both files (any Hadoop file system; a path without a scheme is on the default one, locally the local
   * disk, and on a cluster a local path must exist on every node) once, here on the driver, and builds the session and the tokenizer from them to check them; this JVM
   * keeps both for {@link #score}.
   *
   * @param maxTokens a pair is cut to this many tokens, special tokens included (longest-first, see above)
   * @throws RelabelException if a file is missing or unreadable, the tokenizer cannot be read, or the model is not
   *                          an ONNX model of the accepted form; the message names the path and what was found
   */
  public static OnnxCrossEncoder open(String modelPath, String tokenizerPath, int maxTokens) {
    if (maxTokens < 1) {
      throw new IllegalArgumentException("a cross-encoder needs maxTokens of at least 1, not " + maxTokens);
    }
    byte[] model = ModelBytes.readHadoopFile(modelPath, MODEL_SETTING);
    byte[] tok = ModelBytes.readHadoopFile(tokenizerPath, TOKENIZER_SETTING);
    OnnxCrossEncoder enc = new OnnxCrossEncoder(modelPath, tokenizerPath,
        ModelBytes.hadoopFile(modelPath, MODEL_SETTING, model),
        ModelBytes.hadoopFile(tokenizerPath, TOKENIZER_SETTING, tok), maxTokens);
    ModelCache.get(enc.cacheKey(), () -> enc.build(model, tok));
    return enc;
  }

  /** Identifies weights and tokenizer together (the same weights with another vocabulary are another model). */
  @Override
  public String modelHash() {
    return ModelBytes.sha256((onnx.sha256() + "/" + tokenizer.sha256()).getBytes(StandardCharsets.UTF_8));
  }

  public int maxTokens() {
    return maxTokens;
  }

  /**
   * The model's raw logit for each pair ({@code queries[i]}, {@code docs[i]}); each depends on its pair alone.
   *
   * @throws IllegalArgumentException if the two lists differ in length
   */
  public float[] score(List<String> queries, List<String> docs) {
    if (queries.size() != docs.size()) {
      throw new IllegalArgumentException("cross-encoder: " + queries.size() + " queries but " + docs.size()
          + " documents; pairs need one of each");
    }
    Loaded m = loaded();
    float[] out = new float[queries.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = m.score(queries.get(i), docs.get(i));
    }
    return out;
  }

  private String cacheKey() {
    return "xenc/" + modelHash() + "/" + maxTokens;
  }

  /** This JVM's session and tokenizer; the first call here (an executor) reads the files. */
  private Loaded loaded() {
    return ModelCache.get(cacheKey(), () -> build(onnx.load(), tokenizer.load()));
  }

  private Loaded build(byte[] model, byte[] tokenizerJson) {
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    OrtSession session;
    try {
      session = OnnxSupport.session(env, model);
    } catch (OrtException e) {
      throw new RelabelException(MODEL_SETTING + ": " + modelPath + " is not an ONNX model ONNX Runtime can load: "
          + e.getMessage(), e);
    }
    try {
      checkSignature(session);
      HuggingFaceTokenizer tok;
      try {
        tok = OnnxSupport.tokenizer(tokenizerJson, maxTokens);
      } catch (IOException | RuntimeException e) {
        throw new RelabelException(TOKENIZER_SETTING + ": " + tokenizerPath + " is not a tokenizer.json the Hugging"
            + " Face tokenizers library can read: " + e.getMessage(), e);
      }
      return new Loaded(env, session, tok, modelPath, tokenizerPath, session.getOutputNames().iterator().next());
    } catch (RuntimeException e) {
      closeQuietly(session);
      throw e;
    }
  }

  private void checkSignature(OrtSession session) {
    Map<String, NodeInfo> inputs;
    Map<String, NodeInfo> outputs;
    try {
      inputs = session.getInputInfo();
      outputs = session.getOutputInfo();
    } catch (OrtException e) {
      throw new IllegalStateException("cannot read the inputs and outputs of " + modelPath + ": " + e.getMessage(),
          e);
    }
    String problem = problem(inputs, outputs);
    if (problem != null) {
      throw new RelabelException(MODEL_SETTING + ": " + modelPath + " is not a cross-encoder relabel can run: "
          + problem + " (found: inputs " + describe(inputs.values()) + "; outputs " + describe(outputs.values())
          + "; " + ACCEPTED + ")");
    }
  }

  /** What makes the model unusable, or null if it has the accepted inputs and first output. */
  static String problem(Map<String, NodeInfo> inputs, Map<String, NodeInfo> outputs) {
    for (String required : List.of("input_ids", "attention_mask")) {
      if (!inputs.containsKey(required)) {
        return "it has no input " + required;
      }
    }
    for (NodeInfo in : inputs.values()) {
      if (!Set.of("input_ids", "attention_mask", "token_type_ids").contains(in.getName())) {
        return "it takes an input relabel cannot feed, " + in.getName();
      }
      long[] shape = tensorShape(in, TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64);
      if (shape == null || shape.length != 2 || !batchDim(shape[0]) || shape[1] >= 0) {
        return "its input " + describe(in) + " is not int64 [batch, sequence] with a free sequence length";
      }
    }
    if (outputs.isEmpty()) {
      return "it has no output";
    }
    NodeInfo first = outputs.values().iterator().next();
    long[] shape = tensorShape(first, TensorInfo.OnnxTensorType.ONNX_TENSOR_ELEMENT_DATA_TYPE_FLOAT);
    boolean logits = shape != null && shape.length >= 1 && shape.length <= 2 && batchDim(shape[0])
        && (shape.length == 1 || shape[1] == 1);
    if (!logits) {
      return "its first output " + describe(first) + " is not float logits [batch] or [batch, 1]";
    }
    return null;
  }

  /** The shape of a tensor of element type {@code type}; null for another type or something not a tensor. */
  private static long[] tensorShape(NodeInfo node, TensorInfo.OnnxTensorType type) {
    return node.getInfo() instanceof TensorInfo t && t.onnxType == type ? t.getShape() : null;
  }

  /** A batch dimension: free (-1), or 1, since pairs go one at a time. */
  private static boolean batchDim(long d) {
    return d < 0 || d == 1;
  }

  private static String describe(Iterable<NodeInfo> nodes) {
    List<String> out = new ArrayList<>();
    nodes.forEach(n -> out.add(describe(n)));
    return String.join(", ", out);
  }

  /** E.g. {@code input_ids int64 [batch, sequence]}: a free dimension by its name in the model, or "?". */
  static String describe(NodeInfo node) {
    if (!(node.getInfo() instanceof TensorInfo t)) {
      return node.getName() + " (not a tensor: " + node.getInfo() + ")";
    }
    long[] shape = t.getShape();
    String[] names = t.getDimensionNames();
    List<String> dims = new ArrayList<>();
    for (int i = 0; i < shape.length; i++) {
      boolean named = names != null && i < names.length && names[i] != null && !names[i].isEmpty();
      dims.add(shape[i] >= 0 ? Long.toString(shape[i]) : named ? names[i] : "?");
    }
    String type = t.onnxType.name().replace("ONNX_TENSOR_ELEMENT_DATA_TYPE_", "").toLowerCase(Locale.ROOT);
    return node.getName() + " " + type + " [" + String.join(", ", dims) + "]";
  }

  private static void closeQuietly(OrtSession session) {
    try {
      session.close();
    } catch (OrtException e) {
      // the session was never used; nothing to report beyond the error being thrown
    }
  }

  /** A tokenizer and a session, shared by every task of a JVM (both are safe to call from several threads). */
  private record Loaded(OrtEnvironment env, OrtSession session, HuggingFaceTokenizer tokenizer, String modelPath,
      String tokenizerPath, String output) {

    float score(String query, String doc) {
      Encoding enc;
      try {
        enc = tokenizer.encode(query, doc);
      } catch (RuntimeException e) {
        throw new IllegalStateException("the tokenizer " + tokenizerPath + " cannot encode a pair within "
            + tokenizer.getMaxLength() + " tokens: " + e.getMessage(), e);
      }
      if (enc.getIds().length > tokenizer.getMaxLength()) {
        // the tokenizers library leaves a pair uncut when its template's special tokens alone exceed the limit
        throw new IllegalStateException("the tokenizer " + tokenizerPath + " cannot encode a pair within "
            + tokenizer.getMaxLength() + " tokens: it gave " + enc.getIds().length + " (its special tokens alone"
            + " may take more)");
      }
      Map<String, OnnxTensor> inputs = Map.of();
      try {
        inputs = OnnxSupport.inputs(env, enc, session.getInputNames());
        try (OrtSession.Result r = session.run(inputs, Set.of(output))) {
          FloatBuffer logits = ((OnnxTensor) r.get(0)).getFloatBuffer();
          if (logits.remaining() != 1) {
            throw new IllegalStateException(modelPath + " gave " + logits.remaining() + " logits for one pair, not 1");
          }
          return logits.get(0);
        }
      } catch (OrtException e) {
        throw new IllegalStateException(modelPath + " failed on a pair of " + enc.getIds().length + " tokens: "
            + e.getMessage(), e);
      } finally {
        inputs.values().forEach(OnnxTensor::close);
      }
    }
  }
}
