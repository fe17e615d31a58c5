package io.relabel.core.metrics;

import java.io.Serializable;

/**
 * Counts from which every label-quality figure of a run follows; mergeable, so executors count their partitions and
 * the driver adds the partial counts (no rows travel).
 *
 * <p>"wrong" means given label ≠ true label; "changed" means corrected label ≠ given label.
 */
public final class LabelCounts implements Serializable {

  private static final long serialVersionUID = 1L;

  public long rows;
  public long givenCorrect;
  public long correctedCorrect;
  public long wrong;
  public long changed;
  public long changedAndWrong;
  public long changedToTrue;

  /** Adds one row. */
  public void add(int given, int corrected, int truth) {
    rows++;
    boolean isWrong = given != truth;
    boolean isChanged = corrected != given;
    if (!isWrong) {
      givenCorrect++;
    }
    if (corrected == truth) {
      correctedCorrect++;
    }
    if (isWrong) {
      wrong++;
    }
    if (isChanged) {
      changed++;
      if (isWrong) {
        changedAndWrong++;
      }
      if (corrected == truth) {
        changedToTrue++;
      }
    }
  }

  public LabelCounts merge(LabelCounts o) {
    LabelCounts m = new LabelCounts();
    m.rows = rows + o.rows;
    m.givenCorrect = givenCorrect + o.givenCorrect;
    m.correctedCorrect = correctedCorrect + o.correctedCorrect;
    m.wrong = wrong + o.wrong;
    m.changed = changed + o.changed;
    m.changedAndWrong = changedAndWrong + o.changedAndWrong;
    m.changedToTrue = changedToTrue + o.changedToTrue;
    return m;
  }

  public double givenAccuracy() {
    return ratio(givenCorrect, rows);
  }

  public double correctedAccuracy() {
    return ratio(correctedCorrect, rows);
  }

  /** Share of changed rows whose given label was in fact wrong. */
  public double changePrecision() {
    return ratio(changedAndWrong, changed);
  }

  /** Share of wrong given labels that were changed. */
  public double changeRecall() {
    return ratio(changedAndWrong, wrong);
  }

  /** NaN when the denominator is zero: an undefined figure must not read as a perfect or a failed one. */
  static double ratio(long num, long den) {
    return den == 0 ? Double.NaN : (double) num / den;
  }
}
