package io.relabel.spark.embed;

/**
 * An encoder that can name the exact model it runs: the SHA-256 of the bytes it is built from (weights, tokenizer,
 * fitted parameters). Stored embeddings record it, so that embeddings made by two different models are never mixed
 * up (see {@link EmbeddingStore}). Kept apart from {@link Encoder}, whose shape other encoders code against.
 */
public interface ModelIdentity {
  /** Hex SHA-256 of what the model is built from. */
  String modelHash();
}
