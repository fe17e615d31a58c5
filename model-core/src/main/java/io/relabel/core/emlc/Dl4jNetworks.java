package io.relabel.core.emlc;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

/**
 * The EMLC networks as DL4J networks, so that relabel saves them with {@code ModelSerializer} and a user loads them
 * with DL4J alone, without relabel's own parameter layout. relabel trains with its own forward and backward passes
 * (the meta-gradient needs Hessian-vector products DL4J does not offer); these networks compute the same functions.
 *
 * <p>A network is built in the data type of the parameters it is given, so a conversion there and back is exact
 * (a FLOAT trainer gives FLOAT networks, DL4J's default; a DOUBLE trainer would lose nothing either).
 *
 * <p>The EMLC teacher is a {@link ComputationGraph} with inputs {@code x} and {@code label} (one-hot) and two outputs,
 * {@code logits} (softmax(t), the teacher's own class probabilities) and {@code gate} (w). The soft label is not a
 * vertex of the graph; a user computes it from the two outputs as
 *
 * <pre>  ỹ = w·onehot(ŷ) + (1 − w)·softmax(t)</pre>
 *
 * which keeps the graph made of stock layers only. Its {@code labelEmbedding} layer is a dense layer without bias and
 * with identity activation: on a one-hot input that is exactly a row lookup onehot(ŷ)·E.
 *
 * <p>The MLC teacher's graph has inputs {@code features} (the student's hidden features, or its input for a linear
 * student) and {@code label}, and its one output {@code soft} is ỹ itself.
 *
 * <p>Loss functions and weight initialisation in these configurations only matter to someone who goes on training
 * them with DL4J; every parameter is overwritten here.
 */
public final class Dl4jNetworks {

  /** The EMLC graph's summing layer: its weights are all ones and belong to no relabel parameter. */
  private static final String BELIEF = "labelBelief";

  private Dl4jNetworks() {}

  /** A single softmax output layer for a linear student, a ReLU dense layer and the output layer for an MLP. */
  public static MultiLayerNetwork student(Student s, Params p) {
    checkShapes("student", shapes(s.init(0, DataType.FLOAT)), p);
    NeuralNetConfiguration.ListBuilder b = base(p).list();
    if (s.hidden() == 0) {
      b.layer(softmaxOut(s.inputs(), s.classes()));
    } else {
      b.layer(dense(s.inputs(), s.hidden(), Activation.RELU, true));
      b.layer(softmaxOut(s.hidden(), s.classes()));
    }
    MultiLayerNetwork net = new MultiLayerNetwork(b.build());
    net.init();
    write(net, studentNames(s), p);
    return net;
  }

  public static Params studentParams(Student s, MultiLayerNetwork net) {
    return read("student", net, studentNames(s), shapes(s.init(0, DataType.FLOAT)));
  }

  /** See the class comment for the graph's inputs and outputs and how ỹ follows from them. */
  public static ComputationGraph emlcTeacher(EmlcTeacher t, Params p) {
    checkShapes("EMLC teacher", shapes(t.init(0, DataType.FLOAT)), p);
    ComputationGraphConfiguration.GraphBuilder g = base(p).graphBuilder().addInputs("x", "label");
    String previous = "x";
    int in = t.inputs();
    for (int l = 0; l < t.layers(); l++) {
      g.addLayer("trunk" + l, dense(in, t.width(), Activation.RELU, true), previous);
      previous = "trunk" + l;
      in = t.width();
    }
    g.addLayer("logits", softmaxOut(t.width(), t.classes()), previous)
        .addLayer("labelEmbedding", dense(t.classes(), t.labelEmbedding(), Activation.IDENTITY, false), "label")
        // softmax(t)[ŷ]: the product with the one-hot label, summed by a bias-free dense layer of ones (a constant)
        .addVertex("labelProduct", new ElementWiseVertex(ElementWiseVertex.Op.Product), "logits", "label")
        .addLayer(BELIEF, dense(t.classes(), 1, Activation.IDENTITY, false), "labelProduct")
        // [h ; onehot·E ; softmax(t)[ŷ]] in this order: the rows of Wg1 are the trunk's features first
        .addVertex("gateIn", new MergeVertex(), previous, "labelEmbedding", BELIEF)
        .addLayer("gateHidden", dense(t.width() + t.labelEmbedding() + 1, t.gateHidden(), Activation.RELU, true),
            "gateIn")
        .addLayer("gate", new OutputLayer.Builder(LossFunction.XENT).activation(Activation.SIGMOID)
            .nIn(t.gateHidden()).nOut(1).build(), "gateHidden")
        .setOutputs("logits", "gate");
    ComputationGraph net = graph(g, emlcNames(t), p);
    net.getParam(BELIEF + "_W").assign(1.0);
    return net;
  }

  public static Params emlcTeacherParams(EmlcTeacher t, ComputationGraph g) {
    return read("EMLC teacher", g, emlcNames(t), shapes(t.init(0, DataType.FLOAT)));
  }

