package io.relabel.core.hdl;

import io.relabel.core.knn.AdaptiveK;
import io.relabel.core.knn.BlockedKnn;
import io.relabel.core.knn.Votes;
import java.io.Serializable;
import java.util.Arrays;

/**
 * HDL's leaf level (methods.md section 2, steps 4-5; Ma et al., arXiv 2404.17173), run on the executor that holds a
 * leaf. The group it sees is the leaf's own rows (members) plus the rows of its nearest neighbouring leaf (guests),
 * so a row at the border of its leaf still finds the neighbours it has across it. Guests vote but their own
 * decisions belong to their own leaf's task.
 *
 * <p>Fill mode labels rows without a label. A row takes the class its k nearest labeled neighbours agree on: votes
 * weighted by class (inverse frequency on long tails), accepted when the winning share is at least ρ_ℓ. Rounds are
 * dynamic: rows labeled in a round vote in the next, and when a round labels nothing ρ_ℓ is relaxed by a step, down
 * to ρ_min. Rows still undecided then either stay unlabeled or take their weighted-majority label with its (low)
 * agreement as confidence.
 *
 * <p>Noise mode also checks the given labels: each labeled row is voted on by its k nearest other labeled rows
 * (leave-one-out); a row whose neighbours agree (≥ ρ_ℓ) on another class is corrected. Rounds repeat with the
 * corrected labels (all rows updated at once, from the previous round's labels, so the result does not depend on
 * row order); a round that changes nothing relaxes ρ_ℓ by a step, down to ρ_min, as in fill mode. Unlabeled rows
 * are then filled as in fill mode.
 */
public final class LeafLabeler {

  /** What the leaf level decides: fill unlabeled rows only, or also correct given labels. */
  public enum Mode {
    FILL,
    NOISE
  }

  /**
   * @param k             neighbours that vote (fixed, or chosen by {@link AdaptiveK})
   * @param agreement     ρ_ℓ, the winning share a vote needs
   * @param minAgreement  ρ_min, the floor of the relaxation
   * @param relaxStep     how much ρ_ℓ drops after a round that labels nothing
   * @param maxRounds     cap on rounds (each round is one blocked kNN of the undecided rows)
   * @param fillUndecided give rows no round decided their weighted-majority label anyway
   */
  public record Spec(Mode mode, int k, double agreement, double minAgreement, double relaxStep, int maxRounds,
      boolean fillUndecided, int confidenceK) implements Serializable {
    public Spec {
      if (k < 1) {
        throw new IllegalArgumentException("k must be at least 1, got " + k);
      }
      if (confidenceK < 1) {
        throw new IllegalArgumentException("confidenceK must be at least 1, got " + confidenceK);
      }
      if (minAgreement > agreement) {
        throw new IllegalArgumentException("minAgreement " + minAgreement + " exceeds agreement " + agreement);
      }
    }

    /** The old seven-part form: the confidence is read from the k voting neighbours. */
    public Spec(Mode mode, int k, double agreement, double minAgreement, double relaxStep, int maxRounds,
        boolean fillUndecided) {
      this(mode, k, agreement, minAgreement, relaxStep, maxRounds, fillUndecided, k);
    }

    public Spec withK(int newK) {
      return new Spec(mode, newK, agreement, minAgreement, relaxStep, maxRounds, fillUndecided, confidenceK);
    }

    /** Neighbours fetched per query: the k that vote and the (possibly more) that make the confidence. */
    int fetch() {
      return Math.max(k, confidenceK);
    }
  }

  /**
   * Per row of the group: the label (-1 none), its confidence, and the round that decided it: 0 = the given label
   * kept as given (fill mode) or preset by a cluster; r ≥ 1 = decided or confirmed by leaf round r.
   */
  public record Outcome(int[] label, double[] confidence, int[] round) {}

  private LeafLabeler() {}

