package io.relabel.core.privacy;

import io.relabel.core.util.RowSeeds;
import java.io.Serializable;
import java.util.Arrays;

/**
 * Label differential privacy by randomized response, one draw per row (methods.md section 1).
 *
 * <ul>
 *   <li>RR_eps (Warner, "Randomized Response: A Survey Technique for Eliminating Evasive Answer Bias", JASA 1965),
 *       over a set Y of k classes that holds the true label y:
 *       <pre>  P(o = y) = e^eps / (e^eps + k - 1),   P(o = c) = 1 / (e^eps + k - 1) for every other c in Y.</pre>
 *       Plain RR is RR_eps over all C classes.</li>
 *   <li>RR-with-prior (Ghazi, Golowich, Kumar, Manurangsi, Zhang, "Deep Learning with Label Differential Privacy",
 *       NeurIPS 2021, Algorithm 2): from a prior p over the C classes that does not depend on the row's label,
 *       <pre>  k* = argmax_k  e^eps / (e^eps + k - 1) * (p_(1) + ... + p_(k))</pre>
 *       with p_(1) &ge; p_(2) &ge; ... the sorted prior (ties by lower class index; on ties of the objective the
 *       smallest k). Y_k holds the top k* classes. If y is in Y_k the output is RR_eps over Y_k, else a uniform
 *       member of Y_k. Since Y_k depends on p only, every pair of labels a, b gives P(o | a) &le; e^eps P(o | b):
 *       an output outside Y_k has probability 0 under both; inside, the ratios are at most
 *       e^eps (RR against RR), (e^eps / (e^eps + k - 1)) / (1 / k) &le; e^eps and
 *       (1 / k) / (1 / (e^eps + k - 1)) &le; e^eps (RR against the uniform fallback).</li>
 * </ul>
 *
 * <p>Every draw is a pure function of (seed, row id) through {@link RowSeeds}: draw 0 decides keep or move, draw 1
 * picks the class moved to. The same seed and rows give the same labels in any partition layout. The guarantee is
 * only as good as the secrecy of the seed: whoever knows the seed and the ids can replay the draws and undo them.
 *
 * <p>A plain final class (not a record) so that it travels safely inside Spark closures.
 */
public final class RandomizedResponse implements Serializable {

  private static final long serialVersionUID = 1L;

  /** The {@link RowSeeds} stage name of the draws. */
  public static final String STAGE = "privacy.rr";

  /** Objectives of two k that agree to this relative tolerance are a tie (the smaller k wins). */
  static final double TIE = 1e-12;

  private final double epsilon;
  private final int classes;
  private final long seed;
  private final int[] all;

  /**
   * @param epsilon the label-DP budget, positive and finite
   * @param classes C, at least 2
   * @param seed    the run seed every draw derives from
   */
  public RandomizedResponse(double epsilon, int classes, long seed) {
    if (!(epsilon > 0) || Double.isInfinite(epsilon)) {
      throw new IllegalArgumentException("epsilon must be a positive, finite number: " + epsilon);
    }
    if (classes < 2) {
      throw new IllegalArgumentException("randomized response needs at least 2 classes, got " + classes);
    }
    this.epsilon = epsilon;
    this.classes = classes;
    this.seed = seed;
    this.all = new int[classes];
    for (int c = 0; c < classes; c++) {
      all[c] = c;
    }
  }

  public double epsilon() {
    return epsilon;
  }

  public int classes() {
    return classes;
  }

  /** e^eps / (e^eps + k - 1): the probability that RR_eps over k classes keeps the label. */
  public static double keepProbability(double epsilon, int k) {
    double e = Math.exp(epsilon);
    return e / (e + k - 1);
  }

  /** RR_eps over all C classes. */
  public int privatise(Object id, int label) {
    checkLabel(label);
    return draw(id, label, all);
  }

  /** RR-with-prior: RR_eps over the top-k* classes of {@code prior} (see the class comment). */
  public int privatise(Object id, int label, double[] prior) {
    checkLabel(label);
    return draw(id, label, support(prior));
  }

  /**
   * One draw over {@code support} (distinct classes): RR_eps over the set when it holds {@code label}, else a
   * uniform member of it. Deterministic in (seed, id).
   */
  public int draw(Object id, int label, int[] support) {
    int k = support.length;
    int at = indexOf(support, label);
    if (at < 0) {
      return support[RowSeeds.uniformInt(seed, STAGE, id, 1, k)];
    }
    if (k == 1 || RowSeeds.uniform(seed, STAGE, id, 0) < keepProbability(epsilon, k)) {
      return label;
    }
    // move: a uniform member of the other k - 1 classes (skip the label's own slot)
    int j = RowSeeds.uniformInt(seed, STAGE, id, 1, k - 1);
    return support[j < at ? j : j + 1];
  }