  /**
   * {@code features} and {@code classes} must be the teacher's own (they are checked); they are asked for so that a
   * caller states which student the teacher reads.
   */
  public static ComputationGraph mlcTeacher(MlcTeacher t, int features, int classes, Params p) {
    if (features != t.features() || classes != t.classes()) {
      throw new IllegalArgumentException("MLC teacher reads " + t.features() + " features of " + t.classes()
          + " classes, not " + features + " of " + classes);
    }
    checkShapes("MLC teacher", shapes(t.init(0, DataType.FLOAT)), p);
    ComputationGraphConfiguration.GraphBuilder g = base(p).graphBuilder().addInputs("features", "label")
        .addLayer("labelEmbedding", dense(classes, t.labelEmbedding(), Activation.IDENTITY, false), "label")
        .addVertex("in", new MergeVertex(), "features", "labelEmbedding")
        .addLayer("h1", dense(features + t.labelEmbedding(), t.hidden(), Activation.TANH, true), "in")
        .addLayer("h2", dense(t.hidden(), t.hidden(), Activation.TANH, true), "h1")
        .addLayer("soft", softmaxOut(t.hidden(), classes), "h2")
        .setOutputs("soft");
    return graph(g, mlcNames(), p);
  }

  public static Params mlcTeacherParams(MlcTeacher t, ComputationGraph g) {
    return read("MLC teacher", g, mlcNames(), shapes(t.init(0, DataType.FLOAT)));
  }

  /** Either teacher's graph, by its kind. */
  public static ComputationGraph teacher(Teacher t, Params p) {
    if (t instanceof EmlcTeacher e) {
      return emlcTeacher(e, p);
    }
    MlcTeacher m = (MlcTeacher) t;
    return mlcTeacher(m, m.features(), m.classes(), p);
  }

  public static Params teacherParams(Teacher t, ComputationGraph g) {
    return t instanceof EmlcTeacher e ? emlcTeacherParams(e, g) : mlcTeacherParams((MlcTeacher) t, g);
  }

  private static NeuralNetConfiguration.Builder base(Params p) {
    return new NeuralNetConfiguration.Builder().seed(0).dataType(p.dataType());
  }

  private static DenseLayer dense(int in, int out, Activation activation, boolean bias) {
    return new DenseLayer.Builder().nIn(in).nOut(out).activation(activation).hasBias(bias).build();
  }

  private static OutputLayer softmaxOut(int in, int out) {
    return new OutputLayer.Builder(LossFunction.MCXENT).activation(Activation.SOFTMAX).nIn(in).nOut(out).build();
  }

  private static ComputationGraph graph(ComputationGraphConfiguration.GraphBuilder g, List<String> names, Params p) {
    ComputationGraph net = new ComputationGraph(g.build());
    net.init();
    write(net, names, p);
    return net;
  }

  /** DL4J keeps biases as vectors of rank 1 where relabel has {@code 1 x n} rows; the values are the same. */
  private static void write(Model net, List<String> names, Params p) {
    for (int i = 0; i < names.size(); i++) {
      INDArray target = net.getParam(names.get(i));
      target.assign(p.get(i).reshape(target.shape()));
    }
  }

  // DL4J names a parameter "<layer>_W" or "<layer>_b"; a MultiLayerNetwork's layers are named by their index.
  private static List<String> studentNames(Student s) {
    return s.hidden() == 0 ? List.of("0_W", "0_b") : List.of("0_W", "0_b", "1_W", "1_b");
  }

  private static List<String> emlcNames(EmlcTeacher t) {
    List<String> n = new ArrayList<>();
    for (int l = 0; l < t.layers(); l++) {
      n.add("trunk" + l + "_W");
      n.add("trunk" + l + "_b");
    }
    n.addAll(List.of("logits_W", "logits_b", "labelEmbedding_W", "gateHidden_W", "gateHidden_b", "gate_W", "gate_b"));
    return n;
  }

  private static List<String> mlcNames() {
    return List.of("labelEmbedding_W", "h1_W", "h1_b", "h2_W", "h2_b", "soft_W", "soft_b");
  }

  // The shapes come from the networks' own initialisers, so they cannot drift from the parameter order.
  private static List<long[]> shapes(Params p) {
    List<long[]> out = new ArrayList<>(p.count());
    for (int i = 0; i < p.count(); i++) {
      out.add(p.get(i).shape());
    }
    return out;
  }

  private static void checkShapes(String what, List<long[]> expected, Params p) {
    if (p.count() != expected.size()) {
      throw new IllegalArgumentException(what + " has " + expected.size() + " parameter matrices, got " + p.count());
    }
    for (int i = 0; i < expected.size(); i++) {
      if (!Arrays.equals(expected.get(i), p.get(i).shape())) {
        throw new IllegalArgumentException(what + " parameter " + i + " should be " + Arrays.toString(expected.get(i))
            + ", got " + Arrays.toString(p.get(i).shape()));
      }
    }
  }

  private static Params read(String what, Model net, List<String> names, List<long[]> shapes) {
    int have = net.paramTable().size() - (net.paramTable().containsKey(BELIEF + "_W") ? 1 : 0);
    if (have != names.size()) {
      throw new IllegalArgumentException("not a DL4J " + what + " of this shape: " + have + " parameters, expected "
          + names.size());
    }
    List<INDArray> out = new ArrayList<>(names.size());
    for (String n : names) {
      INDArray a = net.getParam(n);
      if (a == null) {
        throw new IllegalArgumentException("not a DL4J " + what + ": no parameter " + n);
      }
      long[] shape = shapes.get(out.size());
      if (a.length() != shape[0] * shape[1]) {
        throw new IllegalArgumentException("DL4J " + what + " parameter " + n + " has " + a.length()
            + " values, expected " + Arrays.toString(shape));
      }
      out.add(a.dup('c').reshape('c', shape));
    }
    return new Params(out);
  }
}
