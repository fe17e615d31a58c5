package io.relabel.core.retrieval;

import java.util.Arrays;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * MarginMSE (Hofstätter et al., "Improving Efficient Neural Ranking Models with Cross-Architecture Knowledge
 * Distillation", 2020), GPL's loss: the student's score margin regresses onto the teacher's. For a batch of B
 * base embeddings of queries q, positives p and negatives n and teacher margins m,
 *
 * <pre>  r_b = f(q_b)·f(p_b) − f(q_b)·f(n_b) − m_b
 *  L   = (1/B) Σ_b r_b²</pre>
 *
 * One adapter f encodes all three roles, so its gradient is the sum over the roles. Rather than three passes, the
 * three batches are stacked into one of 3B rows, [q; p; n], and the gradient of L with respect to that batch's
 * output F is written down:
 *
 * <pre>  ∂L/∂f(q_b) =  (2/B)·r_b·(f(p_b) − f(n_b))
 *  ∂L/∂f(p_b) =  (2/B)·r_b·f(q_b)
 *  ∂L/∂f(n_b) = −(2/B)·r_b·f(q_b)</pre>
 *
 * One call of DL4J's external-error backprop with that as the error at the output gives the parameter gradient,
 * summed over the three roles because the rows share the parameters.
 *
 * <p>L and ∂L/∂F are computed on the host in double precision: 3B·dim values, a few microseconds, where a dozen
 * ND4J operations on slices would each allocate.
 */
public final class MarginMse {

  /** L and ∂L/∂θ, the latter in the order of {@link Adapter#paramsCopy()}. */
  public record LossAndGradient(double loss, double[] gradient) {}

  private MarginMse() {}

  /** L at the adapter's current parameters (an inference pass; nothing is kept). */
  public static double loss(Adapter a, INDArray q, INDArray p, INDArray n, INDArray margin) {
    batch(a, q, p, n, margin);
    return of(HostArrays.doubles(a.output(stack(a, q, p, n))), HostArrays.doubles(margin), a.dim(), null);
  }

  public static LossAndGradient lossAndGradient(Adapter a, INDArray q, INDArray p, INDArray n, INDArray margin) {
    batch(a, q, p, n, margin);
    double[] gradient = new double[a.numParams()];
    double loss = lossAndGradient(a, stack(a, q, p, n), HostArrays.doubles(margin), gradient);
    return new LossAndGradient(loss, gradient);
  }

  /**
   * The training step's form: {@code stacked} is [q; p; n] (3B x dim, the graph's type), ∂L/∂θ is written into
   * {@code gradient} (reused by the caller, so no array of the parameters' size is allocated per step), L returned.
   */
  static double lossAndGradient(Adapter a, INDArray stacked, double[] margin, double[] gradient) {
    ComputationGraph g = a.graph();
    try {
      // A training-mode pass that keeps every layer's input for the backward pass. The adapter has no dropout or
      // normalisation layer, so F is the same as at inference.
      INDArray f = g.feedForward(new INDArray[] {stacked}, true, false).get(a.outputName());
      double[] fv = HostArrays.doubles(f);
      double[] dF = new double[fv.length];
      double loss = of(fv, margin, a.dim(), dF);
      INDArray epsilon = Nd4j.create(f.dataType(), f.rows(), f.columns());
      HostArrays.put(epsilon, dF);
      g.backpropGradient(epsilon);
      a.copyFlat(g.getFlattenedGradients(), gradient);
      return loss;
    } finally {
      // drops the inputs and activations of this pass, so nothing stale is read by (or kept alive for) the next
      g.clear();
    }
  }

  /**
   * L of the stacked output F (3B x dim, row-major) and, where {@code dF} is given, ∂L/∂F into it: the formulas of
   * the class comment, triple by triple.
   */
  static double of(double[] f, double[] m, int dim, double[] dF) {
    int b = m.length;
    double sum = 0;
    for (int i = 0; i < b; i++) {
      int q = i * dim;
      int p = (b + i) * dim;
      int n = (2 * b + i) * dim;
      double pos = 0;
      double neg = 0;
      for (int j = 0; j < dim; j++) {
        pos += f[q + j] * f[p + j];
        neg += f[q + j] * f[n + j];
      }
      double r = pos - neg - m[i];
      sum += r * r;
      if (dF != null) {
        double w = 2 * r / b;
        for (int j = 0; j < dim; j++) {
          dF[q + j] = w * (f[p + j] - f[n + j]);
          dF[p + j] = w * f[q + j];
          dF[n + j] = -w * f[q + j];
        }
      }
    }
    return sum / b;
  }

  private static INDArray stack(Adapter a, INDArray q, INDArray p, INDArray n) {
    return Nd4j.concat(0, a.checkInput(q), a.checkInput(p), a.checkInput(n));
  }

  private static void batch(Adapter a, INDArray q, INDArray p, INDArray n, INDArray margin) {
    long b = margin.length();
    for (INDArray x : new INDArray[] {q, p, n}) {
      if (x.rank() != 2 || x.rows() != b || x.columns() != a.dim()) {
        throw new IllegalArgumentException("MarginMSE needs q, p and n of " + b + " x " + a.dim()
            + " (one row per margin), got " + Arrays.toString(q.shape()) + ", " + Arrays.toString(p.shape()) + ", "
            + Arrays.toString(n.shape()));
      }
    }
    if (b < 1) {
      throw new IllegalArgumentException("MarginMSE needs at least one triple");
    }
  }
}
