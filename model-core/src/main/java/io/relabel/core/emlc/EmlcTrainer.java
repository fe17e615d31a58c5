package io.relabel.core.emlc;

import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The epoch loop shared by the single-process trainer and the driver of the distributed one: an epoch is cut into
 * rounds of {@code averagingFrequency} groups; {@link Rounds} runs one round (here on one shard, on Spark on every
 * partition followed by an average); after each epoch the student is scored on the trusted validation rows and the
 * state of the best epoch is kept (model selection, methods.md section 3).
 */
public final class EmlcTrainer {

  private static final Logger LOG = LoggerFactory.getLogger(EmlcTrainer.class);

  /** Runs groups {@code first .. first+count-1} of an epoch from {@code state} and returns the state after them. */
  public interface Rounds {
    double[] run(double[] state, int epoch, int first, int count);
  }

  /** Told after every epoch; a checkpoint writer implements it. */
  public interface Listener {
    void epochDone(Progress progress);
  }

  /** One epoch's figures. */
  public record Epoch(int epoch, double validationAccuracy, double validationLoss, double seconds) {}

  /** Where training stands after an epoch: enough to resume it. */
  public record Progress(int epochsDone, double[] state, double[] best, int bestEpoch, List<Epoch> history) {
    public static Progress start(double[] init) {
      return new Progress(0, init, init, -1, List.of());
    }
  }

  private EmlcTrainer() {}

  /** Trains until {@code spec.epochs()} epochs are done, from {@code from} (a fresh start or a checkpoint). */
  public static Progress fit(MetaTrainer trainer, Progress from, Rounds rounds, int groupsPerEpoch,
      MetaTrainer.Rows validation, Listener listener) {
    EmlcSpec spec = trainer.spec();
    double[] state = from.state();
    double[] best = from.best();
    int bestEpoch = from.bestEpoch();
    List<Epoch> history = new ArrayList<>(from.history());
    double bestAccuracy = bestEpoch < 0 ? Double.NEGATIVE_INFINITY : history.get(bestEpoch).validationAccuracy();
    double bestLoss = bestEpoch < 0 ? Double.POSITIVE_INFINITY : history.get(bestEpoch).validationLoss();
    Progress progress = from;
    if (from.epochsDone() == 0 && from.bestEpoch() < 0) {
      // teacher warm-up passes, numbered below zero; a resumed run has had them already
      int passes = spec.warmUpPasses();
      for (int e = -passes; e < 0; e++) {
        long t0 = System.nanoTime();
        state = pass(rounds, state, e, groupsPerEpoch, spec.averagingFrequency());
        LOG.info("{} teacher warm-up pass {}/{}: {} s", spec.mode(), e + passes + 1, passes,
            String.format("%.2f", (System.nanoTime() - t0) / 1e9));
      }
    }
    for (int e = from.epochsDone(); e < spec.epochs(); e++) {
      long t0 = System.nanoTime();
      state = pass(rounds, state, e, groupsPerEpoch, spec.averagingFrequency());
      double seconds = (System.nanoTime() - t0) / 1e9;
      double[] score = trainer.evaluate(trainer.live(state), validation);
      history.add(new Epoch(e, score[0], score[1], seconds));
      if (score[0] > bestAccuracy || (score[0] == bestAccuracy && score[1] < bestLoss)) {
        bestAccuracy = score[0];
        bestLoss = score[1];
        best = state;
        bestEpoch = e;
      }
      LOG.info("{} epoch {}/{}: trusted-validation accuracy {} (loss {}), {} s{}", spec.mode(), e + 1, spec.epochs(),
          String.format("%.4f", score[0]), String.format("%.4f", score[1]), String.format("%.2f", seconds),
          bestEpoch == e ? " (best so far)" : "");
      progress = new Progress(e + 1, state, best, bestEpoch, List.copyOf(history));
      if (listener != null) {
        listener.epochDone(progress);
      }
    }
    return progress;
  }

  /** One pass over the groups of an epoch, in rounds of {@code averagingFrequency} groups. */
  private static double[] pass(Rounds rounds, double[] state, int epoch, int groups, int averagingFrequency) {
    for (int g = 0; g < groups; g += averagingFrequency) {
      state = rounds.run(state, epoch, g, Math.min(averagingFrequency, groups - g));
    }
    return state;
  }

  /** Rounds on one shard in this JVM: the single-process trainer (partition 0). */
  public static Rounds local(MetaTrainer trainer, MetaTrainer.Rows noisy, MetaTrainer.Rows trusted, long seed) {
    return (state, epoch, first, count) -> {
      MetaTrainer.Live live = trainer.live(state);
      trainer.run(live, noisy, trusted, seed, epoch, 0, first, count);
      return trainer.state(live);
    };
  }

  /** The single-process trainer: every noisy row in one shard, from a fresh start. */
  public static Progress fitLocal(MetaTrainer trainer, MetaTrainer.Rows noisy, MetaTrainer.Rows trusted,
      MetaTrainer.Rows validation, long seed) {
    return fit(trainer, Progress.start(trainer.init(seed)), local(trainer, noisy, trusted, seed),
        trainer.groupsPerEpoch(noisy.size()), validation, null);
  }
}
