package io.relabel.core.model;

import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The image encoder's network: one stage per entry of {@code convChannels} (3x3 convolution with "same" padding,
 * ReLU, 2x2 max pooling), then a dense ReLU layer of {@code embeddingDim} units whose activations are the embedding,
 * then a softmax output trained with cross-entropy and Adam.
 *
 * <p>Why this shape: "same" 3x3 convolutions keep the layer sizes a function of the image size alone, so the same
 * recipe serves 8x8 test images and 28x28 Fashion-MNIST (a 5x5 "valid" LeNet would not fit 8x8). The default
 * channels (8, 16) are set by time: the generic ND4J CPU build is slow at convolutions, and with them an epoch over
 * 59,000 28x28 images took about 24 s on the project's two cores (parameter-averaged, as the job trains it), while
 * 16, 32 cost 1.8 times as much per image in a one-thread comparison and learned no better in its first two epochs.
 * The network is only as large as an embedding needs: it is trained on noisy labels, and a larger one memorises them
 * sooner; early stopping on a hold-out (done by the trainer) does the rest.
 *
 * @param height       image height in pixels
 * @param width        image width in pixels
 * @param depth        channels per pixel (1 grey, 3 colour)
 * @param convChannels output channels of each convolution stage
 * @param embeddingDim width of the penultimate (embedding) layer
 * @param maxEpochs    most passes over the training rows
 * @param patience     epochs without a better hold-out accuracy before training stops
 * @param batchSize    minibatch size per worker
 * @param learningRate Adam learning rate
 * @param l2           L2 weight decay
 * @param pixelScale   raw pixel values are divided by this
 */
public record CnnSpec(int height, int width, int depth, List<Integer> convChannels, int embeddingDim, int maxEpochs,
    int patience, int batchSize, double learningRate, double l2, double pixelScale) implements Serializable {

  public CnnSpec {
    convChannels = List.copyOf(convChannels);
    if (!(pixelScale > 0) || Double.isInfinite(pixelScale)) {
      throw new IllegalArgumentException("pixel scale must be a positive number: " + pixelScale);
    }
    if (height < 1 || width < 1 || depth < 1 || convChannels.isEmpty()) {
      throw new IllegalArgumentException("image shape " + height + "x" + width + "x" + depth + " and "
          + convChannels.size() + " convolution stages: all must be positive");
    }
    int side = 1 << convChannels.size();
    if (height < side || width < side) {
      throw new IllegalArgumentException("a " + height + "x" + width + " image is too small for "
          + convChannels.size() + " convolution stages (" + RelabelParams.CNN_CHANNELS.key()
          + "): each halves it, so both sides must be at least " + side);
    }
  }

  /**
   * The spec the settings describe.
   *
   * @param maxPixel the largest raw pixel value among the training rows; decides the pixel scale when
   *                 {@code relabel.embed.cnn.pixelScale} is 0 (see {@link #pixelScaleFor})
   */
  public static CnnSpec from(Settings s, double maxPixel) {
    int[] shape = imageShape(s);
    List<Integer> channels = new ArrayList<>();
    for (int c : parseInts(s.get(RelabelParams.CNN_CHANNELS), ",")) {
      channels.add(c);
    }
    return new CnnSpec(shape[0], shape[1], shape[2], channels, s.get(RelabelParams.CNN_EMBEDDING_DIM),
        s.get(RelabelParams.CNN_MAX_EPOCHS), s.get(RelabelParams.CNN_PATIENCE), s.get(RelabelParams.CNN_BATCH),
        s.get(RelabelParams.CNN_LR), s.get(RelabelParams.CNN_L2),
        pixelScaleFor(s.get(RelabelParams.CNN_PIXEL_SCALE), maxPixel));
  }

  /**
   * The divisor that brings pixels into [0, 1]: {@code setting} when it is positive, else decided from the data.
   * Image tables come both ways (8-bit values, or already divided by 255 as relabel's own Fashion-MNIST table),
   * and the wrong choice is silent and costly: dividing [0, 1] pixels by 255 again leaves inputs so small that
   * the network learns several times slower. A largest value of at most 1 means scaled pixels, at most 255 means
   * 8-bit ones; anything larger (16-bit, or unusual ranges) is divided by that largest value.
   */
  public static double pixelScaleFor(double setting, double maxPixel) {
    if (setting > 0) {
      return setting;
    }
    if (maxPixel <= 1) {
      return 1;
    }
    return maxPixel <= 255 ? 255 : maxPixel;
  }

  /** Height, width and channels of the images, as {@code relabel.embed.cnn.imageShape} declares them. */
  public static int[] imageShape(Settings s) {
    return parseInts(s.get(RelabelParams.CNN_IMAGE_SHAPE), "x");
  }

  private static int[] parseInts(String text, String separator) {
    String[] parts = text.split(separator);
    int[] v = new int[parts.length];
    for (int i = 0; i < parts.length; i++) {
      v[i] = Integer.parseInt(parts[i].trim());
    }
    return v;
  }

  /** Pixels per image: the length every features row must have. */
  public int pixels() {
    return height * width * depth;
  }

  /** Index of the embedding layer (the dense layer after the convolution stages) in the network. */
  public int embeddingLayer() {
    return 2 * convChannels.size();
  }

  /** The DL4J configuration for {@code nClasses} outputs; weights drawn from {@code seed}. */
  public MultiLayerConfiguration configuration(int nClasses, long seed) {
    NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder()
        .seed(seed)
        .updater(new Adam(learningRate))
        .l2(l2)
        .weightInit(WeightInit.RELU)
        .convolutionMode(ConvolutionMode.Same)
        .list();
    for (int c : convChannels) {
      list.layer(new ConvolutionLayer.Builder(3, 3).stride(1, 1).nOut(c).activation(Activation.RELU).build());
      list.layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2)
          .build());
    }
    list.layer(new DenseLayer.Builder().nOut(embeddingDim).activation(Activation.RELU).build());
    list.layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
        .nOut(nClasses).activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER).build());
    // Sets every nIn and inserts the reshapes between the convolution and dense layers.
    list.setInputType(InputType.convolutional(height, width, depth));
    return list.build();
  }

  /**
   * Raw pixel rows (each {@link #pixels()} long, row by row, a pixel's channels side by side) as the network's
   * input: a [rows, depth, height, width] array scaled by {@link #pixelScale()}. DL4J's convolutions want the
   * channels first; images are usually stored channels last, so colour images are transposed here.
   */
  public INDArray images(float[][] rows) {
    int n = rows.length;
    int len = pixels();
    float[] flat = new float[n * len];
    float scale = (float) pixelScale;
    for (int i = 0; i < n; i++) {
      float[] r = rows[i];
      if (r.length != len) {
        throw new IllegalArgumentException("an image of " + r.length + " values; "
            + RelabelParams.CNN_IMAGE_SHAPE.key() + " " + height + "x" + width + "x" + depth + " needs " + len);
      }
      for (int j = 0; j < len; j++) {
        flat[i * len + j] = r[j] / scale;
      }
    }
    INDArray hwc = Nd4j.create(flat, new long[] {n, height, width, depth}, 'c');
    return depth == 1 ? hwc.reshape('c', n, 1, height, width) : hwc.permute(0, 3, 1, 2).dup('c');
  }
}
