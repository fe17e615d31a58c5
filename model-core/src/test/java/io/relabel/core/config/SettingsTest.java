package io.relabel.core.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

class SettingsTest {

  @Test
  void confFileAndDeclarationsAgreeKeyForKey() {
    Map<String, String> defaults = Settings.readDefaults();
    assertEquals(RelabelParams.ALL.keySet(), defaults.keySet());
    Settings.defaults(); // every default parses and validates
  }

  @Test
  void overrideIsValidated() {
    Settings s = Settings.defaults().with(Map.of("relabel.train.epochs", "3"));
    assertEquals(3, s.get(RelabelParams.TRAIN_EPOCHS));
  }

  @Test
  void outOfRangeValueNamesKeyValueAndRange() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Settings.defaults().with(Map.of("relabel.train.epochs", "0")));
    assertEquals("invalid value for relabel.train.epochs: '0'; accepted: an integer in [1, 1000]", e.getMessage());
  }

  @Test
  void malformedValueIsRejected() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Settings.defaults().with(Map.of("relabel.consensus.predict", "sometimes")));
    assertEquals("invalid value for relabel.consensus.predict: 'sometimes'; accepted: one of out-of-fold, in-sample",
        e.getMessage());
  }

  @Test
  void unknownKeyListsKnownKeys() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Settings.defaults().with(Map.of("relabel.train.epoch", "3")));
    assertTrue(e.getMessage().startsWith("unknown setting 'relabel.train.epoch' in overrides; known settings: "),
        e.getMessage());
    assertTrue(e.getMessage().contains("relabel.train.epochs"));
  }
}
