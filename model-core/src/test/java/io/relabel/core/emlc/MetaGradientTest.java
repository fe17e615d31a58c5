package io.relabel.core.emlc;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * ∂L_T(θ_K)/∂ỹ_s against central finite differences of the real thing: K SGD steps with momentum and weight decay
 * from a non-zero velocity, then the trusted cross-entropy, all in double precision.
 */
class MetaGradientTest {

  /** A look-ahead problem: student, optimiser, start point, K noisy batches with soft labels, a trusted batch. */
  private static final class Problem {
    final Student student;
    final Sgd sgd;
    final Params theta0;
    final Params velocity0;
    final List<INDArray> xs = new ArrayList<>();
    final List<INDArray> targets = new ArrayList<>();
    final INDArray xt;
    final int[] yt;

    Problem(int hidden, int k, Sgd sgd, long seed) {
      Random rng = new Random(seed);
      student = new Student(4, 3, hidden);
      this.sgd = sgd;
      theta0 = student.init(seed, DataType.DOUBLE);
      velocity0 = theta0.zerosLike();
      for (int i = 0; i < velocity0.count(); i++) {
        velocity0.get(i).assign(Fd.randn(rng, (int) velocity0.get(i).rows(), (int) velocity0.get(i).columns(), 0.1));
      }
      for (int s = 0; s < k; s++) {
        xs.add(Fd.randn(rng, 5, 4, 1.0));
        targets.add(Fd.simplex(rng, 5, 3));
      }
      xt = Fd.randn(rng, 7, 4, 1.0);
      yt = Fd.labels(rng, 7, 3);
    }

    double trustedLossAfterSteps() {
      Params theta = theta0.copy();
      Params v = velocity0.copy();
      for (int s = 0; s < xs.size(); s++) {
        sgd.step(theta, student.softGradient(theta, student.forward(theta, xs.get(s)), targets.get(s)), v);
      }
      return Nn.crossEntropy(student.forward(theta, xt).p(), yt);
    }

    List<INDArray> meta(MetaGradient.Mode mode) {
      Params theta = theta0.copy();
      Params v = velocity0.copy();
      List<MetaGradient.Step> steps = new ArrayList<>();
      for (int s = 0; s < xs.size(); s++) {
        Params before = theta.copy();
        Student.Cache c = student.forward(before, xs.get(s));
        sgd.step(theta, student.softGradient(before, c, targets.get(s)), v);
        steps.add(new MetaGradient.Step(before, c, targets.get(s)));
      }
      Params g = student.hardGradient(theta, student.forward(theta, xt), yt);
      return MetaGradient.of(student, sgd, steps, g, mode);
    }
  }

  @ParameterizedTest(name = "hidden={0} K={1} momentum={2} decay={3}")
  @CsvSource({"0,1,0.0,0.0", "0,1,0.9,0.01", "7,1,0.9,0.01", "0,3,0.0,0.0", "0,3,0.9,0.01", "7,3,0.0,0.0",
      "7,3,0.9,0.01"})
  void exactMetaGradientMatchesFiniteDifferences(int hidden, int k, double momentum, double decay) {
    Problem pr = new Problem(hidden, k, new Sgd(0.3, momentum, decay), 11 + k + hidden);
    List<INDArray> meta = pr.meta(MetaGradient.Mode.EXACT);
    for (int s = 0; s < k; s++) {
      INDArray fd = Fd.gradient(pr.targets.get(s), v -> pr.trustedLossAfterSteps());
      Fd.assertClose(fd, meta.get(s), 1e-6, "step " + s);
    }
  }

  @Test
  void approximationIsExactForOneStepAndOffForEarlierSteps() {
    Problem one = new Problem(0, 1, new Sgd(0.3, 0.0, 0.0), 5);
    Fd.assertClose(one.meta(MetaGradient.Mode.EXACT).get(0), one.meta(MetaGradient.Mode.APPROXIMATE).get(0), 1e-12,
        "K=1");
    Problem three = new Problem(7, 3, new Sgd(0.3, 0.0, 0.0), 6);
    List<INDArray> exact = three.meta(MetaGradient.Mode.EXACT);
    List<INDArray> approx = three.meta(MetaGradient.Mode.APPROXIMATE);
    Fd.assertClose(exact.get(2), approx.get(2), 1e-12, "last step");
    double err = exact.get(0).sub(approx.get(0)).norm2Number().doubleValue() / exact.get(0).norm2Number().doubleValue();
    assertTrue(err > 0.01, "the (1-η)^k discount should be visibly off on the first of three steps, got " + err);
  }
}
