package io.relabel.spark.embed;

/**
 * A fitted encoder, serialisable to executors: feature values of one batch -> embeddings.
 *
 * <p>Everything heavy (ONNX weights, a DL4J network, a PCA basis) stays out of the serialised object: it travels as
 * a Spark broadcast or is read from the jar on the executor, and is built into a model once per JVM and cached under
 * a hash of its content ({@link ModelCache}), so that every task of an executor shares one model instead of
 * deserialising and building its own. {@link EncoderRunner} calls {@link #encode} inside {@code mapPartitions}.
 */
public interface Encoder extends java.io.Serializable {
  /** "vectors", "pca", "text-minilm", "text-bge", "dl4j-model", "cnn". */
  String name();

  /** Output width. */
  int dim();

  /**
   * values: the feature column's values for a batch: float[] for numeric features, String for text. Builds its
   * model lazily, once per JVM (static cache keyed by a content hash), thread-safe.
   *
   * @return one embedding of length {@link #dim()} per value, in the order of {@code values}
   */
  float[][] encode(java.util.List<Object> values);
}
