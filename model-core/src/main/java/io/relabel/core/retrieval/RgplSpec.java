package io.relabel.core.retrieval;

import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import java.io.Serializable;

/**
 * The retriever-adaptation settings ({@code relabel.rgpl.*}, methods.md section 4), read and validated once.
 *
 * @param idCol              corpus column with the document id
 * @param textCol            corpus column with the document text
 * @param queryBudget        total pseudo queries aimed at (GPL's 250k)
 * @param maxQueriesPerDoc   cap on queries per document
 * @param queryMinWords      shortest extracted query
 * @param queryMaxWords      longest extracted query
 * @param studentTokens      token cut of the frozen base encoder
 * @param teacher            the teacher scorer
 * @param teacherTokens      token cut of the teacher
 * @param crossEncoderModel  for {@link Teacher#CROSS_ENCODER}: the .onnx model's path, else empty
 * @param crossEncoderTokenizer for {@link Teacher#CROSS_ENCODER}: its tokenizer.json's path, else empty
 * @param adapter            the adapter's shape
 * @param negatives          k of the hard-negative top-k
 * @param negativesPerQuery  triples drawn per query after each mining
 * @param steps              optimiser steps per partition in all
 * @param batchSize          triples per step
 * @param learningRate       peak AdamW learning rate
 * @param warmupSteps        linear warm-up steps
 * @param weightDecay        AdamW's decoupled weight decay
 * @param remineEvery        R; 0 never re-mines (plain GPL)
 * @param redrawEvery        steps between two draws of the training negatives from the current mined lists; 0 only
 *                           after a mining
 * @param averagingFrequency steps between two parameter averagings
 * @param queryBlock         queries per block of the distributed top-k
 */
public record RgplSpec(String idCol, String textCol, int queryBudget, int maxQueriesPerDoc, int queryMinWords,
    int queryMaxWords, int studentTokens, Teacher teacher, int teacherTokens, String crossEncoderModel,
    String crossEncoderTokenizer, AdapterSpec adapter, int negatives, int negativesPerQuery, int steps, int batchSize,
    double learningRate, int warmupSteps, double weightDecay, int remineEvery, int redrawEvery,
    int averagingFrequency, int queryBlock) implements Serializable {

  /** {@code relabel.rgpl.teacher}. */
  public enum Teacher { BGE, CROSS_ENCODER }

  public RgplSpec {
    if (queryMinWords > queryMaxWords) {
      throw new IllegalArgumentException(RelabelParams.RGPL_QUERY_MIN_WORDS.key() + "=" + queryMinWords
          + " is more than " + RelabelParams.RGPL_QUERY_MAX_WORDS.key() + "=" + queryMaxWords);
    }
    if (remineEvery % averagingFrequency != 0) {
      throw new IllegalArgumentException(RelabelParams.RGPL_REMINE_EVERY.key() + "=" + remineEvery
          + " must be 0 or a multiple of " + RelabelParams.RGPL_AVERAGING.key() + "=" + averagingFrequency);
    }
    if (redrawEvery % averagingFrequency != 0) {
      throw new IllegalArgumentException(RelabelParams.RGPL_REDRAW_EVERY.key() + "=" + redrawEvery
          + " must be 0 or a multiple of " + RelabelParams.RGPL_AVERAGING.key() + "=" + averagingFrequency);
    }
    if (teacher == Teacher.CROSS_ENCODER && (crossEncoderModel.isEmpty() || crossEncoderTokenizer.isEmpty())) {
      throw new IllegalArgumentException(RelabelParams.RGPL_TEACHER.key() + "=cross-encoder needs both "
          + RelabelParams.RGPL_CROSS_ENCODER_MODEL.key() + " and " + RelabelParams.RGPL_CROSS_ENCODER_TOKENIZER.key());
    }
  }

  public static RgplSpec from(Settings s) {
    AdapterSpec adapter = new AdapterSpec(
        s.get(RelabelParams.RGPL_ADAPTER).equals("mlp") ? AdapterSpec.Kind.MLP : AdapterSpec.Kind.LINEAR,
        s.get(RelabelParams.RGPL_ADAPTER_HIDDEN), s.get(RelabelParams.RGPL_SIMILARITY).equals("cosine"));
    return new RgplSpec(s.get(RelabelParams.RGPL_ID_COL), s.get(RelabelParams.RGPL_TEXT_COL),
        s.get(RelabelParams.RGPL_QUERY_BUDGET), s.get(RelabelParams.RGPL_MAX_QPP),
        s.get(RelabelParams.RGPL_QUERY_MIN_WORDS), s.get(RelabelParams.RGPL_QUERY_MAX_WORDS),
        s.get(RelabelParams.RGPL_STUDENT_TOKENS),
        s.get(RelabelParams.RGPL_TEACHER).equals("bge") ? Teacher.BGE : Teacher.CROSS_ENCODER,
        s.get(RelabelParams.RGPL_TEACHER_TOKENS), s.get(RelabelParams.RGPL_CROSS_ENCODER_MODEL),
        s.get(RelabelParams.RGPL_CROSS_ENCODER_TOKENIZER), adapter, s.get(RelabelParams.RGPL_NEGATIVES),
        s.get(RelabelParams.RGPL_NEGATIVES_PER_QUERY), s.get(RelabelParams.RGPL_STEPS),
        s.get(RelabelParams.RGPL_BATCH), s.get(RelabelParams.RGPL_LR), s.get(RelabelParams.RGPL_WARMUP),
        s.get(RelabelParams.RGPL_WEIGHT_DECAY), s.get(RelabelParams.RGPL_REMINE_EVERY),
        s.get(RelabelParams.RGPL_REDRAW_EVERY), s.get(RelabelParams.RGPL_AVERAGING), s.get(RelabelParams.RGPL_QUERY_BLOCK));
  }

  /** GPL's queries per passage, ceil(budget / documents), capped. */
  public int queriesPerDoc(long documents) {
    long qpp = (queryBudget + documents - 1) / Math.max(1, documents);
    return (int) Math.max(1, Math.min(maxQueriesPerDoc, qpp));
  }

  /** The same settings with another R (the bench runs GPL and R-GPL from one spec). */
  public RgplSpec withRemineEvery(int r) {
    return new RgplSpec(idCol, textCol, queryBudget, maxQueriesPerDoc, queryMinWords, queryMaxWords, studentTokens,
        teacher, teacherTokens, crossEncoderModel, crossEncoderTokenizer, adapter, negatives, negativesPerQuery, steps,
        batchSize, learningRate, warmupSteps, weightDecay, r, redrawEvery, averagingFrequency, queryBlock);
  }
}
