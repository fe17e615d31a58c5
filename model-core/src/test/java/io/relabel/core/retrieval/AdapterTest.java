package io.relabel.core.retrieval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.Random;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The adapter starts at the identity, survives DL4J's own format unchanged, and refuses what is not an adapter. */
class AdapterTest {

  private static final int DIM = 6;

  private static float[][] rows(long seed, int n) {
    Random rng = new Random(seed);
    float[][] x = new float[n][];
    for (int i = 0; i < n; i++) {
      x[i] = Rand.floats(rng, DIM, 1.0);
    }
    return x;
  }

  @ParameterizedTest
  @CsvSource({"LINEAR", "MLP"})
  void startsAsTheIdentityExactly(AdapterSpec.Kind kind) {
    float[][] x = rows(1, 5);
    Adapter a = Adapter.identity(new AdapterSpec(kind, 4, false), DIM, DataType.FLOAT, 7);
    // e + 0 is e to the bit: g is exactly zero however W1 was drawn
    assertArrayEquals(x, a.apply(x));
  }

  @ParameterizedTest
  @CsvSource({"LINEAR", "MLP"})
  void startsAsTheNormalisationWithNormalise(AdapterSpec.Kind kind) {
    float[][] x = rows(2, 5);
    float[][] f = Adapter.identity(new AdapterSpec(kind, 4, true), DIM, DataType.FLOAT, 7).apply(x);
    for (int i = 0; i < x.length; i++) {
      double norm = 0;
      for (float v : x[i]) {
        norm += v * v;
      }
      norm = Math.sqrt(norm);
      for (int j = 0; j < DIM; j++) {
        assertEquals(x[i][j] / norm, f[i][j], 1e-6, "row " + i + ", column " + j);
      }
    }
  }

  @Test
  void theMlpFirstLayerComesFromTheSeed() {
    AdapterSpec mlp = new AdapterSpec(AdapterSpec.Kind.MLP, 4, false);
    double[] a = Adapter.identity(mlp, DIM, DataType.FLOAT, 7).paramsCopy();
    assertArrayEquals(a, Adapter.identity(mlp, DIM, DataType.FLOAT, 7).paramsCopy());
    assertTrue(!Arrays.equals(a, Adapter.identity(mlp, DIM, DataType.FLOAT, 8).paramsCopy()));
    // W1 (DIM x 4) is drawn, b1, W2 and b2 are zero
    assertTrue(Arrays.stream(a, 0, DIM * 4).allMatch(v -> v != 0));
    assertTrue(Arrays.stream(a, DIM * 4, a.length).allMatch(v -> v == 0));
  }

  @ParameterizedTest
  @CsvSource({"LINEAR, false, FLOAT", "LINEAR, true, FLOAT", "MLP, false, FLOAT", "MLP, true, DOUBLE"})
  void survivesDl4jsFormatUnchanged(AdapterSpec.Kind kind, boolean normalise, DataType type) {
    AdapterSpec spec = new AdapterSpec(kind, kind == AdapterSpec.Kind.MLP ? 4 : 0, normalise);
    Adapter a = Adapter.identity(spec, DIM, type, 3);
    double[] p = Rand.randomise(a, new Random(4), 0.4);
    Adapter b = Adapter.fromBytes(a.toBytes());
    assertEquals(spec, b.spec());
    assertEquals(DIM, b.dim());
    assertEquals(type, b.dataType());
    assertArrayEquals(p, b.paramsCopy());
    float[][] x = rows(5, 7);
    assertArrayEquals(a.apply(x), b.apply(x));
    assertTrue(!Arrays.deepEquals(x, b.apply(x)), "random parameters should move the rows");
  }

  @Test
  void decayMaskMarksWeightMatricesOnly() {
    boolean[] linear = Adapter.identity(new AdapterSpec(AdapterSpec.Kind.LINEAR, 0, true), 3, DataType.FLOAT, 0)
        .decayMask();
    assertArrayEquals(new boolean[] {true, true, true, true, true, true, true, true, true, false, false, false},
        linear);
    // W1 (3 x 2), b1 (2), W2 (2 x 3), b2 (3)
    boolean[] mlp = Adapter.identity(new AdapterSpec(AdapterSpec.Kind.MLP, 2, false), 3, DataType.FLOAT, 0)
        .decayMask();
    assertArrayEquals(new boolean[] {true, true, true, true, true, true, false, false, true, true, true, true, true,
        true, false, false, false}, mlp);
  }

