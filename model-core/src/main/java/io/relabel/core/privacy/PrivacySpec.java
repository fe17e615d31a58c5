package io.relabel.core.privacy;

import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import java.io.Serializable;

/**
 * The label-privacy settings ({@code relabel.privacy.*}, methods.md section 1), read and validated once.
 *
 * @param mechanism   which mechanism privatises the labels
 * @param epsilon     the label-DP budget; every row's label is released once, so a run spends epsilon
 * @param stage1Share for {@link Mechanism#LP_2ST}: share of the privatised rows in stage 1
 * @param priorCol    for {@link Mechanism#RR_PRIOR}: the column holding each row's prior; null when not set
 */
public record PrivacySpec(Mechanism mechanism, double epsilon, double stage1Share, String priorCol)
    implements Serializable {

  /** {@code relabel.privacy.mechanism}. */
  public enum Mechanism {
    OFF("off"),
    RR("rr"),
    RR_PRIOR("rr-prior"),
    LP_2ST("lp-2st");

    private final String key;

    Mechanism(String key) {
      this.key = key;
    }

    /** The value as written in the settings. */
    public String key() {
      return key;
    }

    public static Mechanism of(String key) {
      for (Mechanism m : values()) {
        if (m.key.equals(key)) {
          return m;
        }
      }
      throw new IllegalArgumentException("unknown " + RelabelParams.PRIVACY_MECHANISM.key() + " '" + key
          + "'; accepted: off, rr, rr-prior, lp-2st");
    }
  }

  public PrivacySpec {
    if (mechanism == null) {
      throw new IllegalArgumentException(RelabelParams.PRIVACY_MECHANISM.key() + " is not set");
    }
    if (!(epsilon > 0) || Double.isInfinite(epsilon)) {
      throw new IllegalArgumentException(RelabelParams.PRIVACY_EPSILON.key() + " must be a positive, finite number: "
          + epsilon);
    }
    if (!(stage1Share > 0 && stage1Share < 1)) {
      throw new IllegalArgumentException(RelabelParams.PRIVACY_STAGE1_SHARE.key() + " must lie strictly between 0"
          + " and 1: " + stage1Share);
    }
    if (priorCol != null && priorCol.isEmpty()) {
      priorCol = null;
    }
    if (mechanism == Mechanism.RR_PRIOR && priorCol == null) {
      throw new IllegalArgumentException(RelabelParams.PRIVACY_MECHANISM.key() + "=rr-prior reads each row's prior"
          + " from " + RelabelParams.PRIVACY_PRIOR_COL.key() + ", which is empty; name the prior column or choose"
          + " rr or lp-2st");
    }
  }

  public static PrivacySpec from(Settings s) {
    return new PrivacySpec(Mechanism.of(s.get(RelabelParams.PRIVACY_MECHANISM)), s.get(RelabelParams.PRIVACY_EPSILON),
        s.get(RelabelParams.PRIVACY_STAGE1_SHARE), s.get(RelabelParams.PRIVACY_PRIOR_COL));
  }

  public boolean enabled() {
    return mechanism != Mechanism.OFF;
  }
}
