package io.relabel.spark.embed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.core.config.Settings;
import io.relabel.spark.cli.RelabelException;
import io.relabel.spark.io.FeatureKind;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which encoder the settings select, and what is refused; no Spark needed. */
class EncoderFactoryTest {

  static Settings with(String... kv) {
    Map<String, String> m = new java.util.HashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      m.put(kv[i], kv[i + 1]);
    }
    return Settings.defaults().with(m);
  }

  static String refused(Settings s, FeatureKind kind, int dim) {
    return assertThrows(RelabelException.class, () -> EncoderFactory.resolve(s, kind, dim, "features"))
        .getMessage();
  }

  @Test
  void autoPicksMiniLmForTextAndTheFirstVersionsBehaviourForNumbers() {
    Settings auto = Settings.defaults();
    assertEquals("text-minilm", EncoderFactory.resolve(auto, FeatureKind.TEXT, 0, "features"));
    assertEquals("pca", EncoderFactory.resolve(auto, FeatureKind.ARRAY_FLOAT, 784, "features"));
    assertEquals("vectors", EncoderFactory.resolve(auto, FeatureKind.VECTOR, 128, "features"),
        "pcaDims (128) not below the width: PCA is skipped");
    assertEquals("vectors", EncoderFactory.resolve(with("relabel.embed.pcaDims", "0"), FeatureKind.ARRAY_DOUBLE, 784,
        "features"));
    assertEquals("text-bge", EncoderFactory.resolve(with("relabel.embed.encoder", "text-bge"), FeatureKind.TEXT, 0,
        "features"));
  }

  @Test
  void aTextEncoderOnNumbersAndANumericEncoderOnTextAreRefused() {
    assertEquals("relabel.embed.encoder=text-minilm embeds text, but column 'features' holds numbers (ARRAY_FLOAT);"
        + " for numeric features use one of vectors, pca, dl4j-model, cnn or auto",
        refused(with("relabel.embed.encoder", "text-minilm"), FeatureKind.ARRAY_FLOAT, 784));
    assertEquals("relabel.embed.encoder=pca needs numeric features, but column 'features' holds text (string);"
        + " for text use one of text-minilm, text-bge or auto",
        refused(with("relabel.embed.encoder", "pca"), FeatureKind.TEXT, 0));
    assertEquals("relabel.embed.encoder=cnn needs numeric features, but column 'features' holds text (string);"
        + " for text use one of text-minilm, text-bge or auto",
        refused(with("relabel.embed.encoder", "cnn"), FeatureKind.TEXT, 0));
  }

  @Test
  void anExplicitPcaNeedsFewerComponentsThanFeatures() {
    assertEquals("relabel.embed.encoder=pca needs relabel.embed.pcaDims between 1 and 99 (the features have 100),"
        + " not 128", refused(with("relabel.embed.encoder", "pca"), FeatureKind.ARRAY_FLOAT, 100));
    assertEquals("relabel.embed.encoder=pca needs relabel.embed.pcaDims between 1 and 783 (the features have 784),"
        + " not 0", refused(with("relabel.embed.encoder", "pca", "relabel.embed.pcaDims", "0"),
        FeatureKind.ARRAY_FLOAT, 784));
  }

  @Test
  void unknownEncoderNamesAreRefusedBySettings() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> with("relabel.embed.encoder", "word2vec"));
    assertEquals("invalid value for relabel.embed.encoder: 'word2vec'; accepted: one of auto, vectors, pca,"
        + " text-minilm, text-bge, dl4j-model, cnn", e.getMessage());
  }

  /** Whichever build this is: without the CNN class a clear error; with it, the fit method the hook calls. */
  @Test
  void theCnnEncoderIsFoundByNameOrClearlyMissing() throws Exception {
    boolean present;
    try {
      Class.forName(EncoderFactory.CNN_CLASS);
      present = true;
    } catch (ClassNotFoundException e) {
      present = false;
    }
    if (present) {
      Method fit = EncoderFactory.cnnFitter();
      assertTrue(Modifier.isStatic(fit.getModifiers()), "CnnImageEncoder.fit must be static");
      assertTrue(Encoder.class.isAssignableFrom(fit.getReturnType()));
    } else {
      RelabelException e = assertThrows(RelabelException.class, EncoderFactory::cnnFitter);
      assertEquals("relabel.embed.encoder=cnn: this build of relabel has no CNN encoder (class"
          + " io.relabel.spark.embed.CnnImageEncoder is missing); choose another encoder", e.getMessage());
    }
  }
}
