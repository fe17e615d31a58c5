package io.relabel.spark.embed;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.relabel.core.config.RelabelParams;
import io.relabel.core.model.ModelZips;
import io.relabel.spark.cli.RelabelException;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import org.apache.spark.sql.SparkSession;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * "dl4j-model": the activations of one layer of the user's own DL4J network (a MultiLayerNetwork or a
 * ComputationGraph saved with {@code ModelSerializer}) as the embedding, e.g. the penultimate layer of a classifier
 * trained elsewhere on the same kind of data.
 *
 * <p>The driver reads the zip through Hadoop's file system (so {@code hdfs://}, {@code s3a://} and local paths all
 * work), restores it once to check the layer and the input shape and to learn the embedding's width, and broadcasts
 * the bytes; each executor restores the network once ({@link ModelCache}). A DL4J network is not safe to call from
 * two threads (it keeps its input and workspaces as fields), so each concurrent task borrows its own copy from a
 * small pool: at most as many copies as the executor runs tasks at once.
 */
public final class Dl4jModelEncoder implements Encoder, ModelIdentity {

  private static final long serialVersionUID = 1L;

  private final ModelBytes model;
  private final int layer;
  private final String layerName;
  private final long[] inputShape;
  private final int inputDim;
  private final int dim;

  private Dl4jModelEncoder(ModelBytes model, int layer, String layerName, long[] inputShape, int inputDim, int dim) {
    this.model = model;
    this.layer = layer;
    this.layerName = layerName;
    this.inputShape = inputShape;
    this.inputDim = inputDim;
    this.dim = dim;
  }

  /**
   * Reads and checks the model on the driver.
   *
   * @param path       {@code relabel.embed.modelPath}
   * @param layerSpec  {@code relabel.embed.modelLayer}: a layer name, a 0-based index, or empty for the layer
   *                   before the last
   * @param shapeSpec  {@code relabel.embed.inputShape}: e.g. {@code 1x28x28}, or empty for flat input
   * @param inputDim   the features' length
   */
  public static Dl4jModelEncoder load(SparkSession spark, String path, String layerSpec, String shapeSpec,
      int inputDim) {
    if (path.isEmpty()) {
      throw new RelabelException(RelabelParams.EMBED_ENCODER.key() + "=dl4j-model needs "
          + RelabelParams.EMBED_MODEL_PATH.key() + " (a DL4J model zip saved with ModelSerializer)");
    }
    byte[] bytes = ModelBytes.readHadoopFile(spark.sparkContext().hadoopConfiguration(), path,
        RelabelParams.EMBED_MODEL_PATH.key());
    Net net = Net.restore(bytes, path);
    List<String> names = net.layerNames();
    int index = resolveLayer(layerSpec, names, path);
    long[] shape = parseShape(shapeSpec, inputDim);
    int dim;
    try {
      dim = (int) net.activations(Nd4j.zeros(DataType.FLOAT, batchShape(shape, 1)), index).length();
    } catch (RuntimeException e) {
      throw new RelabelException("model " + path + " cannot take input of shape " + Arrays.toString(shape)
          + " (" + RelabelParams.EMBED_INPUT_SHAPE.key() + "): " + e.getMessage(), e);
    }
    return new Dl4jModelEncoder(ModelBytes.broadcast(spark, bytes), index, names.get(index), shape, inputDim, dim);
  }

  @Override
  public String name() {
    return "dl4j-model";
  }

  @Override
  public int dim() {
    return dim;
  }

  @Override
  public String modelHash() {
    return model.sha256();
  }

  /** The layer whose activations are the embedding. */
  public String layerName() {
    return layerName;
  }

  @Override
  public float[][] encode(List<Object> values) {
    Pool pool = ModelCache.get("dl4j/" + model.sha256(), () -> new Pool(Net.restore(model.load(), "broadcast")));
    float[] flat = new float[values.size() * inputDim];
    for (int r = 0; r < values.size(); r++) {
      Object v = values.get(r);
      if (!(v instanceof float[] f) || f.length != inputDim) {
        throw new IllegalArgumentException("encoder dl4j-model takes " + inputDim + " numeric features per row, not "
            + (v instanceof float[] f ? f.length + " features" : v == null ? "null" : v.getClass().getSimpleName()));
      }
      System.arraycopy(f, 0, flat, r * inputDim, inputDim);
    }
    INDArray x = Nd4j.create(flat, batchShape(inputShape, values.size()), 'c');
    Net net = pool.borrow();
    try {
      INDArray a = net.activations(x, layer);
      return a.reshape('c', values.size(), dim).castTo(DataType.FLOAT).toFloatMatrix();
    } finally {
      pool.release(net);
    }
  }

