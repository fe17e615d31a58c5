package io.relabel.core.hdl;

import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import java.io.Serializable;

/** The HDL stage's settings ({@code relabel.hdl.*}), validated once where they are read. */
public record HdlSpec(String mode, int leafSize, int neighbourLeaves, int topClusters, int localRows, int fitRows, int maxIterations,
    double purity, int minSupport, double agreement, double minAgreement, double relaxStep, int rounds, int k,
    int kMax, double tau, boolean fillUndecided, boolean inverseFrequency, int confidenceK) implements Serializable {

  public HdlSpec {
    if (minAgreement > agreement) {
      throw new IllegalArgumentException("relabel.hdl.minAgreement (" + minAgreement
          + ") must not exceed relabel.hdl.agreement (" + agreement + ")");
    }
    if (k > kMax) {
      throw new IllegalArgumentException("relabel.hdl.k (" + k + ") must not exceed relabel.hdl.kMax (" + kMax + ")");
    }
  }

  public static HdlSpec from(Settings s) {
    return new HdlSpec(s.get(RelabelParams.HDL_MODE), s.get(RelabelParams.HDL_LEAF_SIZE),
        s.get(RelabelParams.HDL_NEIGHBOUR_LEAVES),
        s.get(RelabelParams.HDL_TOP_CLUSTERS), s.get(RelabelParams.HDL_LOCAL_ROWS), s.get(RelabelParams.HDL_FIT_ROWS),
        s.get(RelabelParams.HDL_MAX_ITER), s.get(RelabelParams.HDL_PURITY), s.get(RelabelParams.HDL_MIN_SUPPORT),
        s.get(RelabelParams.HDL_AGREEMENT), s.get(RelabelParams.HDL_MIN_AGREEMENT),
        s.get(RelabelParams.HDL_RELAX_STEP), s.get(RelabelParams.HDL_ROUNDS), s.get(RelabelParams.HDL_K),
        s.get(RelabelParams.HDL_K_MAX), s.get(RelabelParams.HDL_TAU), s.get(RelabelParams.HDL_FILL_UNDECIDED),
        s.get(RelabelParams.HDL_WEIGHTING).equals("inverse-frequency"), s.get(RelabelParams.HDL_CONFIDENCE_K));
  }

  public boolean enabled() {
    return !mode.equals("off");
  }

  public LeafLabeler.Mode leafMode() {
    return mode.equals("noise") ? LeafLabeler.Mode.NOISE : LeafLabeler.Mode.FILL;
  }

  /** The leaf-level spec for a chosen k. */
  public LeafLabeler.Spec leafSpec(int chosenK) {
    return new LeafLabeler.Spec(leafMode(), chosenK, agreement, minAgreement, relaxStep, rounds, fillUndecided,
        confidenceK);
  }

  /**
   * Inverse-frequency vote weights from the labeled rows' class counts: w_c = n / (C · n_c), so every class
   * carries the same total weight; a class with no labeled row gets weight 0 (it cannot be voted for anyway).
   */
  public static double[] inverseFrequency(long[] counts) {
    long n = 0;
    int present = 0;
    for (long c : counts) {
      n += c;
      present += c > 0 ? 1 : 0;
    }
    double[] w = new double[counts.length];
    for (int c = 0; c < counts.length; c++) {
      w[c] = counts[c] == 0 ? 0.0 : (double) n / ((double) present * counts[c]);
    }
    return w;
  }
}
