package io.relabel.core.model;

import java.io.Serializable;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A trained classifier in a form that travels: the configuration as JSON and the flat parameter vector. Spark
 * broadcasts it to executors, each of which rebuilds the network once per task and scores rows in batches.
 */
public final class MlpModel implements Serializable {

  private static final long serialVersionUID = 1L;

  private final String configJson;
  private final float[] params;
  private final int nIn;
  private final int nClasses;
  private transient MultiLayerNetwork network;

  public MlpModel(String configJson, float[] params, int nIn, int nClasses) {
    this.configJson = configJson;
    this.params = params;
    this.nIn = nIn;
    this.nClasses = nClasses;
  }

  public static MlpModel of(MultiLayerNetwork net, int nIn, int nClasses) {
    return new MlpModel(net.getLayerWiseConfigurations().toJson(), net.params().toFloatVector(), nIn, nClasses);
  }

  public int nIn() {
    return nIn;
  }

  public int nClasses() {
    return nClasses;
  }

  public float[] params() {
    return params.clone();
  }

  /** The network, built on first use in this JVM. Not thread-safe: use one model copy per task. */
  public synchronized MultiLayerNetwork network() {
    if (network == null) {
      MultiLayerNetwork net = new MultiLayerNetwork(MultiLayerConfiguration.fromJson(configJson));
      net.init(Nd4j.createFromArray(params).reshape(1, params.length), true);
      network = net;
    }
    return network;
  }

  /** Class probabilities for a batch of rows, {@code rows.length} by {@link #nClasses()}. */
  public float[][] predictProba(float[][] rows) {
    if (rows.length == 0) {
      return new float[0][];
    }
    INDArray x = Nd4j.createFromArray(rows);
    INDArray p = network().output(x, false);
    return p.toFloatMatrix();
  }
}
