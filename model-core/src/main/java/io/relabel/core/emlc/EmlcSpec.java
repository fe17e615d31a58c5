package io.relabel.core.emlc;

import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import java.io.Serializable;
import java.util.Locale;

/** The teacher stage's settings ({@code relabel.emlc.*}), read and validated once. */
public record EmlcSpec(Mode mode, int studentHidden, int teacherWidth, int teacherLayers, int labelEmbedding,
    int gateHidden, int lookahead, int batchSize, int trustedBatch, int epochs, double studentLearningRate,
    double teacherLearningRate, double momentum, double weightDecay, double metaWeight, boolean retain,
    MetaGradient.Mode metaGradient, int averagingFrequency, double validationShare, int maxTrusted,
    String checkpointDir, int warmUpEpochs) implements Serializable {

  /** {@code relabel.emlc.mode}. */
  public enum Mode {
    OFF,
    EMLC,
    MLC
  }

  public static EmlcSpec from(Settings s) {
    return new EmlcSpec(Mode.valueOf(s.get(RelabelParams.EMLC_MODE).toUpperCase(Locale.ROOT)),
        s.get(RelabelParams.EMLC_STUDENT).equals("linear") ? 0 : s.get(RelabelParams.EMLC_STUDENT_HIDDEN),
        s.get(RelabelParams.EMLC_TEACHER_WIDTH), s.get(RelabelParams.EMLC_TEACHER_LAYERS),
        s.get(RelabelParams.EMLC_LABEL_EMBEDDING), s.get(RelabelParams.EMLC_GATE_HIDDEN),
        s.get(RelabelParams.EMLC_LOOKAHEAD), s.get(RelabelParams.EMLC_BATCH), s.get(RelabelParams.EMLC_TRUSTED_BATCH),
        s.get(RelabelParams.EMLC_EPOCHS), s.get(RelabelParams.EMLC_STUDENT_LR), s.get(RelabelParams.EMLC_TEACHER_LR),
        s.get(RelabelParams.EMLC_MOMENTUM), s.get(RelabelParams.EMLC_WEIGHT_DECAY),
        s.get(RelabelParams.EMLC_META_WEIGHT), s.get(RelabelParams.EMLC_RETAIN),
        MetaGradient.Mode.valueOf(s.get(RelabelParams.EMLC_META_GRADIENT).toUpperCase(Locale.ROOT)),
        s.get(RelabelParams.EMLC_AVERAGING), s.get(RelabelParams.EMLC_VALIDATION_SHARE),
        s.get(RelabelParams.EMLC_MAX_TRUSTED), s.get(RelabelParams.EMLC_CHECKPOINT_DIR),
        s.get(RelabelParams.EMLC_WARM_UP_EPOCHS));
  }

  public boolean enabled() {
    return mode != Mode.OFF;
  }

  /** Teacher warm-up passes before the meta-steps: EMLC's teacher has them, MLC's (on the student's features) none. */
  public int warmUpPasses() {
    return mode == Mode.EMLC ? warmUpEpochs : 0;
  }

  /** Student steps per teacher step: K for EMLC, one (the virtual step) for MLC. */
  public int stepsPerGroup() {
    return mode == Mode.MLC ? 1 : lookahead;
  }

  public Student student(int inputs, int classes) {
    return new Student(inputs, classes, studentHidden);
  }

  public Teacher teacher(int inputs, int classes) {
    if (mode == Mode.MLC) {
      return new MlcTeacher(student(inputs, classes).featureWidth(), classes, labelEmbedding, teacherWidth);
    }
    return new EmlcTeacher(inputs, classes, teacherWidth, teacherLayers, labelEmbedding, gateHidden);
  }

  public Sgd studentSgd() {
    return new Sgd(studentLearningRate, momentum, weightDecay);
  }

  public Sgd teacherSgd() {
    return new Sgd(teacherLearningRate, momentum, weightDecay);
  }
}
