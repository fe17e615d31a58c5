package io.relabel.spark.embed;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * "text-minilm" and "text-bge": pretrained sentence encoders (384 dimensions) shipped as quantised ONNX models inside
 * the {@code langchain4j-embeddings-*-q} jars, run directly with ONNX Runtime, their {@code tokenizer.json} with
 * DJL's Rust-backed {@link HuggingFaceTokenizer}. No network, no model download: the executor reads both from the
 * application jar.
 *
 * <p><b>Pooling.</b> Each model is pooled the way it was trained to be used, which is also what langchain4j's own
 * wrappers of these two jars do: all-MiniLM-L6-v2 (a sentence-transformers model) averages the token states over
 * the attention mask; bge-small-en-v1.5 takes the state of the [CLS] token (its model card's reference usage).
 * Both are then L2-normalised, so a dot product is a cosine.
 *
 * <p><b>One text per ONNX call.</b> These are dynamically quantised models: every matrix product quantises its input
 * with one scale for the whole tensor. In a batch, a text's embedding would therefore depend on the other texts in
 * it (measured: cosine 0.994 between a text run alone and in a pair). Run alone, a text's embedding depends only
 * on the text, so it is the same in {@code relabel embed} and {@code relabel run}, for any batch size and on any
 * cluster layout. The price, measured on the project's 2-core machine, is about 7% of MiniLM's and 40% of bge's
 * throughput against batches of equal-length texts. Texts are not padded either.
 *
 * <p>The session runs one intra-op thread ({@link OnnxSupport#session}).
 */
public final class OnnxTextEncoder implements Encoder, ModelIdentity {

  private static final long serialVersionUID = 1L;

  /** Width of both models' hidden state. */
  public static final int DIM = 384;

  /** The pretrained models this class knows: the resources inside their jars and how each is pooled. */
  public enum Model {
    MINILM("text-minilm", "all-minilm-l6-v2-q.onnx", "all-minilm-l6-v2-q-tokenizer.json", false),
    BGE("text-bge", "bge-small-en-v1.5-q.onnx", "bge-small-en-v1.5-q-tokenizer.json", true);

    final String encoderName;
    final String onnx;
    final String tokenizer;
    final boolean clsPooling;

    Model(String encoderName, String onnx, String tokenizer, boolean clsPooling) {
      this.encoderName = encoderName;
      this.onnx = onnx;
      this.tokenizer = tokenizer;
      this.clsPooling = clsPooling;
    }

    public String encoderName() {
      return encoderName;
    }

    public static Model named(String encoderName) {
      for (Model m : values()) {
        if (m.encoderName.equals(encoderName)) {
          return m;
        }
      }
      throw new IllegalArgumentException("no text encoder named " + encoderName);
    }
  }

  private final Model model;
  private final int maxTokens;
  private final ModelBytes onnx;
  private final ModelBytes tokenizer;

  private OnnxTextEncoder(Model model, int maxTokens, ModelBytes onnx, ModelBytes tokenizer) {
    this.model = model;
    this.maxTokens = maxTokens;
    this.onnx = onnx;
    this.tokenizer = tokenizer;
  }

  /**
   * The encoder for {@code model}; reads its resources once here (the driver) to hash them.
   *
   * @param maxTokens texts are cut to this many tokens, [CLS] and [SEP] included
   */
  public static OnnxTextEncoder create(Model model, int maxTokens) {
    return new OnnxTextEncoder(model, maxTokens, ModelBytes.classpath(model.onnx),
        ModelBytes.classpath(model.tokenizer));
  }

  @Override
  public String name() {
    return model.encoderName;
  }

  @Override
  public int dim() {
    return DIM;
  }

  /** Identifies weights and tokenizer together (the same weights with another vocabulary are another model). */
  @Override
  public String modelHash() {
    return ModelBytes.sha256((onnx.sha256() + "/" + tokenizer.sha256()).getBytes(StandardCharsets.UTF_8));
  }

  @Override
  public float[][] encode(List<Object> values) {
    Loaded m = ModelCache.get("onnx/" + modelHash() + "/" + maxTokens, this::load);
    float[][] out = new float[values.size()][];
    for (int i = 0; i < out.length; i++) {
      Object v = values.get(i);
      if (!(v instanceof String text)) {
        throw new IllegalArgumentException("encoder " + name() + " takes text, not "
            + (v == null ? "null" : v.getClass().getSimpleName()));
      }
      out[i] = m.embed(text);
    }
    return out;
  }

  private Loaded load() {
    try {
      HuggingFaceTokenizer tok = OnnxSupport.tokenizer(tokenizer.load(), maxTokens);
      OrtEnvironment env = OrtEnvironment.getEnvironment();
      OrtSession session = OnnxSupport.session(env, onnx.load());
      long[] shape = ((TensorInfo) session.getOutputInfo().values().iterator().next().getInfo()).getShape();
      if (shape[shape.length - 1] != DIM) {
        throw new IllegalStateException("the ONNX model of " + model.encoderName + " gives " + shape[shape.length - 1]
            + " dimensions, not " + DIM);
      }
      return new Loaded(model, env, session, tok);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the tokenizer of " + model.encoderName, e);
    } catch (OrtException e) {
      throw new IllegalStateException("cannot load the ONNX model of " + model.encoderName + ": " + e.getMessage(),
          e);
    }
  }

  /** A tokenizer and a session, shared by every task of a JVM (both are safe to call from several threads). */
  private record Loaded(Model model, OrtEnvironment env, OrtSession session, HuggingFaceTokenizer tokenizer) {

    float[] embed(String text) {
      Encoding enc = tokenizer.encode(text);
      Map<String, OnnxTensor> inputs = Map.of();
      try {
        inputs = OnnxSupport.inputs(env, enc, session.getInputNames());
        try (OrtSession.Result r = session.run(inputs)) {
          FloatBuffer h = ((OnnxTensor) r.get(0)).getFloatBuffer();
          return normalise(model.clsPooling ? cls(h) : mean(h, enc.getAttentionMask()));
        }
      } catch (OrtException e) {
        throw new IllegalStateException(model.encoderName + " failed on a text of " + enc.getIds().length
            + " tokens: " + e.getMessage(), e);
      } finally {
        inputs.values().forEach(OnnxTensor::close);
      }
    }

    /** The [CLS] token's state: the first {@link #DIM} values of the [1, tokens, DIM] output. */
    private static double[] cls(FloatBuffer h) {
      double[] v = new double[DIM];
      for (int d = 0; d < DIM; d++) {
        v[d] = h.get(d);
      }
      return v;
    }

    /** The token states averaged over the tokens the attention mask admits. */
    private static double[] mean(FloatBuffer h, long[] mask) {
      double[] v = new double[DIM];
      double n = 0;
      for (int t = 0; t < mask.length; t++) {
        if (mask[t] == 0) {
          continue;
        }
        n += mask[t];
        int base = t * DIM;
        for (int d = 0; d < DIM; d++) {
          v[d] += mask[t] * h.get(base + d);
        }
      }
      for (int d = 0; d < DIM; d++) {
        v[d] /= Math.max(n, 1e-9);
      }
      return v;
    }

    private static float[] normalise(double[] v) {
      double sq = 0;
      for (double x : v) {
        sq += x * x;
      }
      double norm = Math.max(Math.sqrt(sq), 1e-12);
      float[] out = new float[v.length];
      for (int d = 0; d < v.length; d++) {
        out[d] = (float) (v[d] / norm);
      }
      return out;
    }
  }
}
