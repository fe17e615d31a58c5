package io.relabel.core.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** A model zip carrying a Java-serialised entry is refused before DL4J could deserialise it. */
class ModelZipsTest {

  /** Stands for a gadget: records that its bytes were deserialised. */
  static final class Canary implements Serializable {
    private static final long serialVersionUID = 1L;
    static volatile boolean deserialised;

    private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
      in.defaultReadObject();
      deserialised = true;
    }
  }

  static byte[] modelZip() throws IOException {
    MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(3).list()
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(3).nOut(2)
            .activation(Activation.SOFTMAX).build())
        .build());
    net.init();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ModelSerializer.writeModel(net, out, true);
    return out.toByteArray();
  }

  /** The zip with one more entry, {@code name}, holding a Java-serialised {@link Canary}. */
  static byte[] withCanary(byte[] zip, String name) throws IOException {
    ByteArrayOutputStream object = new ByteArrayOutputStream();
    try (ObjectOutputStream o = new ObjectOutputStream(object)) {
      o.writeObject(new Canary());
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip));
        ZipOutputStream out = new ZipOutputStream(bytes)) {
      for (ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
        out.putNextEntry(new ZipEntry(e.getName()));
        out.write(in.readAllBytes());
      }
      out.putNextEntry(new ZipEntry(name));
      out.write(object.toByteArray());
    }
    return bytes.toByteArray();
  }

  static List<String> entries(byte[] zip) throws IOException {
    List<String> names = new ArrayList<>();
    try (ZipInputStream in = new ZipInputStream(new ByteArrayInputStream(zip))) {
      for (ZipEntry e = in.getNextEntry(); e != null; e = in.getNextEntry()) {
        names.add(e.getName());
      }
    }
    return names;
  }

  @Test
  void dl4jItselfDeserialisesAPreprocessorEntryAndRelabelRefusesIt() throws Exception {
    byte[] crafted = withCanary(modelZip(), ModelSerializer.PREPROCESSOR_BIN);
    // the risk is real: ModelSerializer runs readObject on it even without the updater
    Canary.deserialised = false;
    assertThrows(RuntimeException.class,
        () -> ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(crafted), false));
    assertTrue(Canary.deserialised, "DL4J no longer deserialises preprocessor.bin; revisit ModelZips");

    Canary.deserialised = false;
    IllegalArgumentException e = assertThrows(ModelZips.UnsafeModelException.class,
        () -> ModelZips.restoreNetwork(crafted, "m.zip"));
    assertEquals("model m.zip holds preprocessor.bin, a Java-serialised object that DL4J would deserialise on"
        + " loading; relabel does not load Java serialisation from model files: save the model without a"
        + " DataSetPreProcessor", e.getMessage());
    assertFalse(Canary.deserialised);
  }

  @Test
  void otherEntriesAreDroppedAndTheNetworkRestoresUnchanged() throws Exception {
    byte[] zip = modelZip();
    byte[] crafted = withCanary(zip, "extra.bin");
    assertEquals(List.of("configuration.json", "coefficients.bin", "extra.bin"),
        entries(crafted));
    assertEquals(List.of("configuration.json", "coefficients.bin"), entries(ModelZips.clean(crafted, "m.zip")));
    Canary.deserialised = false;
    MultiLayerNetwork restored = ModelZips.restoreNetwork(crafted, "m.zip");
    assertFalse(Canary.deserialised);
    MultiLayerNetwork original = ModelSerializer.restoreMultiLayerNetwork(new ByteArrayInputStream(zip), false);
    assertArrayEquals(original.params().toFloatVector(), restored.params().toFloatVector());
  }

  @Test
  void notAModelZip() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> ModelZips.restoreGraph(new byte[] {1, 2, 3}, "x.zip"));
    assertEquals("model x.zip is not a DL4J model saved with ModelSerializer (no configuration.json inside)",
        e.getMessage());
  }
}
