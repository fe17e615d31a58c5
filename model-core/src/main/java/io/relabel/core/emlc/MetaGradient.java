package io.relabel.core.emlc;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The meta-gradient of EMLC (Taraday and Baskin, ICCV 2023; methods.md section 3): the derivative of the trusted
 * loss after K real student steps with respect to every soft label those steps used.
 *
 * <p>One SGD step θ' = θ − η∇θ L_s(θ; ỹ), L_s = (1/B)·Σ_i −Σ_c ỹ_ic log p_θ(c|x_i), gives without any Hessian
 *
 * <pre>  ∂L_T(θ')/∂ỹ_ic = (η/B)·⟨g, ∇θ log p_θ(c|x_i)⟩,   g = ∇L_T(θ')</pre>
 *
 * with the Jacobian at the pre-step θ. For K steps with momentum μ and weight decay λ,
 * v_{s+1} = μ·v_s + ∇L_s(θ_s) + λ·θ_s and θ_{s+1} = θ_s − η·v_{s+1}, the exact adjoint runs backwards from
 * α_K = g, β_K = 0:
 *
 * <pre>  β̄ = β_{s+1} − η·α_{s+1}
 *  ∂L_T/∂ỹ_s,ic = −(1/B)·⟨β̄, ∇θ log p_{θ_s}(c|x_i)⟩
 *  α_s = α_{s+1} + (H_s + λ·I)·β̄,   β_s = μ·β̄</pre>
 *
 * where H_s is the Hessian of L_s at θ_s. With μ = λ = 0 this is methods.md's A_s = A_{s+1} − η·HVP_s(A_{s+1}).
 * With K = 1 it is the one-step formula whatever μ and λ are. EMLC's own approximation replaces H_s by the
 * identity and ignores momentum: step s is (η/B)·(1−η)^{K−1−s}·⟨g, ∇θ log p_{θ_s}⟩, exact only for the last step.
 */
public final class MetaGradient {

  /** Exact adjoint (default) or EMLC's (1−η)^k discount. */
  public enum Mode {
    EXACT,
    APPROXIMATE
  }

  /** One look-ahead step as it was taken: the parameters before it, their activations and the soft labels. */
  public record Step(Params theta, Student.Cache cache, INDArray targets) {}

  private MetaGradient() {}

  /**
   * @param g the trusted-loss gradient at the parameters after the last step
   * @return one matrix per step, {@code B x C}: ∂L_T/∂ỹ for that step's rows
   */
  public static List<INDArray> of(Student student, Sgd sgd, List<Step> steps, Params g, Mode mode) {
    int k = steps.size();
    double eta = sgd.learningRate();
    List<INDArray> out = new ArrayList<>(Collections.nCopies(k, (INDArray) null));
    if (mode == Mode.APPROXIMATE) {
      for (int s = k - 1; s >= 0; s--) {
        Step st = steps.get(s);
        int b = st.targets().rows();
        double scale = eta / b * Math.pow(1 - eta, k - 1 - s);
        INDArray v = student.logitJvp(st.theta(), st.cache(), g);
        out.set(s, Nn.logSoftmaxJvp(st.cache().p(), v).muli(scale));
      }
      return out;
    }
    Params alpha = g.copy();
    Params beta = null; // zero
    for (int s = k - 1; s >= 0; s--) {
      Step st = steps.get(s);
      int b = st.targets().rows();
      Params betaBar = alpha.copy().muli(-eta);
      if (beta != null) {
        betaBar.addi(1.0, beta);
      }
      INDArray v = student.logitJvp(st.theta(), st.cache(), betaBar);
      out.set(s, Nn.logSoftmaxJvp(st.cache().p(), v).muli(-1.0 / b));
      if (s > 0) {
        alpha.addi(1.0, student.hvp(st.theta(), st.cache(), st.targets(), betaBar));
        if (sgd.weightDecay() > 0) {
          alpha.addi(sgd.weightDecay(), betaBar);
        }
        beta = betaBar.muli(sgd.momentum());
      }
    }
    return out;
  }
}