  /**
   * Y_k of RR-with-prior for this epsilon: the top-k* classes of {@code prior}, most probable first.
   *
   * @throws IllegalArgumentException when the prior is not C non-negative finite numbers with a positive sum
   */
  public int[] support(double[] prior) {
    return support(normalise(prior, classes), epsilon);
  }

  /** Y_k for a normalised prior (see the class comment for k*). */
  static int[] support(double[] p, double epsilon) {
    Integer[] order = new Integer[p.length];
    for (int c = 0; c < p.length; c++) {
      order[c] = c;
    }
    Arrays.sort(order, (a, b) -> p[a] != p[b] ? Double.compare(p[b], p[a]) : Integer.compare(a, b));
    double e = Math.exp(epsilon);
    double mass = 0;
    double best = 0;
    int bestK = 0;
    for (int k = 1; k <= p.length; k++) {
      mass += p[order[k - 1]];
      double objective = e / (e + k - 1) * mass;
      if (bestK == 0 || objective > best * (1 + TIE)) {
        best = objective;
        bestK = k;
      }
    }
    int[] top = new int[bestK];
    for (int i = 0; i < bestK; i++) {
      top[i] = order[i];
    }
    return top;
  }

  /** Exact P(output | label) of plain RR_eps over all C classes. */
  public double probability(int output, int label) {
    checkLabel(label);
    return probability(output, label, all);
  }

  /** Exact P(output | label) of RR-with-prior. */
  public double probability(int output, int label, double[] prior) {
    checkLabel(label);
    return probability(output, label, support(prior));
  }

  private double probability(int output, int label, int[] support) {
    int k = support.length;
    if (indexOf(support, output) < 0) {
      return 0.0;
    }
    if (indexOf(support, label) < 0) {
      return 1.0 / k;
    }
    double e = Math.exp(epsilon);
    return output == label ? e / (e + k - 1) : 1.0 / (e + k - 1);
  }

  /**
   * The prior scaled to sum 1.
   *
   * @throws IllegalArgumentException with {@link #priorProblem}'s message when the prior is unusable
   */
  public static double[] normalise(double[] prior, int classes) {
    Number[] boxed = new Number[prior.length];
    for (int c = 0; c < prior.length; c++) {
      boxed[c] = prior[c];
    }
    String problem = priorProblem(boxed, classes);
    if (problem != null) {
      throw new IllegalArgumentException(problem);
    }
    double sum = 0;
    for (double v : prior) {
      sum += v;
    }
    double[] p = new double[prior.length];
    for (int c = 0; c < p.length; c++) {
      p[c] = prior[c] / sum;
    }
    return p;
  }

  /**
   * What is wrong with a prior, or null when it is usable: {@code classes} entries, none null, NaN, infinite or
   * negative, with a positive finite sum. The first problem found is named with the entries as given (their
   * {@code toString}), e.g. {@code prior [0.5, -0.1, 0.6] has a negative entry -0.1}.
   */
  public static String priorProblem(Number[] prior, int classes) {
    String shown = "prior " + Arrays.toString(prior);
    if (prior.length != classes) {
      return shown + " has " + prior.length + (prior.length == 1 ? " entry" : " entries") + ", expected " + classes
          + " (one per class)";
    }
    double sum = 0;
    for (Number n : prior) {
      if (n == null) {
        return shown + " has a null entry";
      }
      double v = n.doubleValue();
      if (Double.isNaN(v) || Double.isInfinite(v)) {
        return shown + " has a non-finite entry " + n;
      }
      if (v < 0) {
        return shown + " has a negative entry " + n;
      }
      sum += v;
    }
    if (sum == 0) {
      return shown + " has no positive entry";
    }
    if (Double.isInfinite(sum)) {
      return shown + " sums to " + sum;
    }
    return null;
  }

  private void checkLabel(int label) {
    if (label < 0 || label >= classes) {
      throw new IllegalArgumentException("label " + label + " is outside [0, " + classes + ")");
    }
  }

  private static int indexOf(int[] set, int c) {
    for (int i = 0; i < set.length; i++) {
      if (set[i] == c) {
        return i;
      }
    }
    return -1;
  }
}
