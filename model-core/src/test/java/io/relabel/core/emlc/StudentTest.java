package io.relabel.core.emlc;

import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The student's gradient, logit directional derivative and Hessian-vector product against finite differences. */
class StudentTest {

  private static double softLoss(Student s, Params p, INDArray x, INDArray t) {
    INDArray prob = s.forward(p, x).p();
    return -org.nd4j.linalg.ops.transforms.Transforms.log(prob, true).mul(t).sumNumber().doubleValue() / x.rows();
  }

  private static Params randomLike(Random rng, Params p) {
    Params d = p.zerosLike();
    for (int i = 0; i < d.count(); i++) {
      d.get(i).assign(Fd.randn(rng, (int) d.get(i).rows(), (int) d.get(i).columns(), 1.0));
    }
    return d;
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 7})
  void softGradientMatchesFiniteDifferences(int hidden) {
    Random rng = new Random(1);
    Student s = new Student(5, 4, hidden);
    Params p = s.init(3, DataType.DOUBLE);
    INDArray x = Fd.randn(rng, 6, 5, 1.0);
    INDArray t = Fd.simplex(rng, 6, 4);
    Params g = s.softGradient(p, s.forward(p, x), t);
    for (int i = 0; i < p.count(); i++) {
      Fd.assertClose(Fd.gradient(p.get(i), v -> softLoss(s, p, x, t)), g.get(i), 1e-7, "param " + i);
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 7})
  void logitJvpMatchesFiniteDifferences(int hidden) {
    Random rng = new Random(2);
    Student s = new Student(5, 4, hidden);
    Params p = s.init(4, DataType.DOUBLE);
    INDArray x = Fd.randn(rng, 6, 5, 1.0);
    Params d = randomLike(rng, p);
    INDArray rz = s.logitJvp(p, s.forward(p, x), d);
    double h = 1e-6;
    Params up = p.copy().addi(h, d);
    Params down = p.copy().addi(-h, d);
    INDArray fd = logits(s, up, x).sub(logits(s, down, x)).divi(2 * h);
    Fd.assertClose(fd, rz.subColumnVector(rz.mean(true, 1)), 1e-7, "Rz");
  }

  private static INDArray logits(Student s, Params p, INDArray x) {
    // log p differs from z by a per-row constant; compare the centred logits
    INDArray lp = org.nd4j.linalg.ops.transforms.Transforms.log(s.forward(p, x).p(), true);
    return lp.subColumnVector(lp.mean(true, 1));
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 7})
  void hessianVectorProductMatchesFiniteDifferences(int hidden) {
    Random rng = new Random(3);
    Student s = new Student(5, 4, hidden);
    Params p = s.init(5, DataType.DOUBLE);
    INDArray x = Fd.randn(rng, 6, 5, 1.0);
    INDArray t = Fd.simplex(rng, 6, 4);
    Params d = randomLike(rng, p);
    Params hv = s.hvp(p, s.forward(p, x), t, d);
    double h = 1e-6;
    Params up = p.copy().addi(h, d);
    Params down = p.copy().addi(-h, d);
    Params gu = s.softGradient(up, s.forward(up, x), t);
    Params gd = s.softGradient(down, s.forward(down, x), t);
    for (int i = 0; i < p.count(); i++) {
      Fd.assertClose(gu.get(i).sub(gd.get(i)).divi(2 * h), hv.get(i), 1e-6, "HVP param " + i);
    }
  }
}
