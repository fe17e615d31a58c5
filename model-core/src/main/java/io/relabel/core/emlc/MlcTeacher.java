package io.relabel.core.emlc;

import java.util.List;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * MLC's label-correction network (Zheng et al., AAAI 2021), the baseline EMLC improves on: it reads the student's
 * own (detached) features next to an embedding of the given label,
 *
 * <pre>  ỹ = softmax( tanh( tanh([f ; E[ŷ]]·W1 + b1)·W2 + b2 )·W3 + b3 )</pre>
 *
 * so it sees rows only through the student's eyes, and it has no skip link to keep a label as it is.
 *
 * <p>Parameters, in order: E (classes x labelEmbedding); W1, b1; W2, b2; W3, b3.
 */
public final class MlcTeacher implements Teacher {

  public record Cache(INDArray in, INDArray h1, INDArray h2, INDArray soft, INDArray given) implements Teacher.Cache {}

  private final int features;
  private final int classes;
  private final int labelEmbedding;
  private final int hidden;

  public MlcTeacher(int features, int classes, int labelEmbedding, int hidden) {
    if (features < 1 || classes < 2 || labelEmbedding < 1 || hidden < 1) {
      throw new IllegalArgumentException("MLC teacher sizes must be positive (classes >= 2)");
    }
    this.features = features;
    this.classes = classes;
    this.labelEmbedding = labelEmbedding;
    this.hidden = hidden;
  }

  public int features() {
    return features;
  }

  public int classes() {
    return classes;
  }

  public int labelEmbedding() {
    return labelEmbedding;
  }

  public int hidden() {
    return hidden;
  }

  @Override
  public Params init(long seed, DataType type) {
    Random rng = new Random(seed);
    int in = features + labelEmbedding;
    return new Params(List.of(Nn.normal(rng, classes, labelEmbedding, 1.0, type),
        Nn.normal(rng, in, hidden, Math.sqrt(1.0 / in), type), Nn.zeros(1, hidden, type),
        Nn.normal(rng, hidden, hidden, Math.sqrt(1.0 / hidden), type), Nn.zeros(1, hidden, type),
        Nn.normal(rng, hidden, classes, Math.sqrt(1.0 / hidden), type), Nn.zeros(1, classes, type)));
  }

  @Override
  public Cache forward(Params p, INDArray f, INDArray given) {
    INDArray in = Nd4j.hstack(f, given.mmul(p.get(0)));
    INDArray h1 = Nn.tanh(Nn.affine(in, p.get(1), p.get(2)));
    INDArray h2 = Nn.tanh(Nn.affine(h1, p.get(3), p.get(4)));
    return new Cache(in, h1, h2, Nn.softmax(Nn.affine(h2, p.get(5), p.get(6))), given);
  }

  @Override
  public Params backward(Params p, Teacher.Cache cache, INDArray dSoft) {
    Cache c = (Cache) cache;
    INDArray d3 = c.soft().mul(Nn.logSoftmaxJvp(c.soft(), dSoft));
    INDArray d2 = d3.mmul(p.get(5).transpose()).muli(c.h2().mul(c.h2()).rsubi(1.0));
    INDArray d1 = d2.mmul(p.get(3).transpose()).muli(c.h1().mul(c.h1()).rsubi(1.0));
    INDArray din = d1.mmul(p.get(1).transpose());
    INDArray dE = c.given().transpose().mmul(din.get(NDArrayIndex.all(),
        NDArrayIndex.interval(features, features + labelEmbedding)));
    return new Params(List.of(dE, c.in().transpose().mmul(d1), Nn.colSum(d1), c.h1().transpose().mmul(d2),
        Nn.colSum(d2), c.h2().transpose().mmul(d3), Nn.colSum(d3)));
  }
}
