package io.relabel.core.emlc;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * The teachers' backward passes against finite differences, alone and composed with the student's look-ahead: the
 * teacher gradient of the meta term is the derivative of the trusted loss after the student's real steps.
 */
class TeacherTest {

  private static final int D = 4;
  private static final int C = 3;

  @Test
  void emlcTeacherBackwardMatchesFiniteDifferences() {
    Random rng = new Random(21);
    EmlcTeacher t = new EmlcTeacher(D, C, 6, 2, 5, 4);
    Params p = t.init(7, DataType.DOUBLE);
    INDArray x = Fd.randn(rng, 6, D, 1.0);
    INDArray given = Nn.oneHot(Fd.labels(rng, 6, C), C, DataType.DOUBLE);
    INDArray r1 = Fd.randn(rng, 6, C, 1.0);
    INDArray r2 = Fd.randn(rng, 6, C, 1.0);
    INDArray tau = Nn.oneHot(Fd.labels(rng, 6, 2), 2, DataType.DOUBLE).getColumn(0).reshape(6, 1);
    // L = <r1, ỹ> + <r2, t> + Σ BCE(w, τ); ∂BCE/∂(pre-sigmoid) = w − τ
    EmlcTeacher.Cache c = t.forward(p, x, given);
    Params g = t.backward(p, c, r1, r2, c.gate().sub(tau));
    for (int i = 0; i < p.count(); i++) {
      INDArray fd = Fd.gradient(p.get(i), v -> {
        EmlcTeacher.Cache f = t.forward(p, x, given);
        INDArray w = f.gate();
        double bce = -tau.mul(Transforms.log(w, true)).add(tau.rsub(1.0).mul(Transforms.log(w.rsub(1.0), true)))
            .sumNumber().doubleValue();
        return f.soft().mul(r1).sumNumber().doubleValue() + f.logits().mul(r2).sumNumber().doubleValue() + bce;
      });
      Fd.assertClose(fd, g.get(i), 1e-6, "EMLC teacher param " + i);
    }
  }

  @Test
  void softLabelIsTheGatedMixture() {
    Random rng = new Random(22);
    EmlcTeacher t = new EmlcTeacher(D, C, 6, 1, 5, 4);
    Params p = t.init(8, DataType.DOUBLE);
    INDArray given = Nn.oneHot(new int[] {0, 2}, C, DataType.DOUBLE);
    EmlcTeacher.Cache c = t.forward(p, Fd.randn(rng, 2, D, 1.0), given);
    INDArray expected = given.mulColumnVector(c.gate()).add(c.probs().mulColumnVector(c.gate().rsub(1.0)));
    Fd.assertClose(expected, c.soft(), 1e-14, "ỹ = w·onehot + (1−w)·softmax(t)");
    Fd.assertClose(Nn.rowSum(c.soft()), org.nd4j.linalg.factory.Nd4j.ones(DataType.DOUBLE, 2, 1), 1e-14, "rows sum to 1");
  }

  @Test
  void mlcTeacherBackwardMatchesFiniteDifferences() {
    Random rng = new Random(23);
    MlcTeacher t = new MlcTeacher(D, C, 5, 6);
    Params p = t.init(9, DataType.DOUBLE);
    INDArray f = Fd.randn(rng, 6, D, 1.0);
    INDArray given = Nn.oneHot(Fd.labels(rng, 6, C), C, DataType.DOUBLE);
    INDArray r = Fd.randn(rng, 6, C, 1.0);
    Params g = t.backward(p, t.forward(p, f, given), r);
    for (int i = 0; i < p.count(); i++) {
      Fd.assertClose(Fd.gradient(p.get(i), v -> t.forward(p, f, given).soft().mul(r).sumNumber().doubleValue()),
          g.get(i), 1e-6, "MLC teacher param " + i);
    }
  }

