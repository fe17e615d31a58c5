package io.relabel.core.emlc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The DL4J forms of the EMLC networks hold exactly relabel's parameters and compute relabel's forward passes. Every
 * matrix, biases included, gets random values, so a parameter put into the wrong place changes the outputs; the
 * teacher's trunk width differs from its label embedding, so the gate's concatenation order matters too.
 */
class Dl4jNetworksTest {

  private static final int D = 7;
  private static final int C = 4;
  private static final int ROWS = 9;

  /** Parameters of {@code shape}'s shapes with every value drawn at random (FLOAT). */
  private static Params random(Params shape, long seed) {
    Random rng = new Random(seed);
    List<INDArray> out = new ArrayList<>();
    for (int i = 0; i < shape.count(); i++) {
      long[] s = shape.get(i).shape();
      out.add(Nn.normal(rng, s[0], s[1], 0.8, DataType.FLOAT));
    }
    return new Params(out);
  }

  private static INDArray rows(long seed, int cols) {
    return Nn.normal(new Random(seed), ROWS, cols, 1.0, DataType.FLOAT);
  }

  private static INDArray labels(long seed) {
    Random rng = new Random(seed);
    int[] y = new int[ROWS];
    for (int i = 0; i < ROWS; i++) {
      y[i] = rng.nextInt(C);
    }
    return Nn.oneHot(y, C, DataType.FLOAT);
  }

  private static void assertNear(INDArray expected, INDArray actual, String what) {
    assertEquals(List.of(expected.shape()[0], expected.shape()[1]), List.of(actual.shape()[0], actual.shape()[1]),
        what + " shape");
    double err = expected.castTo(DataType.DOUBLE).sub(actual.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
    assertTrue(err < 1e-5, what + ": max difference " + err);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 5})
  void theStudentNetworkHoldsTheParametersAndComputesTheStudent(int hidden) {
    Student s = new Student(D, C, hidden);
    Params p = random(s.init(0, DataType.FLOAT), 1);
    MultiLayerNetwork net = Dl4jNetworks.student(s, p);
    assertEquals(hidden == 0 ? 1 : 2, net.getnLayers());
    Fd.assertSame(p.flat(), Dl4jNetworks.studentParams(s, net).flat());
    INDArray x = rows(2, D);
    assertNear(s.forward(p, x).p(), net.output(x), "student probabilities");
  }

  @Test
  void theEmlcTeacherGraphGivesTheTeachersProbabilitiesAndGate() {
    EmlcTeacher t = new EmlcTeacher(D, C, 6, 2, 3, 5);
    Params p = random(t.init(0, DataType.FLOAT), 3);
    ComputationGraph g = Dl4jNetworks.emlcTeacher(t, p);
    Fd.assertSame(p.flat(), Dl4jNetworks.emlcTeacherParams(t, g).flat());
    INDArray x = rows(4, D);
    INDArray onehot = labels(5);
    EmlcTeacher.Cache c = t.forward(p, x, onehot);
    INDArray[] out = g.output(x, onehot);
    assertEquals(2, out.length);
    assertNear(c.probs(), out[0], "softmax(t)");
    assertNear(c.gate(), out[1], "gate");
    // the soft label as the class comment tells a user to compute it
    INDArray soft = onehot.mulColumnVector(out[1]).addi(out[0].mulColumnVector(out[1].rsub(1.0)));
    assertNear(c.soft(), soft, "soft label");
  }

  @Test
  void theMlcTeacherGraphGivesTheTeachersSoftLabel() {
    MlcTeacher t = new MlcTeacher(D, C, 3, 6);
    Params p = random(t.init(0, DataType.FLOAT), 6);
    ComputationGraph g = Dl4jNetworks.mlcTeacher(t, D, C, p);
    Fd.assertSame(p.flat(), Dl4jNetworks.mlcTeacherParams(t, g).flat());
    INDArray f = rows(7, D);
    INDArray onehot = labels(8);
    assertNear(t.forward(p, f, onehot).soft(), g.outputSingle(f, onehot), "MLC soft label");
  }

  @Test
  void aSavedTeacherLoadsBackWithDl4jAlone(@TempDir Path dir) throws IOException {
    EmlcTeacher t = new EmlcTeacher(D, C, 6, 1, 3, 5);
    Params p = random(t.init(0, DataType.FLOAT), 9);
    File file = dir.resolve("teacher.zip").toFile();
    ModelSerializer.writeModel(Dl4jNetworks.emlcTeacher(t, p), file, false);
    ComputationGraph back = ModelSerializer.restoreComputationGraph(file, false);
    Fd.assertSame(p.flat(), Dl4jNetworks.emlcTeacherParams(t, back).flat());
    INDArray x = rows(10, D);
    INDArray onehot = labels(11);
    assertNear(t.forward(p, x, onehot).gate(), back.output(x, onehot)[1], "gate after loading");
  }

  @Test
  void parametersOfAnotherShapeAreRefused() {
    Student linear = new Student(D, C, 0);
    Student mlp = new Student(D, C, 5);
    Params p = random(mlp.init(0, DataType.FLOAT), 12);
    assertThrows(IllegalArgumentException.class, () -> Dl4jNetworks.student(linear, p));
    MultiLayerNetwork net = Dl4jNetworks.student(mlp, p);
    assertThrows(IllegalArgumentException.class, () -> Dl4jNetworks.studentParams(linear, net));
    MlcTeacher t = new MlcTeacher(D, C, 3, 6);
    assertThrows(IllegalArgumentException.class,
        () -> Dl4jNetworks.mlcTeacher(t, D + 1, C, random(t.init(0, DataType.FLOAT), 13)));
  }
}
