package io.relabel.core.emlc;

import io.relabel.core.util.RowSeeds;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.memory.conf.WorkspaceConfiguration;
import org.nd4j.linalg.api.memory.enums.AllocationPolicy;
import org.nd4j.linalg.api.memory.enums.LearningPolicy;
import org.nd4j.linalg.api.memory.enums.ResetPolicy;
import org.nd4j.linalg.api.memory.enums.SpillPolicy;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The local meta-steps of EMLC (and of the MLC baseline) on one shard of noisy rows with the trusted rows beside it.
 * A run of groups depends only on the state it starts from, the shard, the seed, the epoch, the partition index and
 * the group numbers, so a driver can cut an epoch into rounds, average the states of several shards between rounds,
 * and with one shard and no averaging get exactly what one uninterrupted run gets.
 *
 * <p>EMLC group (methods.md section 3): the teacher makes ỹ for K noisy batches; the student takes K real SGD steps
 * on CE_soft(f(x), stopgrad ỹ); g = ∇L_T at θ_K on a trusted batch; {@link MetaGradient} gives ∂L_T/∂ỹ per row;
 * the teacher steps on metaWeight·(meta term) + CE on the trusted batch (+ the retain BCE).
 *
 * <p>MLC group: the teacher (on the student's detached features) makes ỹ; a virtual student step on a copy; g at the
 * virtual parameters; the one-step meta-gradient updates the teacher; then the updated teacher's ỹ drives the real
 * student step. That second forward and backward of the student is what makes MLC slower per epoch.
 */
public final class MetaTrainer {

  /** Rows as a matrix and their labels: a noisy shard (given labels) or trusted rows (true labels). */
  public record Rows(INDArray x, int[] y) {
    public int size() {
      return y.length;
    }

    Rows select(int[] idx) {
      int[] labels = new int[idx.length];
      for (int i = 0; i < idx.length; i++) {
        labels[i] = y[idx[i]];
      }
      return new Rows(x.getRows(idx), labels);
    }
  }

  /** Both networks and their SGD velocities, in live form. */
  public static final class Live {
    final Params teacher;
    final Params teacherVelocity;
    final Params student;
    final Params studentVelocity;

    Live(Params teacher, Params teacherVelocity, Params student, Params studentVelocity) {
      this.teacher = teacher;
      this.teacherVelocity = teacherVelocity;
      this.student = student;
      this.studentVelocity = studentVelocity;
    }

    /** Both networks and velocities as they were saved (a checkpoint); the arrays are taken as they are. */
    public static Live of(Params teacher, Params teacherVelocity, Params student, Params studentVelocity) {
      return new Live(teacher, teacherVelocity, student, studentVelocity);
    }

    public Params teacher() {
      return teacher;
    }

    public Params teacherVelocity() {
      return teacherVelocity;
    }

    public Params student() {
      return student;
    }

    public Params studentVelocity() {
      return studentVelocity;
    }
  }

  private static final long PERMUTATION = RowSeeds.stageKey("emlc.permutation");
  private static final long TRUSTED = RowSeeds.stageKey("emlc.trusted");
  /** Scratch memory of one group of meta-steps (or one batch scored); see {@link #run}. */
  public static final WorkspaceConfiguration GROUP_WORKSPACE = WorkspaceConfiguration.builder()
      .initialSize(0).overallocationLimit(0.2).policyAllocation(AllocationPolicy.OVERALLOCATE)
      .policyLearning(LearningPolicy.FIRST_LOOP).policyReset(ResetPolicy.BLOCK_LEFT)
      .policySpill(SpillPolicy.REALLOCATE).build();

  private final EmlcSpec spec;
  private final Student student;
  private final Teacher teacher;
  private final Sgd studentSgd;
  private final Sgd teacherSgd;
  private final int classes;
  private final DataType type;
  // shapes and type of the flat state's parts (values unused): live() fills copies of them
  private final Params teacherShape;
  private final Params studentShape;

  public MetaTrainer(EmlcSpec spec, int inputs, int classes, DataType type) {
    if (!spec.enabled()) {
      throw new IllegalArgumentException("relabel.emlc.mode is off");
    }
    this.spec = spec;
    this.student = spec.student(inputs, classes);
    this.teacher = spec.teacher(inputs, classes);
    this.studentSgd = spec.studentSgd();
    this.teacherSgd = spec.teacherSgd();
    this.classes = classes;
    this.type = type;
    this.teacherShape = teacher.init(0, type);
    this.studentShape = student.init(0, type);
  }

  public EmlcSpec spec() {
    return spec;
  }

  public Student student() {
    return student;
  }

  public Teacher teacher() {
    return teacher;
  }

  public DataType dataType() {
    return type;
  }

  /**
   * The starting state, flat: teacher, teacher velocity, student, student velocity. Initial weights come from the
   * seed alone (java.util.Random), so they are the same on every backend.
   */
  public double[] init(long seed) {
    Params t = teacher.init(RowSeeds.mix(seed ^ RowSeeds.stageKey("emlc.teacher")), type);
    Params s = student.init(RowSeeds.mix(seed ^ RowSeeds.stageKey("emlc.student")), type);
    return state(new Live(t, t.zerosLike(), s, s.zerosLike()));
  }

  public int stateLength() {
    return (int) (2 * teacherShape.length() + 2 * studentShape.length());
  }

  public Live live(double[] state) {
    if (state.length != stateLength()) {
      throw new IllegalArgumentException("state of length " + state.length + ", expected " + stateLength());
    }
    int tl = (int) teacherShape.length();
    int sl = (int) studentShape.length();
    return new Live(teacherShape.withValues(state, 0), teacherShape.withValues(state, tl),
        studentShape.withValues(state, 2 * tl), studentShape.withValues(state, 2 * tl + sl));
  }

  public double[] state(Live live) {
    double[] out = new double[stateLength()];
    int at = 0;
    for (Params p : List.of(live.teacher, live.teacherVelocity, live.student, live.studentVelocity)) {
      double[] v = p.flat();
      System.arraycopy(v, 0, out, at, v.length);
      at += v.length;
    }
    return out;
  }

  /** Groups in one epoch over a shard of {@code rows} noisy rows (each group reads K batches of B rows). */
  public int groupsPerEpoch(int rows) {
    int b = Math.min(spec.batchSize(), rows);
    return Math.max(1, (int) Math.ceil(rows / (double) (b * spec.stepsPerGroup())));
  }

  /**
   * Runs groups {@code first .. first+count-1} of {@code epoch} on a shard, in place on {@code live}. Batches walk
   * the shard's seeded permutation of this epoch and wrap around, so every batch holds exactly B rows.
   */
  public void run(Live live, Rows shard, Rows trusted, long seed, int epoch, int partition, int first, int count) {
    int n = shard.size();
    if (n == 0 || trusted.size() == 0) {
      throw new IllegalArgumentException("a meta-step needs noisy and trusted rows; got " + n + " and "
          + trusted.size());
    }
    int b = Math.min(spec.batchSize(), n);
    int[] perm = RowSeeds.permutation(n,
        RowSeeds.mix(RowSeeds.mix(RowSeeds.mix(seed ^ PERMUTATION) + epoch) + partition));
    for (int g = first; g < first + count; g++) {
      // A group makes hundreds of short-lived off-heap arrays. Left to the garbage collector they pile up far beyond
      // the heap (an OOM kill at 24 GB RSS on Fashion-MNIST); in a workspace they reuse one block, freed per group.
      // Only temporaries live there: the networks and velocities are updated in place.
      try (MemoryWorkspace ws = Nd4j.getWorkspaceManager().getAndActivateWorkspace(GROUP_WORKSPACE, "relabel-emlc")) {
        group(live, shard, trusted, perm, b, seed, epoch, partition, g);
      }
    }
  }

  private void group(Live live, Rows shard, Rows trusted, int[] perm, int b, long seed, int epoch, int partition,
      int g) {
    int n = shard.size();
    int k = spec.stepsPerGroup();
    List<Rows> batches = new ArrayList<>(k);
    for (int s = 0; s < k; s++) {
      long start = ((long) g * k + s) * b;
      int[] idx = new int[b];
      for (int j = 0; j < b; j++) {
        idx[j] = perm[(int) ((start + j) % n)];
      }
      batches.add(shard.select(idx));
    }
    long trustedSeed = RowSeeds.mix(RowSeeds.mix(RowSeeds.mix(RowSeeds.mix(seed ^ TRUSTED) + epoch) + partition) + g);
    Rows t = trusted.select(sample(trusted.size(), Math.min(spec.trustedBatch(), trusted.size()), trustedSeed));
    if (epoch < 0) {
      warmUpGroup(live, batches, t);
    } else if (spec.mode() == EmlcSpec.Mode.MLC) {
      mlcGroup(live, batches.get(0), t);
    } else {
      emlcGroup(live, batches, t);
    }
  }

  /**
   * A warm-up group of the EMLC teacher (epochs numbered below zero, see {@link #run}): one teacher step on the CE of
   * its logits against the given labels of the group's K noisy batches and against the true labels of a trusted
   * batch; the gate and the student are left alone. relabel adds it because the meta-steps cannot train the teacher's
   * classifier from a few hundred trusted rows: on Fashion-MNIST embeddings (50% noise) a teacher that starts from
   * them alone stays at the accuracy of a classifier trained on those rows (0.745), its gate learns to override
   * every label with that prediction, and the student learns the teacher's mistakes. The noisy labels' majority is
   * the information the rows carry; this is the teacher's pretraining on them. EMLC only: see
   * {@link EmlcSpec#warmUpPasses()}.
   */
  void warmUpGroup(Live live, List<Rows> noisy, Rows trusted) {
    EmlcTeacher et = (EmlcTeacher) teacher;
    Params grad = trustedGradient(et, live.teacher, trusted);
    for (Rows batch : noisy) {
      INDArray given = Nn.oneHot(batch.y(), classes, type);
      EmlcTeacher.Cache c = et.forward(live.teacher, batch.x(), given);
      INDArray dLogits = c.probs().sub(given).divi(batch.size() * noisy.size());
      grad.addi(1.0, et.backward(live.teacher, c, null, dLogits, null));
    }
    teacherSgd.step(live.teacher, grad, live.teacherVelocity);
  }

  /** One EMLC group: K real student steps, the exact (or approximate) meta-gradient, one teacher step. */
  void emlcGroup(Live live, List<Rows> noisy, Rows trusted) {
    EmlcTeacher et = (EmlcTeacher) teacher;
    List<EmlcTeacher.Cache> teacherCaches = new ArrayList<>(noisy.size());
    List<MetaGradient.Step> steps = new ArrayList<>(noisy.size());
    for (Rows batch : noisy) {
      teacherCaches.add(et.forward(live.teacher, batch.x(), Nn.oneHot(batch.y(), classes, type)));
    }
    for (int s = 0; s < noisy.size(); s++) {
      INDArray targets = teacherCaches.get(s).soft(); // a value: no gradient flows back through the student step
      Params before = live.student.copy();
      Student.Cache c = student.forward(before, noisy.get(s).x());
      studentSgd.step(live.student, student.softGradient(before, c, targets), live.studentVelocity);
      steps.add(new MetaGradient.Step(before, c, targets));
    }
    Student.Cache ct = student.forward(live.student, trusted.x());
    Params g = student.hardGradient(live.student, ct, trusted.y());
    List<INDArray> meta = MetaGradient.of(student, studentSgd, steps, g, spec.metaGradient());

    Params grad = live.teacher.zerosLike();
    for (int s = 0; s < noisy.size(); s++) {
      grad.addi(spec.metaWeight(), et.backward(live.teacher, teacherCaches.get(s), meta.get(s), null, null));
    }
    grad.addi(1.0, trustedGradient(et, live.teacher, trusted));
    teacherSgd.step(live.teacher, grad, live.teacherVelocity);
  }

  /**
   * The teacher's own supervised terms on a trusted batch: CE of its logits t against the true labels, and with
   * {@code retain} the gate's BCE on labels of which every second one is corrupted (to the teacher's top-1 class if
   * that is wrong, else to its top-2), with target 1 exactly where the label shown is the true one.
   */
  Params trustedGradient(EmlcTeacher et, Params p, Rows trusted) {
    int m = trusted.size();
    int[] shown = trusted.y().clone();
    double[] keep = new double[m];
    java.util.Arrays.fill(keep, 1.0);
    if (spec.retain()) {
      INDArray probs = et.predict(p, trusted.x());
      for (int i = 1; i < m; i += 2) {
        int[] top = top2(probs, i);
        shown[i] = top[0] != trusted.y()[i] ? top[0] : top[1];
        keep[i] = 0.0;
      }
    }
    EmlcTeacher.Cache c = et.forward(p, trusted.x(), Nn.oneHot(shown, classes, type));
    INDArray dLogits = c.probs().sub(Nn.oneHot(trusted.y(), classes, type)).divi(m);
    INDArray dGate = null;
    if (spec.retain()) {
      INDArray target = Nd4j.create(keep, new long[] {m, 1}, 'c').castTo(type);
      dGate = c.gate().sub(target).divi(m);
    }
    return et.backward(p, c, null, dLogits, dGate);
  }

  /** One MLC group: virtual step, one-step meta-gradient, teacher step, then the real student step. */
  void mlcGroup(Live live, Rows noisy, Rows trusted) {
    INDArray given = Nn.oneHot(noisy.y(), classes, type);
    Student.Cache c = student.forward(live.student, noisy.x());
    INDArray features = c.features().dup(); // detached: the teacher never moves the student's representation
    Teacher.Cache tc = teacher.forward(live.teacher, features, given);
    Params virtual = live.student.copy();
    Params virtualVelocity = live.studentVelocity.copy();
    studentSgd.step(virtual, student.softGradient(live.student, c, tc.soft()), virtualVelocity);
    Student.Cache ct = student.forward(virtual, trusted.x());
    Params g = student.hardGradient(virtual, ct, trusted.y());
    INDArray meta = MetaGradient.of(student, studentSgd, List.of(new MetaGradient.Step(live.student, c, tc.soft())), g,
        MetaGradient.Mode.EXACT).get(0);
    Params grad = teacher.backward(live.teacher, tc, meta).muli(spec.metaWeight());
    teacherSgd.step(live.teacher, grad, live.teacherVelocity);
    INDArray corrected = teacher.forward(live.teacher, features, given).soft();
    Params before = live.student.copy();
    studentSgd.step(live.student, student.softGradient(before, c, corrected), live.studentVelocity);
  }

  /** Class probabilities of the student. */
  public INDArray studentProba(Live live, INDArray x) {
    return student.forward(live.student, x).p();
  }

  /**
   * The teacher's soft label for rows with a given label; for a row without one ({@code given[i] < 0}) EMLC's teacher
   * gives its own prediction softmax(t) (the soft label with the gate shut) and MLC's, which needs a label, the
   * student's prediction.
   */
  public INDArray softLabels(Live live, INDArray x, int[] given) {
    int[] shown = new int[given.length];
    boolean anyMissing = false;
    for (int i = 0; i < given.length; i++) {
      shown[i] = Math.max(given[i], 0);
      anyMissing |= given[i] < 0;
    }
    INDArray onehot = Nn.oneHot(shown, classes, type);
    INDArray soft;
    INDArray fallback;
    if (teacher instanceof EmlcTeacher et) {
      EmlcTeacher.Cache c = et.forward(live.teacher, x, onehot);
      soft = c.soft();
      fallback = c.probs();
    } else {
      Student.Cache c = student.forward(live.student, x);
      soft = teacher.forward(live.teacher, c.features(), onehot).soft();
      fallback = c.p();
    }
    if (anyMissing) {
      for (int i = 0; i < given.length; i++) {
        if (given[i] < 0) {
          soft.putRow(i, fallback.getRow(i));
        }
      }
    }
    return soft;
  }

  /** Accuracy and mean cross-entropy of the student on labeled rows. */
  public double[] evaluate(Live live, Rows rows) {
    INDArray p = studentProba(live, rows.x());
    int right = 0;
    for (int i = 0; i < rows.size(); i++) {
      right += argmax(p, i) == rows.y()[i] ? 1 : 0;
    }
    return new double[] {(double) right / rows.size(), Nn.crossEntropy(p, rows.y())};
  }

  static int argmax(INDArray p, int row) {
    int best = 0;
    for (int c = 1; c < p.columns(); c++) {
      if (p.getDouble(row, c) > p.getDouble(row, best)) {
        best = c;
      }
    }
    return best;
  }

  private static int[] top2(INDArray p, int row) {
    int first = argmax(p, row);
    int second = first == 0 ? 1 : 0;
    for (int c = 0; c < p.columns(); c++) {
      if (c != first && p.getDouble(row, c) > p.getDouble(row, second)) {
        second = c;
      }
    }
    return new int[] {first, second};
  }

  /** {@code k} distinct indices of {@code n}, by a partial Fisher-Yates shuffle. */
  static int[] sample(int n, int k, long seed) {
    int[] p = new int[n];
    for (int i = 0; i < n; i++) {
      p[i] = i;
    }
    SplittableRandom rng = new SplittableRandom(seed);
    for (int i = 0; i < k; i++) {
      int j = i + rng.nextInt(n - i);
      int t = p[i];
      p[i] = p[j];
      p[j] = t;
    }
    return java.util.Arrays.copyOf(p, k);
  }
}