  /**
   * @param x            L2-normalised rows of the group (members first or mixed)
   * @param given        class index each row may vote with, -1 when it has none (unlabeled or held out)
   * @param preset       label decided for the row by a pure cluster above the leaf, -1 when none
   * @param presetConf   confidence of the preset label
   * @param classWeights vote weight per class (null: all 1)
   */
  public static Outcome label(float[][] x, int[] given, int[] preset, double[] presetConf, double[] classWeights,
      Spec spec) {
    int n = x.length;
    int[] label = new int[n];
    double[] conf = new double[n];
    int[] round = new int[n];
    Arrays.fill(label, -1);
    Arrays.fill(round, -1);
    for (int i = 0; i < n; i++) {
      if (preset[i] >= 0) {
        label[i] = preset[i];
        conf[i] = presetConf[i];
        round[i] = 0;
      } else if (given[i] >= 0) {
        label[i] = given[i];
        conf[i] = 1.0;
        round[i] = 0;
      }
    }
    if (spec.mode() == Mode.NOISE) {
      correct(x, given, preset, classWeights, spec, label, conf, round);
    }
    fill(x, classWeights, spec, label, conf, round);
    return new Outcome(label, conf, round);
  }

  /** Leave-one-out rounds over the labeled rows; a preset (cluster) label is final and only votes. */
  private static void correct(float[][] x, int[] given, int[] preset, double[] w, Spec spec, int[] label,
      double[] conf, int[] round) {
    int n = x.length;
    boolean[] labeled = new boolean[n];
    for (int i = 0; i < n; i++) {
      labeled[i] = label[i] >= 0;
    }
    BlockedKnn.Neighbours nb = BlockedKnn.topK(x, x, labeled, spec.fetch(), true);
    int[] current = label.clone();
    int relaxations = 0;
    for (int r = 1; r <= Math.max(1, spec.maxRounds()); r++) {
      double rho = spec.agreement() - relaxations * spec.relaxStep() - 1e-9;
      int[] next = current.clone();
      boolean changed = false;
      for (int i = 0; i < n; i++) {
        if (!labeled[i] || preset[i] >= 0 || nb.index()[i].length == 0) {
          continue;
        }
        Votes.Result v = Votes.weightedMajority(labelsOf(nb.index()[i], current), spec.k(), w);
        if (v.label() != current[i] && v.agreement() >= rho) {
          next[i] = v.label();
          round[i] = r;
          changed = true;
        }
      }
      current = next;
      if (!changed) {
        // nothing moved at this agreement: relax it (as in fill mode), or stop at the floor
        if (spec.relaxStep() <= 0
            || spec.agreement() - (relaxations + 1) * spec.relaxStep() < spec.minAgreement() - 1e-9) {
          break;
        }
        relaxations++;
      }
    }
    // Confidence of every checked row: the share of its final neighbours' votes that back its final label.
    for (int i = 0; i < n; i++) {
      if (!labeled[i] || preset[i] >= 0) {
        continue;
      }
      label[i] = current[i];
      conf[i] = nb.index()[i].length == 0 ? 0.0
          : share(labelsOf(nb.index()[i], current), spec.confidenceK(), w, current[i]);
      if (current[i] == given[i]) {
        round[i] = 1; // confirmed by the first leave-one-out vote (or changed and changed back)
      }
    }
  }

