package io.relabel.spark.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.core.config.Settings;
import io.relabel.spark.cli.RelabelException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InputContractTest {

  @Test
  void defaultsNameTheDocumentedColumns() {
    InputContract c = InputContract.from(Settings.defaults());
    assertEquals(new InputContract("id", "features", "label", "trusted", "split", "test", "label_true", List.of()),
        c);
    assertFalse(c.hasDeclaredClasses());
    assertEquals(Map.of("trusted", "trusted", "split", "split", "trueLabel", "label_true"), c.optionalColumns());
  }

  @Test
  void settingsRenameColumnsAndDeclareClasses() {
    InputContract c = InputContract.from(Settings.defaults().with(Map.of(
        "relabel.input.idCol", "row", "relabel.input.trustedCol", "", "relabel.input.classes", "cat, dog,bird")));
    assertEquals("row", c.idCol());
    assertEquals("", c.trustedCol());
    assertEquals(List.of("cat", "dog", "bird"), c.classes());
    assertTrue(c.hasDeclaredClasses());
    assertEquals(Map.of("split", "split", "trueLabel", "label_true"), c.optionalColumns());
  }

  @Test
  void oneColumnInTwoRolesIsRefused() {
    RelabelException e = assertThrows(RelabelException.class, () -> InputContract.from(Settings.defaults().with(
        Map.of("relabel.input.labelCol", "id"))));
    assertEquals("relabel.input.idCol and relabel.input.labelCol both name column 'id'", e.getMessage());
  }

  @Test
  void classDeclaredTwiceIsRefused() {
    RelabelException e = assertThrows(RelabelException.class, () -> InputContract.from(Settings.defaults().with(
        Map.of("relabel.input.classes", "cat,dog,cat"))));
    assertEquals("relabel.input.classes lists class 'cat' twice", e.getMessage());
  }

  @Test
  void blankClassNameIsRefused() {
    RelabelException e = assertThrows(RelabelException.class, () -> InputContract.parseClasses("cat, ,dog"));
    assertEquals("relabel.input.classes has an empty class name in 'cat, ,dog'", e.getMessage());
  }
}
