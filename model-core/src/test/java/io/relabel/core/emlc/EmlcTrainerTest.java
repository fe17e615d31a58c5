package io.relabel.core.emlc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** The single-process trainer on a small seeded problem: Gaussian classes, 60% of the noisy labels wrong. */
class EmlcTrainerTest {

  private static final int D = 8;
  private static final int C = 4;

  /** Rows around one centre per class; {@code noise} of the labels replaced by another class, exactly. */
  private static MetaTrainer.Rows[] problem(int n, double noise, long seed) {
    Random rng = new Random(seed);
    double[][] centres = new double[C][D];
    for (double[] c : centres) {
      for (int j = 0; j < D; j++) {
        c[j] = rng.nextGaussian() * 1.5;
      }
    }
    double[] x = new double[n * D];
    int[] truth = new int[n];
    int[] given = new int[n];
    for (int i = 0; i < n; i++) {
      truth[i] = i % C;
      for (int j = 0; j < D; j++) {
        x[i * D + j] = centres[truth[i]][j] + rng.nextGaussian();
      }
      given[i] = i < noise * n ? (truth[i] + 1 + rng.nextInt(C - 1)) % C : truth[i];
    }
    INDArray m = Nd4j.create(x, new long[] {n, D}, 'c');
    return new MetaTrainer.Rows[] {new MetaTrainer.Rows(m, given), new MetaTrainer.Rows(m, truth)};
  }

  private static EmlcSpec spec(EmlcSpec.Mode mode, int epochs, boolean retain) {
    return new EmlcSpec(mode, 16, 16, 1, 8, 8, 2, 20, 20, epochs, 0.1, 0.1, 0.9, 5e-4, 1.0, retain,
        MetaGradient.Mode.EXACT, 1000, 0.2, 1000, "", 1);
  }

  @ParameterizedTest
  @EnumSource(value = EmlcSpec.Mode.class, names = {"EMLC", "MLC"})
  void trainingLowersTheTrustedLossAndBeatsTheNoisyLabels(EmlcSpec.Mode mode) {
    MetaTrainer.Rows[] noisy = problem(600, 0.6, 1);
    MetaTrainer.Rows trusted = problem(80, 0.0, 1)[1];
    MetaTrainer.Rows validation = problem(200, 0.0, 1)[1];
    MetaTrainer t = new MetaTrainer(spec(mode, 8, false), D, C, DataType.DOUBLE);
    double[] before = t.evaluate(t.live(t.init(3)), validation);
    EmlcTrainer.Progress p = EmlcTrainer.fitLocal(t, noisy[0], trusted, validation, 3);
    double[] after = t.evaluate(t.live(p.best()), validation);
    assertTrue(after[1] < before[1], mode + ": validation loss " + before[1] + " -> " + after[1]);
    assertTrue(after[0] > 0.9, mode + ": validation accuracy " + after[0]);
    assertEquals(8, p.history().size());
  }

  @Test
  void emlcSoftLabelsAreRighterThanTheGivenLabels() {
    MetaTrainer.Rows[] noisy = problem(600, 0.6, 2);
    MetaTrainer.Rows trusted = problem(80, 0.0, 2)[1];
    MetaTrainer.Rows validation = problem(200, 0.0, 2)[1];
    MetaTrainer t = new MetaTrainer(spec(EmlcSpec.Mode.EMLC, 8, true), D, C, DataType.DOUBLE);
    EmlcTrainer.Progress p = EmlcTrainer.fitLocal(t, noisy[0], trusted, validation, 4);
    INDArray soft = t.softLabels(t.live(p.best()), noisy[0].x(), noisy[0].y());
    int right = 0;
    for (int i = 0; i < noisy[0].size(); i++) {
      right += MetaTrainer.argmax(soft, i) == noisy[1].y()[i] ? 1 : 0;
    }
    double accuracy = right / (double) noisy[0].size();
    assertTrue(accuracy > 0.85, "soft-label accuracy " + accuracy + " vs given 0.4");
  }

  @Test
  void anEpochCutIntoRoundsIsTheSameAsOneRun() {
    MetaTrainer.Rows noisy = problem(300, 0.5, 3)[0];
    MetaTrainer.Rows trusted = problem(50, 0.0, 3)[1];
    MetaTrainer t = new MetaTrainer(spec(EmlcSpec.Mode.EMLC, 1, true), D, C, DataType.FLOAT);
    MetaTrainer.Rows noisyF = new MetaTrainer.Rows(noisy.x().castTo(DataType.FLOAT), noisy.y());
    MetaTrainer.Rows trustedF = new MetaTrainer.Rows(trusted.x().castTo(DataType.FLOAT), trusted.y());
    EmlcTrainer.Rounds rounds = EmlcTrainer.local(t, noisyF, trustedF, 9);
    int groups = t.groupsPerEpoch(noisy.size());
    double[] whole = rounds.run(t.init(9), 0, 0, groups);
    double[] cut = t.init(9);
    for (int g = 0; g < groups; g++) {
      cut = rounds.run(cut, 0, g, 1);
    }
    Fd.assertSame(whole, cut);
  }

  @Test
  void theSameSeedGivesTheSameStateAndAnotherSeedAnother() {
    MetaTrainer t = new MetaTrainer(spec(EmlcSpec.Mode.EMLC, 1, false), D, C, DataType.FLOAT);
    Fd.assertSame(t.init(5), t.init(5));
    assertTrue(t.init(5)[0] != t.init(6)[0]);
  }
}
