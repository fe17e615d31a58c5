package io.relabel.core.retrieval;

import io.relabel.core.model.ModelZips;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.WorkspaceMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.L2NormalizeVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The trainable adapter on a frozen sentence encoder's embeddings (methods.md section 4):
 *
 * <pre>  f(e) = e + g(e),   optionally f(e) / ‖f(e)‖₂
 *  LINEAR: g(e) = W·e + b                  W = 0, b = 0 at the start
 *  MLP:    g(e) = W2·relu(W1·e + b1) + b2   W1 He-initialised from the seed, b1 = 0, W2 = 0, b2 = 0</pre>
 *
 * g starts at zero, so training starts from the base encoder exactly (from its L2-normalised embeddings with
 * normalisation). The adapter is a DL4J {@link ComputationGraph} of stock pieces, so that it is saved in DL4J's own
 * format with {@link ModelSerializer} and a user loads it with DL4J alone:
 *
 * <pre>  e ─┬─────────────────────────────────┐
 *     └─ [hidden: dense, relu] ─ [g: dense, identity] ─ residual (Add) ─ [normalised: L2]</pre>
 *
 * ({@code hidden} for the MLP only, {@code normalised} with {@link AdapterSpec#normalise()} only; the last vertex is
 * the output). There is no output layer: {@link MarginMse} computes the loss and its gradient with respect to f and
 * hands that to DL4J's external-error backprop.
 *
 * <p>Workspaces are off for training and inference. The training step needs the layers' inputs kept between the
 * forward pass and {@code backpropGradient}; with workspaces on, DL4J would place them in a workspace that is closed
 * when the forward pass returns. A graph read from bytes gets the same setting.
 *
 * <p>An adapter is not thread-safe: the graph holds the activations of the pass in progress.
 */
public final class Adapter {

  static final String INPUT = "e";
  static final String HIDDEN = "hidden";
  static final String G = "g";
  static final String RESIDUAL = "residual";
  static final String NORMALISED = "normalised";

  private final AdapterSpec spec;
  private final int dim;
  private final ComputationGraph graph;
  private boolean[] decayMask;
  // DOUBLE, 1 x P: where parameters and gradients pass between Java arrays and the graph (see HostArrays)
  private INDArray stage;

  private Adapter(AdapterSpec spec, int dim, ComputationGraph graph) {
    this.spec = spec;
    this.dim = dim;
    this.graph = graph;
  }

  /** The adapter at its start: f is the identity, or the L2 normalisation. W1 of the MLP comes from {@code seed}. */
  public static Adapter identity(AdapterSpec spec, int dim, DataType type, long seed) {
    if (spec == null) {
      throw new IllegalArgumentException("adapter spec is null");
    }
    if (dim < 1) {
      throw new IllegalArgumentException("adapter needs a dimension >= 1, got " + dim);
    }
    if (spec.kind() == AdapterSpec.Kind.MLP && spec.hidden() < 1) {
      throw new IllegalArgumentException("MLP adapter needs hidden >= 1, got " + spec.hidden());
    }
    if (type == null || !type.isFPType()) {
      throw new IllegalArgumentException("adapter needs a floating-point data type, got " + type);
    }
    ComputationGraph g = new ComputationGraph(configuration(spec, dim, type));
    g.init();
    g.params().assign(0);
    if (spec.kind() == AdapterSpec.Kind.MLP) {
      // He initialisation, N(0, 2/dim), for the ReLU layer; java.util.Random so it is the same on every backend
      Random rng = new Random(seed);
      double std = Math.sqrt(2.0 / dim);
      double[] w = new double[dim * spec.hidden()];
      for (int i = 0; i < w.length; i++) {
        w[i] = rng.nextGaussian() * std;
      }
      g.getParam(HIDDEN + "_W").assign(Nd4j.create(w, new long[] {dim, spec.hidden()}, 'c'));
    }
    return new Adapter(spec, dim, g);
  }

  /**
   * An adapter saved by {@link #toBytes()} (a DL4J model zip). Its kind, hidden width, normalisation and dimension
   * are read from the graph, which must have exactly the shape {@link #identity} builds.
   */
  public static Adapter fromBytes(byte[] dl4jZip) {
    if (dl4jZip == null) {
      throw new IllegalArgumentException("adapter bytes are null");
    }
    ComputationGraph g;
    try {
      g = ModelZips.restoreGraph(dl4jZip, "adapter (" + dl4jZip.length + " bytes)");
    } catch (ModelZips.UnsafeModelException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalArgumentException("not a DL4J ComputationGraph model (" + dl4jZip.length + " bytes)", e);
    }
    g.getConfiguration().setTrainingWorkspaceMode(WorkspaceMode.NONE);
    g.getConfiguration().setInferenceWorkspaceMode(WorkspaceMode.NONE);
    return read(g);
  }

  /** The DL4J model zip ({@link ModelSerializer}, without updater state: relabel's AdamW keeps its own). */
  public byte[] toBytes() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      ModelSerializer.writeModel(graph, out, false);
    } catch (IOException e) {
      throw new IllegalStateException("could not write the adapter", e);
    }
    return out.toByteArray();
  }

  public ComputationGraph graph() {
    return graph;
  }

  public AdapterSpec spec() {
    return spec;
  }

  public int dim() {
    return dim;
  }

  public DataType dataType() {
    return graph.params().dataType();
  }

  public int numParams() {
    return (int) graph.numParams();
  }

  /** The graph's flattened parameters (DL4J's order: layer after layer, W column-major, then b). */
  public double[] paramsCopy() {
    double[] p = new double[numParams()];
    copyFlat(graph.params(), p);
    return p;
  }

  /** Sets all parameters from the flat form of {@link #paramsCopy()} (rounded to the graph's type). */
  public void setParams(double[] p) {
    if (p == null || p.length != numParams()) {
      throw new IllegalArgumentException("adapter has " + numParams() + " parameters, got "
          + (p == null ? "null" : String.valueOf(p.length)));
    }
    HostArrays.put(stage(), p);
    graph.params().assign(stage);
  }

  /** into := a flat 1 x P array of the graph's (its parameters or their gradient), in double precision. */
  void copyFlat(INDArray flat, double[] into) {
    HostArrays.get(stage().assign(flat), into);
  }

  private INDArray stage() {
    if (stage == null) {
      stage = Nd4j.create(DataType.DOUBLE, 1, numParams());
    }
    return stage;
  }

  /**
   * True for entries of weight matrices, false for biases, in the order of {@link #paramsCopy()}: AdamW decays
   * weights only, as sentence-transformers (and so GPL) exclude biases from weight decay.
   */
  public boolean[] decayMask() {
    if (decayMask == null) {
      // Read off the graph itself rather than assumed: mark every weight matrix in a copy of the flat parameters.
      INDArray saved = graph.params().dup();
      try {
        graph.params().assign(0);
        for (Map.Entry<String, INDArray> e : graph.paramTable().entrySet()) {
          if (e.getKey().endsWith("_W")) {
            e.getValue().assign(1);
          }
        }
        double[] marks = graph.params().toDoubleVector();
        boolean[] mask = new boolean[marks.length];
        for (int i = 0; i < marks.length; i++) {
          mask[i] = marks[i] == 1.0;
        }
        decayMask = mask;
      } finally {
        graph.params().assign(saved);
      }
    }
    return decayMask.clone();
  }

  /** f of every row of {@code x} (rows x dim). */
  public float[][] apply(float[][] x) {
    if (x.length == 0) {
      return new float[0][];
    }
    return output(Nd4j.createFromArray(x)).toFloatMatrix();
  }

  /** f of every row of {@code x} (rows x dim), in the graph's data type, at inference (no state kept). */
  public INDArray output(INDArray x) {
    return graph.outputSingle(false, checkInput(x));
  }

  /** {@code x} as the graph takes it: a rows x dim matrix of the graph's data type. */
  INDArray checkInput(INDArray x) {
    if (x.rank() != 2 || x.columns() != dim) {
      throw new IllegalArgumentException("adapter takes rows of " + dim + " values, got shape "
          + Arrays.toString(x.shape()));
    }
    return x.dataType() == dataType() ? x : x.castTo(dataType());
  }

  /** The name of the vertex whose activations are f. */
  String outputName() {
    return graph.getConfiguration().getNetworkOutputs().get(0);
  }

  private static ComputationGraphConfiguration configuration(AdapterSpec spec, int dim, DataType type) {
    ComputationGraphConfiguration.GraphBuilder b = new NeuralNetConfiguration.Builder().seed(0).dataType(type)
        .trainingWorkspaceMode(WorkspaceMode.NONE).inferenceWorkspaceMode(WorkspaceMode.NONE)
        .graphBuilder().addInputs(INPUT);
    if (spec.kind() == AdapterSpec.Kind.MLP) {
      b.addLayer(HIDDEN, dense(dim, spec.hidden(), Activation.RELU), INPUT)
          .addLayer(G, dense(spec.hidden(), dim, Activation.IDENTITY), HIDDEN);
    } else {
      b.addLayer(G, dense(dim, dim, Activation.IDENTITY), INPUT);
    }
    b.addVertex(RESIDUAL, new ElementWiseVertex(ElementWiseVertex.Op.Add), INPUT, G);
    if (spec.normalise()) {
      b.addVertex(NORMALISED, new L2NormalizeVertex(), RESIDUAL);
    }
    return b.setOutputs(spec.normalise() ? NORMALISED : RESIDUAL).build();
  }

  // Every parameter is overwritten by identity(); the initialiser only matters to whoever trains the graph with DL4J.
  private static DenseLayer dense(int in, int out, Activation activation) {
    return new DenseLayer.Builder().nIn(in).nOut(out).activation(activation).weightInit(WeightInit.ZERO)
        .hasBias(true).build();
  }

  /** Reads the spec off a loaded graph and checks that the graph is exactly the one {@link #identity} builds. */
  private static Adapter read(ComputationGraph g) {
    ComputationGraphConfiguration c = g.getConfiguration();
    Map<String, GraphVertex> vertices = c.getVertices();
    DenseLayer out = denseLayer(vertices, G);
    DenseLayer hidden = vertices.containsKey(HIDDEN) ? denseLayer(vertices, HIDDEN) : null;
    boolean normalise = vertices.containsKey(NORMALISED);
    int dim = (int) out.getNOut();
    AdapterSpec spec = hidden == null ? new AdapterSpec(AdapterSpec.Kind.LINEAR, 0, normalise)
        : new AdapterSpec(AdapterSpec.Kind.MLP, (int) hidden.getNOut(), normalise);
    ComputationGraphConfiguration expected = configuration(spec, dim, DataType.FLOAT);
    require(c.getNetworkInputs().equals(expected.getNetworkInputs()), "inputs " + c.getNetworkInputs() + ", expected "
        + expected.getNetworkInputs());
    require(c.getNetworkOutputs().equals(expected.getNetworkOutputs()), "outputs " + c.getNetworkOutputs()
        + ", expected " + expected.getNetworkOutputs());
    require(c.getVertexInputs().equals(expected.getVertexInputs()), "edges " + c.getVertexInputs() + ", expected "
        + expected.getVertexInputs());
    for (Map.Entry<String, GraphVertex> e : expected.getVertices().entrySet()) {
      GraphVertex have = vertices.get(e.getKey());
      require(have.getClass() == e.getValue().getClass(), "vertex " + e.getKey() + " is a "
          + have.getClass().getSimpleName() + ", expected " + e.getValue().getClass().getSimpleName());
      if (have instanceof LayerVertex) {
        DenseLayer h = denseLayer(vertices, e.getKey());
        DenseLayer x = denseLayer(expected.getVertices(), e.getKey());
        require(h.getNIn() == x.getNIn() && h.getNOut() == x.getNOut() && h.hasBias(),
            "layer " + e.getKey() + " is " + h.getNIn() + " -> " + h.getNOut() + (h.hasBias() ? "" : " without bias")
                + ", expected " + x.getNIn() + " -> " + x.getNOut() + " with bias");
        require(sameActivation(h.getActivationFn(), x.getActivationFn()), "layer " + e.getKey() + " has activation "
            + h.getActivationFn() + ", expected " + x.getActivationFn());
      } else {
        // the Add and the L2 normalisation: their settings (op; dimension and eps) must be the ones built here
        require(have.equals(e.getValue()), "vertex " + e.getKey() + " is " + have + ", expected " + e.getValue());
      }
    }
    return new Adapter(spec, dim, g);
  }

  private static DenseLayer denseLayer(Map<String, GraphVertex> vertices, String name) {
    GraphVertex v = vertices.get(name);
    require(v instanceof LayerVertex, "no dense layer \"" + name + "\"");
    Layer l = ((LayerVertex) v).getLayerConf().getLayer();
    require(l instanceof DenseLayer, "layer \"" + name + "\" is a " + l.getClass().getSimpleName()
        + ", expected DenseLayer");
    return (DenseLayer) l;
  }

  private static boolean sameActivation(IActivation a, IActivation b) {
    return a.getClass() == b.getClass();
  }

  private static void require(boolean ok, String what) {
    if (!ok) {
      throw new IllegalArgumentException("not an adapter graph: " + what);
    }
  }
}
