package io.relabel.core.consensus;

import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.core.util.RowSeeds;
import java.io.Serializable;

/**
 * Retraining with predicted hard labels (Das et al., "Retraining with Predicted Hard Labels Provably Increases Model
 * Accuracy", ICML 2025; methods.md section 1).
 *
 * <pre>
 *   f0 = train(x, ŷ)                                 baseline on the given labels
 *   ỹ_i = argmax f0(x_i)                              predicted hard label of every training row
 *   full RT:      f1 = train(x, ỹ)
 *   consensus RT: S = { i : ỹ_i = ŷ_i },  f1 = train(x_S, ŷ_S)
 * </pre>
 *
 * The paper predicts ỹ in-sample, with the very model that was fit to ŷ. relabel's default cross-fits instead: rows
 * are dealt into K folds by a hash of their id and each row's ỹ comes from the model trained on the other K−1 folds,
 * so a memorised wrong label cannot vouch for itself. Trusted rows (verified labels) always train with their own label.
 */
public record ConsensusRetraining(Predict predict, int folds, Retrain retrain) implements Serializable {

  private static final long serialVersionUID = 1L;

  /** Where the predicted hard labels come from. */
  public enum Predict { OUT_OF_FOLD, IN_SAMPLE }

  /** Which rows, with which labels, train the final model. */
  public enum Retrain { CONSENSUS, FULL }

  public static ConsensusRetraining from(Settings s) {
    Predict p = s.get(RelabelParams.CONSENSUS_PREDICT).equals("in-sample") ? Predict.IN_SAMPLE : Predict.OUT_OF_FOLD;
    Retrain r = s.get(RelabelParams.CONSENSUS_RETRAIN).equals("full") ? Retrain.FULL : Retrain.CONSENSUS;
    return new ConsensusRetraining(p, s.get(RelabelParams.CONSENSUS_FOLDS), r);
  }

  /** The same prediction with the other retraining recipe (for comparing the two on one run). */
  public ConsensusRetraining other() {
    return new ConsensusRetraining(predict, folds, retrain == Retrain.CONSENSUS ? Retrain.FULL : Retrain.CONSENSUS);
  }

  /** The fold of a row, a pure function of (seed, id): the same on any cluster layout. */
  public int foldOf(long seed, Object id) {
    return RowSeeds.uniformInt(seed, "consensus.folds", id, 0, folds);
  }

  /**
   * The label a labeled training row is retrained with, or -1 when the row stays out of the retraining set.
   *
   * @param given     index of the given label
   * @param predicted index of the predicted hard label ỹ
   * @param trusted   whether the given label is verified
   */
  public int retrainLabel(int given, int predicted, boolean trusted) {
    if (trusted) {
      return given;
    }
    return switch (retrain) {
      case CONSENSUS -> predicted == given ? given : -1;
      case FULL -> predicted;
    };
  }
}
