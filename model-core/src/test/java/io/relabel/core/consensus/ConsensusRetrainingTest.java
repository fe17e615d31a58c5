package io.relabel.core.consensus;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.core.consensus.ConsensusRetraining.Predict;
import io.relabel.core.consensus.ConsensusRetraining.Retrain;
import org.junit.jupiter.api.Test;

class ConsensusRetrainingTest {

  private final ConsensusRetraining consensus = new ConsensusRetraining(Predict.OUT_OF_FOLD, 5, Retrain.CONSENSUS);
  private final ConsensusRetraining full = new ConsensusRetraining(Predict.OUT_OF_FOLD, 5, Retrain.FULL);

  @Test
  void consensusKeepsOnlyAgreeingRowsWithTheirGivenLabel() {
    assertEquals(3, consensus.retrainLabel(3, 3, false));
    assertEquals(-1, consensus.retrainLabel(3, 4, false));
  }

  @Test
  void fullRetrainingUsesThePredictedLabel() {
    assertEquals(4, full.retrainLabel(3, 4, false));
    assertEquals(3, full.retrainLabel(3, 3, false));
  }

  @Test
  void trustedRowsAlwaysTrainWithTheirOwnLabel() {
    assertEquals(3, consensus.retrainLabel(3, 4, true));
    assertEquals(3, full.retrainLabel(3, 4, true));
  }

  @Test
  void foldsAreDeterministicBalancedAndInRange() {
    int[] sizes = new int[5];
    for (long id = 0; id < 10_000; id++) {
      int f = consensus.foldOf(42, id);
      assertEquals(f, consensus.foldOf(42, id));
      sizes[f]++;
    }
    for (int s : sizes) {
      assertTrue(Math.abs(s - 2000) < 200, java.util.Arrays.toString(sizes));
    }
  }
}
