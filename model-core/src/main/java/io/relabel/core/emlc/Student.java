package io.relabel.core.emlc;

import java.util.List;
import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The student on embeddings: a linear softmax head z = x·W + b ({@code hidden = 0}) or a two-layer MLP
 * z = relu(x·W1 + b1)·W2 + b2. Besides forward and backward it offers the two products the meta-gradient needs:
 * the directional derivative of the logits along a parameter direction (for ⟨g, ∇θ log p(c|x)⟩) and the
 * Hessian-vector product of the soft cross-entropy (for the exact K-step adjoint).
 *
 * <p>Matrices follow DL4J's layout (W is inputs x outputs), so a trained student becomes a DL4J network as is.
 */
public final class Student {

  /** Activations of one batch at fixed parameters. */
  public record Cache(INDArray x, INDArray a, INDArray h, INDArray mask, INDArray p) {
    /** What the student represents a row by: its hidden layer, or the input for a linear head. */
    public INDArray features() {
      return h == null ? x : h;
    }
  }

  private final int inputs;
  private final int classes;
  private final int hidden;

  public Student(int inputs, int classes, int hidden) {
    if (inputs < 1 || classes < 2 || hidden < 0) {
      throw new IllegalArgumentException("student needs inputs >= 1, classes >= 2, hidden >= 0; got " + inputs + ", "
          + classes + ", " + hidden);
    }
    this.inputs = inputs;
    this.classes = classes;
    this.hidden = hidden;
  }

  public int inputs() {
    return inputs;
  }

  public int classes() {
    return classes;
  }

  public int hidden() {
    return hidden;
  }

  /** Width of {@link Cache#features()}. */
  public int featureWidth() {
    return hidden == 0 ? inputs : hidden;
  }

  /** He-initialised hidden weights, Xavier output weights, zero biases; drawn from {@code seed} alone. */
  public Params init(long seed, DataType type) {
    Random rng = new Random(seed);
    if (hidden == 0) {
      return new Params(List.of(Nn.normal(rng, inputs, classes, Math.sqrt(1.0 / inputs), type),
          Nn.zeros(1, classes, type)));
    }
    return new Params(List.of(Nn.normal(rng, inputs, hidden, Math.sqrt(2.0 / inputs), type),
        Nn.zeros(1, hidden, type),
        Nn.normal(rng, hidden, classes, Math.sqrt(2.0 / (hidden + classes)), type),
        Nn.zeros(1, classes, type)));
  }

  public Cache forward(Params p, INDArray x) {
    if (hidden == 0) {
      return new Cache(x, null, null, null, Nn.softmax(Nn.affine(x, p.get(0), p.get(1))));
    }
    INDArray a = Nn.affine(x, p.get(0), p.get(1));
    INDArray mask = Nn.reluMask(a);
    INDArray h = a.mul(mask);
    return new Cache(x, a, h, mask, Nn.softmax(Nn.affine(h, p.get(2), p.get(3))));
  }

  /** Gradient of a loss whose gradient with respect to the logits is {@code dz}. */
  public Params backward(Params p, Cache c, INDArray dz) {
    if (hidden == 0) {
      return new Params(List.of(c.x().transpose().mmul(dz), Nn.colSum(dz)));
    }
    INDArray da = dz.mmul(p.get(2).transpose()).muli(c.mask());
    return new Params(List.of(c.x().transpose().mmul(da), Nn.colSum(da), c.h().transpose().mmul(dz),
        Nn.colSum(dz)));
  }

  /**
   * Gradient of the mean soft cross-entropy (1/B)·Σ_i −Σ_c t_ic·log p_ic. Its logit gradient is ((Σ_c t_ic)·p_i − t_i)/B,
   * which is (p − t)/B on the simplex; the general form keeps the derivative with respect to t exact off it too.
   */
  public Params softGradient(Params p, Cache c, INDArray targets) {
    return backward(p, c, c.p().mulColumnVector(Nn.rowSum(targets)).subi(targets).divi(targets.rows()));
  }

  /** Gradient of the mean cross-entropy of hard labels. */
  public Params hardGradient(Params p, Cache c, int[] labels) {
    return softGradient(p, c, Nn.oneHot(labels, classes, c.p().dataType()));
  }

  /** Rz: the change of every logit along parameter direction {@code d} (one row per example). */
  public INDArray logitJvp(Params p, Cache c, Params d) {
    if (hidden == 0) {
      return Nn.affine(c.x(), d.get(0), d.get(1));
    }
    INDArray rh = Nn.affine(c.x(), d.get(0), d.get(1)).muli(c.mask());
    return rh.mmul(p.get(2)).addi(c.h().mmul(d.get(2))).addiRowVector(d.get(3));
  }

  /**
   * Hessian of the mean soft cross-entropy at {@code p} times direction {@code d} (Pearlmutter's R-operator applied
   * to the backward pass). ReLU's second derivative is zero almost everywhere, so only the softmax curvature and,
   * for the MLP, the cross terms between the layers remain.
   */
  public Params hvp(Params p, Cache c, INDArray targets, Params d) {
    int b = targets.rows();
    INDArray rz = logitJvp(p, c, d);
    INDArray rdz = c.p().mul(Nn.logSoftmaxJvp(c.p(), rz)).divi(b);
    if (hidden == 0) {
      return new Params(List.of(c.x().transpose().mmul(rdz), Nn.colSum(rdz)));
    }
    INDArray dz = c.p().sub(targets).divi(b);
    INDArray rh = Nn.affine(c.x(), d.get(0), d.get(1)).muli(c.mask());
    INDArray rda = rdz.mmul(p.get(2).transpose()).addi(dz.mmul(d.get(2).transpose())).muli(c.mask());
    return new Params(List.of(c.x().transpose().mmul(rda), Nn.colSum(rda),
        rh.transpose().mmul(dz).addi(c.h().transpose().mmul(rdz)), Nn.colSum(rdz)));
  }
}
