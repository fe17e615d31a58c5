package io.relabel.core.model;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A trained image network in a form that travels, like {@link MlpModel}: the configuration as JSON, the flat
 * parameter vector and the {@link CnnSpec} that says how raw pixels enter it. It yields the penultimate layer's
 * activations (the embedding) and class probabilities.
 *
 * <p>Unlike {@code MlpModel}, one instance may be shared by every task of an executor (the encoder caches it per JVM),
 * so it is thread-safe: a DL4J network keeps per-call state and must not run two batches at once, so each caller
 * borrows a network from a small pool and returns it. The pool grows to the number of concurrent callers (the
 * executor's cores), each network built once from the stored parameters.
 */
public final class CnnModel implements Serializable {

  private static final long serialVersionUID = 1L;
  /**
   * Rows per forward pass: bounds the convolution activations' memory whatever batch a caller hands in. The split
   * is by position in the call, so the same batch always meets the network in the same passes.
   */
  private static final int CHUNK = 256;

  private final CnnSpec spec;
  private final String configJson;
  private final float[] params;
  private final int nClasses;
  private transient volatile Deque<MultiLayerNetwork> idle;

  public CnnModel(CnnSpec spec, String configJson, float[] params, int nClasses) {
    this.spec = spec;
    this.configJson = configJson;
    this.params = params.clone();
    this.nClasses = nClasses;
  }

  public static CnnModel of(MultiLayerNetwork net, CnnSpec spec, int nClasses) {
    return new CnnModel(spec, net.getLayerWiseConfigurations().toJson(), net.params().toFloatVector(), nClasses);
  }

  public CnnSpec spec() {
    return spec;
  }

  public int nClasses() {
    return nClasses;
  }

  public int embeddingDim() {
    return spec.embeddingDim();
  }

  public float[] params() {
    return params.clone();
  }

  /** First bytes of {@link #toBytes()}: names the format, so other bytes are refused before anything is parsed. */
  private static final String MAGIC = "relabel-cnn-1";

  /**
   * The model as bytes (the spec's fields, the configuration JSON, the parameters, in a plain binary layout), for
   * carriers that ship and hash bytes rather than objects, such as a Spark broadcast. Equal models give equal bytes.
   * Not Java serialisation: reading these bytes builds only a spec, a string and a float array.
   */
  public byte[] toBytes() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeUTF(MAGIC);
      out.writeInt(spec.height());
      out.writeInt(spec.width());
      out.writeInt(spec.depth());
      out.writeInt(spec.convChannels().size());
      for (int c : spec.convChannels()) {
        out.writeInt(c);
      }
      out.writeInt(spec.embeddingDim());
      out.writeInt(spec.maxEpochs());
      out.writeInt(spec.patience());
      out.writeInt(spec.batchSize());
      out.writeDouble(spec.learningRate());
      out.writeDouble(spec.l2());
      out.writeDouble(spec.pixelScale());
      byte[] json = configJson.getBytes(StandardCharsets.UTF_8);
      out.writeInt(json.length);
      out.write(json);
      out.writeInt(params.length);
      for (float p : params) {
        out.writeFloat(p);
      }
      out.writeInt(nClasses);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write a CNN model", e);
    }
    return bytes.toByteArray();
  }

  /** The model {@link #toBytes()} wrote. */
  public static CnnModel fromBytes(byte[] bytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      if (!MAGIC.equals(in.readUTF())) {
        throw new IOException("no " + MAGIC + " header");
      }
      int height = in.readInt();
      int width = in.readInt();
      int depth = in.readInt();
      List<Integer> channels = new ArrayList<>();
      for (int i = bounded(in.readInt(), bytes.length); i > 0; i--) {
        channels.add(in.readInt());
      }
      CnnSpec spec = new CnnSpec(height, width, depth, channels, in.readInt(), in.readInt(), in.readInt(),
          in.readInt(), in.readDouble(), in.readDouble(), in.readDouble());
      byte[] json = new byte[bounded(in.readInt(), bytes.length)];
      in.readFully(json);
      float[] params = new float[bounded(in.readInt(), bytes.length)];
      for (int i = 0; i < params.length; i++) {
        params[i] = in.readFloat();
      }
      return new CnnModel(spec, new String(json, StandardCharsets.UTF_8), params, in.readInt());
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalArgumentException("not the bytes of a CNN model: " + e, e);
    }
  }

  /** A length read from the bytes, refused if it cannot fit in them (no huge allocation from a corrupt header). */
  private static int bounded(int n, int available) throws IOException {
    if (n < 0 || n > available) {
      throw new IOException("length " + n + " out of range");
    }
    return n;
  }

  /**
   * The penultimate (dense ReLU) layer's activations for raw pixel rows, {@code rows.length} by
   * {@link #embeddingDim()}.
   *
   * <p>The same rows in the same order give bit-identical embeddings. A row embedded in another batch may differ in
   * the last bits: OpenBLAS's sgemm kernels sum a row of a product differently depending on its position in the
   * block (measured: rows past the first 16 of a block), so callers that need reproducible output pass the same
   * batches, as the job does by embedding its canonical partitions in order.
   */
  public float[][] embed(float[][] rows) {
    int layer = spec.embeddingLayer();
    return inChunks(rows, embeddingDim(), (net, x) -> {
      List<INDArray> acts = net.feedForwardToLayer(layer, x, false);
      // acts.get(0) is the input itself, so layer i's output sits at i + 1
      return acts.get(layer + 1);
    });
  }

  /** Class probabilities for raw pixel rows, {@code rows.length} by {@link #nClasses()}. */
  public float[][] predictProba(float[][] rows) {
    return inChunks(rows, nClasses, (net, x) -> net.output(x, false));
  }

  private float[][] inChunks(float[][] rows, int width, BiFunction<MultiLayerNetwork, INDArray, INDArray> pass) {
    float[][] out = new float[rows.length][];
    if (rows.length == 0) {
      return out;
    }
    return withNetwork(net -> {
      for (int from = 0; from < rows.length; from += CHUNK) {
        float[][] part = Arrays.copyOfRange(rows, from, Math.min(rows.length, from + CHUNK));
        float[][] y = pass.apply(net, spec.images(part)).toFloatMatrix();
        for (int i = 0; i < y.length; i++) {
          if (y[i].length != width) {
            throw new IllegalStateException("network output of width " + y[i].length + ", expected " + width);
          }
          out[from + i] = y[i];
        }
      }
      return out;
    });
  }

  private <T> T withNetwork(Function<MultiLayerNetwork, T> work) {
    Deque<MultiLayerNetwork> pool = pool();
    MultiLayerNetwork net = pool.pollFirst();
    if (net == null) {
      net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(configJson));
      net.init(Nd4j.createFromArray(params).reshape(1, params.length), true);
    }
    try {
      return work.apply(net);
    } finally {
      pool.offerFirst(net);
    }
  }

  private Deque<MultiLayerNetwork> pool() {
    Deque<MultiLayerNetwork> p = idle;
    if (p == null) {
      synchronized (this) {
        if (idle == null) {
          idle = new ConcurrentLinkedDeque<>();
        }
        p = idle;
      }
    }
    return p;
  }
}
