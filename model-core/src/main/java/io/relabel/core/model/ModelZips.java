package io.relabel.core.model;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;

/**
 * The one way relabel restores a DL4J model zip (a user's embedding model, an EMLC checkpoint, an R-GPL adapter).
 *
 * <p>DL4J's {@link ModelSerializer} restore methods read the network from JSON and ND4J's binary arrays, but if the
 * zip also holds a {@value ModelSerializer#PREPROCESSOR_BIN} entry they pass its bytes to
 * {@link java.io.ObjectInputStream#readObject()}, whatever {@code loadUpdater} says: a crafted model file would run
 * a Java deserialisation gadget chain in the driver and every executor. So the zip is read here first (with the same
 * {@link ZipInputStream} parser DL4J uses), a Java-serialised entry is refused, and DL4J is handed a fresh zip that
 * holds only the entries it needs: the configuration JSON, the parameters and the no-parameters marker. Updater
 * state and normaliser entries are dropped (relabel restores without the updater and never reads a normaliser).
 * {@code SecurityAuditTest} checks that no other class of relabel calls a ModelSerializer restore method.
 */
public final class ModelZips {

  /** Entries DL4J needs to restore a network without its updater. */
  static final Set<String> KEPT = Set.of(ModelSerializer.CONFIGURATION_JSON, ModelSerializer.COEFFICIENTS_BIN,
      ModelSerializer.NO_PARAMS_MARKER);

  private ModelZips() {}

  /** The model file holds something relabel will not load (a Java-serialised entry), as opposed to being broken. */
  public static final class UnsafeModelException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    UnsafeModelException(String message) {
      super(message);
    }
  }

  /** A ComputationGraph from a ModelSerializer zip; {@code what} names the file in messages. */
  public static ComputationGraph restoreGraph(byte[] zip, String what) throws IOException {
    return ModelSerializer.restoreComputationGraph(new ByteArrayInputStream(clean(zip, what)), false);
  }

  /** A MultiLayerNetwork from a ModelSerializer zip; {@code what} names the file in messages. */
  public static MultiLayerNetwork restoreNetwork(byte[] zip, String what) throws IOException {
    return ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(clean(zip, what)), false);
  }

  /**
   * The zip with only the {@link #KEPT} entries.
   *
   * @throws UnsafeModelException if it holds a Java-serialised entry
   * @throws IllegalArgumentException if it is not a zip with a configuration
   */
  static byte[] clean(byte[] zip, String what) {
    Map<String, byte[]> kept = new LinkedHashMap<>();
    try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
      for (ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
        if (e.getName().equals(ModelSerializer.PREPROCESSOR_BIN)) {
          throw new UnsafeModelException("model " + what + " holds " + ModelSerializer.PREPROCESSOR_BIN
              + ", a Java-serialised object that DL4J would deserialise on loading; relabel does not load Java"
              + " serialisation from model files: save the model without a DataSetPreProcessor");
        }
        if (KEPT.contains(e.getName())) {
          // the last copy of a repeated name, as DL4J's own reader keeps
          kept.put(e.getName(), in.readAllBytes());
        }
      }
    } catch (IOException e) {
      throw new IllegalArgumentException("model " + what + " is not a readable zip: " + e.getMessage(), e);
    }
    if (!kept.containsKey(ModelSerializer.CONFIGURATION_JSON)) {
      throw new IllegalArgumentException("model " + what + " is not a DL4J model saved with ModelSerializer (no "
          + ModelSerializer.CONFIGURATION_JSON + " inside)");
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(zip.length);
    try (ZipOutputStream out = new ZipOutputStream(bytes)) {
      for (Map.Entry<String, byte[]> e : kept.entrySet()) {
        out.putNextEntry(new ZipEntry(e.getKey()));
        out.write(e.getValue());
        out.closeEntry();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }
}
