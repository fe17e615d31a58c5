package io.relabel.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No class of relabel deserialises Java objects, and every DL4J model restore goes through
 * {@code io.relabel.core.model.ModelZips}, which refuses Java-serialised zip entries. The compiled classes of both
 * modules are searched for the names such code must carry in its constant pool (a call to a method names its class
 * and its name there), so a new call anywhere fails this test with the class that makes it.
 */
class SecurityAuditTest {

  /** Names no relabel class may mention: Java deserialisation, directly or through a library. */
  static final List<String> FORBIDDEN = List.of("java/io/ObjectInputStream", "readObject", "readUnshared",
      "SerializationUtils", "java/beans/XMLDecoder", "getObjectFromFile", "addObjectToFile",
      "restoreNormalizerFromFile", "restoreNormalizerFromInputStream", "restoreMultiLayerNetworkAndNormalizer",
      "restoreComputationGraphAndNormalizer", "enableDefaultTyping", "activateDefaultTyping");

  /** ModelSerializer restores, allowed only in the class that cleans the zip first. */
  static final Map<String, String> ONLY_IN = Map.of(
      "restoreMultiLayerNetwork", "io/relabel/core/model/ModelZips.class",
      "restoreComputationGraph", "io/relabel/core/model/ModelZips.class");

  static final List<Path> ROOTS = List.of(Path.of("target/classes"), Path.of("../model-core/target/classes"));

  @Test
  void noClassDeserialisesJavaObjectsOrRestoresAModelBehindModelZips() throws IOException {
    List<String> findings = new ArrayList<>();
    int classes = 0;
    for (Path root : ROOTS) {
      assertTrue(Files.isDirectory(root), root.toAbsolutePath() + " is missing; compile both modules first");
      List<Path> files;
      try (Stream<Path> s = Files.walk(root)) {
        files = s.filter(p -> p.toString().endsWith(".class")).sorted().toList();
      }
      for (Path f : files) {
        classes++;
        String name = root.relativize(f).toString();
        // constant-pool UTF-8 entries are plain bytes for ASCII names: ISO-8859-1 keeps them one char a byte
        String text = new String(read(f), StandardCharsets.ISO_8859_1);
        for (String bad : FORBIDDEN) {
          if (text.contains(bad)) {
            findings.add(name + " mentions " + bad);
          }
        }
        for (Map.Entry<String, String> e : ONLY_IN.entrySet()) {
          if (text.contains(e.getKey()) && !name.equals(e.getValue())) {
            findings.add(name + " calls ModelSerializer." + e.getKey() + " (use ModelZips)");
          }
        }
      }
    }
    assertTrue(classes > 100, "only " + classes + " classes found");
    assertEquals(List.of(), findings);
  }

  private static byte[] read(Path f) {
    try {
      return Files.readAllBytes(f);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