  /** EMLC: K = 2 real steps of an MLP student with momentum; teacher gradient = Σ_s backward(∂L_T/∂ỹ_s). */
  @Test
  void emlcMetaTermReachesTheTeacherExactly() {
    Random rng = new Random(24);
    EmlcTeacher t = new EmlcTeacher(D, C, 6, 1, 5, 4);
    Params phi = t.init(10, DataType.DOUBLE);
    Student s = new Student(D, C, 5);
    Params theta0 = s.init(11, DataType.DOUBLE);
    Sgd sgd = new Sgd(0.3, 0.9, 0.01);
    List<INDArray> xs = List.of(Fd.randn(rng, 5, D, 1.0), Fd.randn(rng, 5, D, 1.0));
    List<INDArray> given = List.of(Nn.oneHot(Fd.labels(rng, 5, C), C, DataType.DOUBLE),
        Nn.oneHot(Fd.labels(rng, 5, C), C, DataType.DOUBLE));
    INDArray xt = Fd.randn(rng, 7, D, 1.0);
    int[] yt = Fd.labels(rng, 7, C);

    List<EmlcTeacher.Cache> tc = new ArrayList<>();
    List<MetaGradient.Step> steps = new ArrayList<>();
    Params theta = theta0.copy();
    Params v = theta0.zerosLike();
    for (int k = 0; k < 2; k++) {
      tc.add(t.forward(phi, xs.get(k), given.get(k)));
      Params before = theta.copy();
      Student.Cache c = s.forward(before, xs.get(k));
      sgd.step(theta, s.softGradient(before, c, tc.get(k).soft()), v);
      steps.add(new MetaGradient.Step(before, c, tc.get(k).soft()));
    }
    List<INDArray> meta = MetaGradient.of(s, sgd, steps, s.hardGradient(theta, s.forward(theta, xt), yt),
        MetaGradient.Mode.EXACT);
    Params g = t.backward(phi, tc.get(0), meta.get(0)).addi(1.0, t.backward(phi, tc.get(1), meta.get(1)));

    for (int i = 0; i < phi.count(); i++) {
      INDArray fd = Fd.gradient(phi.get(i), unused -> {
        Params th = theta0.copy();
        Params vel = theta0.zerosLike();
        for (int k = 0; k < 2; k++) {
          INDArray soft = t.forward(phi, xs.get(k), given.get(k)).soft();
          sgd.step(th, s.softGradient(th, s.forward(th, xs.get(k)), soft), vel);
        }
        return Nn.crossEntropy(s.forward(th, xt).p(), yt);
      });
      Fd.assertClose(fd, g.get(i), 1e-5, "teacher param " + i);
    }
  }

  /** MLC: the teacher reads the student's (detached) hidden features; one virtual step. */
  @Test
  void mlcMetaTermReachesTheTeacherExactly() {
    Random rng = new Random(25);
    Student s = new Student(D, C, 5);
    MlcTeacher t = new MlcTeacher(5, C, 3, 6);
    Params phi = t.init(12, DataType.DOUBLE);
    Params theta0 = s.init(13, DataType.DOUBLE);
    Sgd sgd = new Sgd(0.3, 0.9, 0.01);
    INDArray x = Fd.randn(rng, 5, D, 1.0);
    INDArray given = Nn.oneHot(Fd.labels(rng, 5, C), C, DataType.DOUBLE);
    INDArray xt = Fd.randn(rng, 7, D, 1.0);
    int[] yt = Fd.labels(rng, 7, C);
    Student.Cache c = s.forward(theta0, x);
    INDArray features = c.features().dup();
    MlcTeacher.Cache tc = t.forward(phi, features, given);
    Params th = theta0.copy();
    sgd.step(th, s.softGradient(theta0, c, tc.soft()), theta0.zerosLike());
    INDArray meta = MetaGradient.of(s, sgd, List.of(new MetaGradient.Step(theta0, c, tc.soft())),
        s.hardGradient(th, s.forward(th, xt), yt), MetaGradient.Mode.EXACT).get(0);
    Params g = t.backward(phi, tc, meta);
    for (int i = 0; i < phi.count(); i++) {
      INDArray fd = Fd.gradient(phi.get(i), unused -> {
        Params virtual = theta0.copy();
        sgd.step(virtual, s.softGradient(theta0, c, t.forward(phi, features, given).soft()), theta0.zerosLike());
        return Nn.crossEntropy(s.forward(virtual, xt).p(), yt);
      });
      Fd.assertClose(fd, g.get(i), 1e-5, "MLC teacher param " + i);
    }
  }
}