  private static int resolveLayer(String spec, List<String> names, String path) {
    if (spec.isEmpty()) {
      return Math.max(0, names.size() - 2);
    }
    int index = names.indexOf(spec);
    if (index < 0 && spec.matches("[0-9]+")) {
      index = Integer.parseInt(spec) < names.size() ? Integer.parseInt(spec) : -1;
    }
    if (index < 0) {
      List<String> listed = new ArrayList<>();
      for (int i = 0; i < names.size(); i++) {
        listed.add(i + " " + names.get(i));
      }
      throw new RelabelException(RelabelParams.EMBED_MODEL_LAYER.key() + " '" + spec + "' is not a layer of "
          + path + "; its layers (index name): " + String.join(", ", listed));
    }
    return index;
  }

  /** {@code 1x28x28} to {1, 28, 28}; empty to {inputDim}. The product must be the features' length. */
  static long[] parseShape(String spec, int inputDim) {
    if (spec.isEmpty()) {
      return new long[] {inputDim};
    }
    long[] shape = Arrays.stream(spec.split("x")).mapToLong(Long::parseLong).toArray();
    long product = Arrays.stream(shape).reduce(1, (a, b) -> a * b);
    if (product != inputDim) {
      throw new RelabelException(RelabelParams.EMBED_INPUT_SHAPE.key() + "=" + spec + " holds " + product
          + " values, but the features have " + inputDim);
    }
    return shape;
  }

  private static long[] batchShape(long[] shape, int rows) {
    long[] s = new long[shape.length + 1];
    s[0] = rows;
    System.arraycopy(shape, 0, s, 1, shape.length);
    return s;
  }

  /** Copies of one network for concurrent tasks; the first is the restored one, the others its clones. */
  private static final class Pool {
    private final Net prototype;
    private final ConcurrentLinkedQueue<Net> idle = new ConcurrentLinkedQueue<>();

    Pool(Net prototype) {
      this.prototype = prototype;
      idle.add(prototype);
    }

    Net borrow() {
      Net n = idle.poll();
      return n != null ? n : prototype.copy();
    }

    void release(Net n) {
      idle.add(n);
    }
  }

  /** The two kinds of DL4J network behind one face. */
  private interface Net {
    List<String> layerNames();

    /** Activations of layer {@code index} for a batch, any rank (the caller flattens them per row). */
    INDArray activations(INDArray x, int index);

    Net copy();

    static Net restore(byte[] bytes, String path) {
      boolean graph = isGraph(bytes, path);
      try {
        if (graph) {
          return new GraphNet(ModelZips.restoreGraph(bytes, path));
        }
        return new ListNet(ModelZips.restoreNetwork(bytes, path));
      } catch (IllegalArgumentException e) {
        throw new RelabelException(e.getMessage(), e);
      } catch (IOException | RuntimeException e) {
        throw new RelabelException("model " + path + " cannot be restored as a DL4J "
            + (graph ? "ComputationGraph" : "MultiLayerNetwork") + ": " + e.getMessage(), e);
      }
    }

    /**
     * ModelSerializer writes a zip whose configuration.json is a ComputationGraphConfiguration (with "vertices")
     * or a MultiLayerConfiguration (with "confs"); reading it first tells which restore to call.
     */
    private static boolean isGraph(byte[] bytes, String path) {
      try (ZipInputStream zip = new ZipInputStream(new ByteArrayInputStream(bytes))) {
        for (ZipEntry e = zip.getNextEntry(); e != null; e = zip.getNextEntry()) {
          if (e.getName().equals(ModelSerializer.CONFIGURATION_JSON)) {
            JsonNode conf = new ObjectMapper().readTree(zip.readAllBytes());
            return conf.has("vertices");
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read model " + path, e);
      }
      throw new RelabelException("model " + path + " is not a DL4J model saved with ModelSerializer (no "
          + ModelSerializer.CONFIGURATION_JSON + " inside)");
    }

    private static List<String> names(Layer[] layers) {
      List<String> out = new ArrayList<>();
      for (int i = 0; i < layers.length; i++) {
        String n = layers[i].conf().getLayer().getLayerName();
        out.add(n == null ? Integer.toString(i) : n);
      }
      return out;
    }
  }

  private record ListNet(MultiLayerNetwork net) implements Net {
    @Override
    public List<String> layerNames() {
      return Net.names(net.getLayers());
    }

    @Override
    public INDArray activations(INDArray x, int index) {
      // element 0 is the input, element i + 1 the output of layer i
      return net.feedForwardToLayer(index, x.castTo(net.params().dataType()), false).get(index + 1);
    }

    @Override
    public Net copy() {
      return new ListNet(net.clone());
    }
  }

  private record GraphNet(ComputationGraph net) implements Net {
    @Override
    public List<String> layerNames() {
      return Net.names(net.getLayers());
    }

    /**
     * Every vertex's activations, then the one asked for. ComputationGraph.output(List, ...) would compute only what
     * the layer needs, but in DL4J 1.0.0-M2.1 it leaves a workspace open on the thread when the layer is not an
     * output, and every later DL4J call on that thread then fails.
     */
    @Override
    public INDArray activations(INDArray x, int index) {
      return net.feedForward(x.castTo(net.params().dataType()), false).get(layerNames().get(index));
    }

    @Override
    public Net copy() {
      return new GraphNet(net.clone());
    }
  }
}
