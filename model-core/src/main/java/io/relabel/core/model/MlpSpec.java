package io.relabel.core.model;

import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The base classifier of the pipeline: an MLP with ReLU hidden layers and a softmax output trained with cross-entropy
 * and Adam. L2 weight decay matters more than usual here: with 40% wrong labels an unregularised network ends up
 * memorising the noise, and its predicted labels then simply echo the given ones (Zhang et al., ICLR 2017).
 */
public record MlpSpec(int hiddenUnits, int hiddenLayers, int epochs, int batchSize, double learningRate, double l2) {

  public static MlpSpec from(Settings s) {
    return new MlpSpec(s.get(RelabelParams.TRAIN_HIDDEN), s.get(RelabelParams.TRAIN_LAYERS),
        s.get(RelabelParams.TRAIN_EPOCHS), s.get(RelabelParams.TRAIN_BATCH), s.get(RelabelParams.TRAIN_LR),
        s.get(RelabelParams.TRAIN_L2));
  }

  /** The same network and optimiser, trained for {@code n} epochs. */
  public MlpSpec withEpochs(int n) {
    return new MlpSpec(hiddenUnits, hiddenLayers, n, batchSize, learningRate, l2);
  }

  /** The DL4J configuration for {@code nIn} inputs and {@code nClasses} outputs; weights drawn from {@code seed}. */
  public MultiLayerConfiguration configuration(int nIn, int nClasses, long seed) {
    NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder()
        .seed(seed)
        .updater(new Adam(learningRate))
        .l2(l2)
        .weightInit(WeightInit.RELU)
        .list();
    int in = nIn;
    for (int i = 0; i < hiddenLayers; i++) {
      list.layer(new DenseLayer.Builder().nIn(in).nOut(hiddenUnits).activation(Activation.RELU).build());
      in = hiddenUnits;
    }
    list.layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
        .nIn(in).nOut(nClasses).activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build());
    return list.build();
  }
}
