package io.relabel.spark.embed;

import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.spark.cli.RelabelException;
import io.relabel.spark.io.FeatureKind;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;

/**
 * Picks and fits the encoder that {@code relabel.embed.encoder} names. {@code auto} means text-minilm for a text
 * column and, for numbers, what the first version of relabel did: the features, standardised if
 * {@code relabel.embed.standardize}, reduced by PCA if {@code relabel.embed.pcaDims} is below their width.
 *
 * <p>The "cnn" encoder lives in {@code io.relabel.spark.embed.CnnImageEncoder}, written separately; it is looked up
 * by name at run time ({@link #CNN_CLASS}, a static {@code fit(Dataset, String featuresCol, int inputDim,
 * String labelIdxCol, String fitCol, String trustedCol, String uniformCol, Settings, long seed)} returning an
 * {@link Encoder}), so that this factory compiles and runs without it and picks it up, unchanged, once it is there.
 */
public final class EncoderFactory {

  /** The class that implements the "cnn" encoder. */
  public static final String CNN_CLASS = "io.relabel.spark.embed.CnnImageEncoder";

  static final List<String> TEXT = List.of("text-minilm", "text-bge");
  static final List<String> NUMERIC = List.of("vectors", "pca", "dl4j-model", "cnn");

  private EncoderFactory() {}

  /**
   * Columns of the canonical table that fitting an encoder may read.
   *
   * @param labelIndex int column: the given label's class index (null when unlabeled)
   * @param fit        boolean column: rows an encoder may be fitted on (labeled, not held out)
   * @param trusted    boolean column: rows whose label is verified
   * @param uniform    double column, seeded uniform in [0, 1) per row: draws fitting samples
   */
  public record FitColumns(String labelIndex, String fit, String trusted, String uniform) {}

  /**
   * The concrete encoder name the settings select for a features column of {@code kind} and width
   * {@code inputDim}: {@code auto} resolved, and a text encoder on numbers (or a numeric one on text) refused.
   *
   * @param featuresCol for the message
   */
  public static String resolve(Settings settings, FeatureKind kind, int inputDim, String featuresCol) {
    String name = settings.get(RelabelParams.EMBED_ENCODER);
    if (name.equals("auto")) {
      if (!kind.numeric()) {
        return "text-minilm";
      }
      int pca = settings.get(RelabelParams.EMBED_PCA_DIMS);
      return pca > 0 && pca < inputDim ? "pca" : "vectors";
    }
    if (TEXT.contains(name) && kind.numeric()) {
      throw new RelabelException(RelabelParams.EMBED_ENCODER.key() + "=" + name + " embeds text, but column '"
          + featuresCol + "' holds numbers (" + kind + "); for numeric features use one of "
          + String.join(", ", NUMERIC) + " or auto");
    }
    if (NUMERIC.contains(name) && !kind.numeric()) {
      throw new RelabelException(RelabelParams.EMBED_ENCODER.key() + "=" + name + " needs numeric features, but"
          + " column '" + featuresCol + "' holds text (string); for text use one of " + String.join(", ", TEXT)
          + " or auto");
    }
    if (name.equals("pca")) {
      int pca = settings.get(RelabelParams.EMBED_PCA_DIMS);
      if (pca == 0 || pca >= inputDim) {
        throw new RelabelException(RelabelParams.EMBED_ENCODER.key() + "=pca needs "
            + RelabelParams.EMBED_PCA_DIMS.key() + " between 1 and " + (inputDim - 1) + " (the features have "
            + inputDim + "), not " + pca);
      }
    }
    return name;
  }

  /**
   * The encoder {@code name} (from {@link #resolve}), fitted where it needs fitting.
   *
   * @param table       the canonical table: features plus the {@link FitColumns}
   * @param inputDim    the features' length (0 for text)
   */
  public static Encoder fitted(String name, Dataset<Row> table, String featuresCol, int inputDim, FitColumns cols,
      Settings settings, long seed) {
    return switch (name) {
      case "vectors", "pca" -> Embedding.fitVectors(table, featuresCol, inputDim, cols.fit(), cols.uniform(),
          Embedding.Spec.from(settings), name.equals("pca"));
      case "text-minilm", "text-bge" -> OnnxTextEncoder.create(OnnxTextEncoder.Model.named(name),
          settings.get(RelabelParams.EMBED_TEXT_MAX_TOKENS));
      case "dl4j-model" -> Dl4jModelEncoder.load(table.sparkSession(), settings.get(RelabelParams.EMBED_MODEL_PATH),
          settings.get(RelabelParams.EMBED_MODEL_LAYER), settings.get(RelabelParams.EMBED_INPUT_SHAPE), inputDim);
      case "cnn" -> fitCnn(table, featuresCol, inputDim, cols, settings, seed);
      default -> throw new IllegalArgumentException("no encoder named " + name);
    };
  }

  /** Calls {@code CnnImageEncoder.fit(...)} by reflection (see the class comment). */
  static Encoder fitCnn(Dataset<Row> table, String featuresCol, int inputDim, FitColumns cols, Settings settings,
      long seed) {
    Method fit = cnnFitter();
    try {
      return (Encoder) fit.invoke(null, table, featuresCol, inputDim, cols.labelIndex(), cols.fit(), cols.trusted(),
          cols.uniform(), settings, seed);
    } catch (InvocationTargetException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new IllegalStateException("the cnn encoder failed: " + e.getCause(), e.getCause());
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(CNN_CLASS + ".fit is not public", e);
    }
  }

  /** The static {@code fit} method of {@link #CNN_CLASS}; a clear error where this build does not have it. */
  static Method cnnFitter() {
    Class<?> cls;
    try {
      cls = Class.forName(CNN_CLASS, true, EncoderFactory.class.getClassLoader());
    } catch (ClassNotFoundException e) {
      throw new RelabelException(RelabelParams.EMBED_ENCODER.key() + "=cnn: this build of relabel has no CNN"
          + " encoder (class " + CNN_CLASS + " is missing); choose another encoder");
    }
    try {
      Method m = cls.getMethod("fit", Dataset.class, String.class, int.class, String.class, String.class,
          String.class, String.class, Settings.class, long.class);
      if (!Encoder.class.isAssignableFrom(m.getReturnType())) {
        throw new IllegalStateException(CNN_CLASS + ".fit returns " + m.getReturnType().getName()
            + ", not an Encoder");
      }
      return m;
    } catch (NoSuchMethodException e) {
      throw new IllegalStateException(CNN_CLASS + " has no static fit(Dataset, String, int, String, String, String,"
          + " String, Settings, long)", e);
    }
  }
}