  @Test
  void theDecayMaskLeavesTheParametersAsTheyWere() {
    Adapter a = Adapter.identity(new AdapterSpec(AdapterSpec.Kind.MLP, 2, false), 3, DataType.FLOAT, 0);
    double[] p = Rand.randomise(a, new Random(6), 1.0);
    a.decayMask();
    assertArrayEquals(p, a.paramsCopy());
  }

  @Test
  void corruptBytesAreRefusedClearly() {
    byte[] zip = Adapter.identity(new AdapterSpec(AdapterSpec.Kind.LINEAR, 0, false), DIM, DataType.FLOAT, 0)
        .toBytes();
    byte[] junk = {1, 2, 3, 4, 5};
    assertEquals("not a DL4J ComputationGraph model (5 bytes)",
        assertThrows(IllegalArgumentException.class, () -> Adapter.fromBytes(junk)).getMessage());
    byte[] half = Arrays.copyOf(zip, zip.length / 2);
    assertEquals("not a DL4J ComputationGraph model (" + half.length + " bytes)",
        assertThrows(IllegalArgumentException.class, () -> Adapter.fromBytes(half)).getMessage());
  }

  @Test
  void aGraphOfAnotherShapeIsRefusedClearly() throws Exception {
    assertEquals("not an adapter graph: layer g has activation tanh, expected identity",
        assertThrows(IllegalArgumentException.class,
            () -> Adapter.fromBytes(residualGraph(Activation.TANH, ElementWiseVertex.Op.Add))).getMessage());
    assertEquals("not an adapter graph: vertex residual is ElementWiseVertex(op=Product), expected "
        + "ElementWiseVertex(op=Add)", assertThrows(IllegalArgumentException.class,
            () -> Adapter.fromBytes(residualGraph(Activation.IDENTITY, ElementWiseVertex.Op.Product))).getMessage());

    ComputationGraph none = new ComputationGraph(new NeuralNetConfiguration.Builder().graphBuilder()
        .addInputs("x")
        .addLayer("h", new DenseLayer.Builder().nIn(DIM).nOut(DIM).build(), "x")
        .setOutputs("h").build());
    none.init();
    assertEquals("not an adapter graph: no dense layer \"g\"",
        assertThrows(IllegalArgumentException.class, () -> Adapter.fromBytes(bytes(none))).getMessage());
  }

  /** A LINEAR adapter's layout with another activation or another element-wise op. */
  private static byte[] residualGraph(Activation activation, ElementWiseVertex.Op op) throws Exception {
    ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder().graphBuilder()
        .addInputs("e")
        .addLayer("g", new DenseLayer.Builder().nIn(DIM).nOut(DIM).activation(activation).build(), "e")
        .addVertex("residual", new ElementWiseVertex(op), "e", "g")
        .setOutputs("residual").build());
    g.init();
    return bytes(g);
  }

  private static byte[] bytes(ComputationGraph g) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ModelSerializer.writeModel(g, out, false);
    return out.toByteArray();
  }

  @Test
  void applyAndOutputAgree() {
    Adapter a = Adapter.identity(new AdapterSpec(AdapterSpec.Kind.MLP, 4, true), DIM, DataType.FLOAT, 1);
    Rand.randomise(a, new Random(8), 0.4);
    float[][] x = rows(9, 3);
    INDArray out = a.output(org.nd4j.linalg.factory.Nd4j.createFromArray(x));
    assertArrayEquals(out.toFloatMatrix(), a.apply(x));
    assertEquals(0, a.apply(new float[0][]).length);
  }

  @Test
  void wrongShapesAreRefused() {
    Adapter a = Adapter.identity(new AdapterSpec(AdapterSpec.Kind.LINEAR, 0, false), 3, DataType.FLOAT, 0);
    assertEquals("adapter has 12 parameters, got 5",
        assertThrows(IllegalArgumentException.class, () -> a.setParams(new double[5])).getMessage());
    assertEquals("adapter takes rows of 3 values, got shape [2, 4]",
        assertThrows(IllegalArgumentException.class, () -> a.apply(new float[2][4])).getMessage());
    assertEquals("MLP adapter needs hidden >= 1, got 0", assertThrows(IllegalArgumentException.class,
        () -> Adapter.identity(new AdapterSpec(AdapterSpec.Kind.MLP, 0, false), 3, DataType.FLOAT, 0))
        .getMessage());
    assertEquals("adapter needs a dimension >= 1, got 0", assertThrows(IllegalArgumentException.class,
        () -> Adapter.identity(new AdapterSpec(AdapterSpec.Kind.LINEAR, 0, false), 0, DataType.FLOAT, 0))
        .getMessage());
  }
}