  /** Dynamic rounds over the rows still without a label. */
  private static void fill(float[][] x, double[] w, Spec spec, int[] label, double[] conf, int[] round) {
    int n = x.length;
    int relaxations = 0;
    int r = 0;
    while (r < spec.maxRounds()) {
      int[] open = openRows(label);
      if (open.length == 0) {
        return;
      }
      boolean[] labeled = new boolean[n];
      boolean any = false;
      for (int i = 0; i < n; i++) {
        labeled[i] = label[i] >= 0;
        any |= labeled[i];
      }
      if (!any) {
        return; // nothing to vote with in this group
      }
      r++;
      BlockedKnn.Neighbours nb = BlockedKnn.topK(rows(x, open), x, labeled, spec.fetch(), false);
      int[] snapshot = label.clone();
      int decided = 0;
      // ρ_ℓ after the relaxations so far; the tolerance keeps 0.8 - 3 × 0.1 from landing just above 0.5
      double rho = spec.agreement() - relaxations * spec.relaxStep() - 1e-9;
      for (int q = 0; q < open.length; q++) {
        int[] voters = labelsOf(nb.index()[q], snapshot);
        Votes.Result v = Votes.weightedMajority(voters, spec.k(), w);
        if (v.label() >= 0 && v.agreement() >= rho) {
          label[open[q]] = v.label();
          conf[open[q]] = share(voters, spec.confidenceK(), w, v.label());
          round[open[q]] = r;
          decided++;
        }
      }
      if (decided == 0) {
        if (spec.relaxStep() <= 0
            || spec.agreement() - (relaxations + 1) * spec.relaxStep() < spec.minAgreement() - 1e-9) {
          break;
        }
        relaxations++;
      }
    }
    if (spec.fillUndecided()) {
      int[] open = openRows(label);
      boolean[] labeled = new boolean[n];
      boolean any = false;
      for (int i = 0; i < n; i++) {
        labeled[i] = label[i] >= 0;
        any |= labeled[i];
      }
      if (open.length == 0 || !any) {
        return;
      }
      BlockedKnn.Neighbours nb = BlockedKnn.topK(rows(x, open), x, labeled, spec.fetch(), false);
      for (int q = 0; q < open.length; q++) {
        int[] voters = labelsOf(nb.index()[q], label);
        Votes.Result v = Votes.weightedMajority(voters, spec.k(), w);
        label[open[q]] = v.label();
        conf[open[q]] = share(voters, spec.confidenceK(), w, v.label());
        round[open[q]] = r + 1;
      }
    }
  }

  /**
   * Adaptive-k statistics of this group (methods.md section 2, step 6): each labeled member row, its labeled
   * neighbours in the group, leave-one-out. Additive over groups, so the driver merges them into δ̂_k.
   */
  public static AdaptiveK.Stats looStats(float[][] x, int[] given, boolean[] member, double[] classWeights,
      int kMax) {
    AdaptiveK.Stats stats = new AdaptiveK.Stats(kMax);
    boolean[] labeled = new boolean[x.length];
    int count = 0;
    for (int i = 0; i < x.length; i++) {
      labeled[i] = given[i] >= 0;
      count += labeled[i] && member[i] ? 1 : 0;
    }
    if (count == 0) {
      return stats;
    }
    int[] rows = new int[count];
    int j = 0;
    for (int i = 0; i < x.length; i++) {
      if (labeled[i] && member[i]) {
        rows[j++] = i;
      }
    }
    // queries are a subset of the candidates: exclude each query's own row by masking it per query
    BlockedKnn.Neighbours nb = BlockedKnn.topK(rows(x, rows), x, labeled, kMax + 1, false);
    for (int q = 0; q < rows.length; q++) {
      int[] idx = nb.index()[q];
      int[] labels = new int[Math.min(kMax, idx.length)];
      int m = 0;
      for (int t = 0; t < idx.length && m < labels.length; t++) {
        if (idx[t] != rows[q]) {
          labels[m++] = given[idx[t]];
        }
      }
      stats.add(given[rows[q]], Arrays.copyOf(labels, m), classWeights);
    }
    return stats;
  }

  private static int[] openRows(int[] label) {
    int c = 0;
    for (int l : label) {
      c += l < 0 ? 1 : 0;
    }
    int[] open = new int[c];
    int j = 0;
    for (int i = 0; i < label.length; i++) {
      if (label[i] < 0) {
        open[j++] = i;
      }
    }
    return open;
  }

  private static float[][] rows(float[][] x, int[] idx) {
    float[][] out = new float[idx.length][];
    for (int i = 0; i < idx.length; i++) {
      out[i] = x[idx[i]];
    }
    return out;
  }

  private static int[] labelsOf(int[] idx, int[] labels) {
    int[] out = new int[idx.length];
    for (int i = 0; i < idx.length; i++) {
      out[i] = labels[idx[i]];
    }
    return out;
  }

  private static double share(int[] labels, int k, double[] w, int cls) {
    double total = 0;
    double mine = 0;
    for (int i = 0; i < Math.min(k, labels.length); i++) {
      double v = w == null ? 1.0 : w[labels[i]];
      total += v;
      if (labels[i] == cls) {
        mine += v;
      }
    }
    return total == 0 ? 0 : mine / total;
  }
}
