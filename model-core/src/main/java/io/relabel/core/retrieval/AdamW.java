package io.relabel.core.retrieval;

/**
 * AdamW (Loshchilov and Hutter, "Decoupled Weight Decay Regularization", ICLR 2019) as GPL trains with it: the
 * Hugging Face {@code transformers.AdamW} that sentence-transformers used, with its ε = 1e-6, under
 * sentence-transformers' {@code WarmupLinear} schedule. At step s (from 0), with t = s + 1 and g the gradient:
 *
 * <pre>  η_s = η·s/w                           s &lt; w   (linear warm-up from 0)
 *  η_s = η·max(0, (T − s)/(T − w))       s ≥ w   (linear decay to 0 at T)
 *  m ← β1·m + (1 − β1)·g
 *  v ← β2·v + (1 − β2)·g²
 *  θ ← θ − η_s·(√(1 − β2^t)/(1 − β1^t))·m/(√v + ε)
 *  θ ← θ − η_s·λ·θ                             (weights only; decoupled from the gradient)</pre>
 *
 * The order is Hugging Face's: the bias correction is folded into the step size, so ε is added to √v rather than
 * to the corrected √v̂, and the decay shrinks the parameter after the Adam step. The moments are updated at every
 * step, also at step 0 where η_s = 0, as a framework's scheduler does.
 *
 * <p>The optimiser holds only its settings; the parameters and both moments are the caller's arrays, so that a
 * parameter-averaged trainer can average them like any other part of its state.
 */
public final class AdamW {

  public static final double BETA1 = 0.9;
  public static final double BETA2 = 0.999;
  public static final double EPSILON = 1e-6;

  private final double lr;
  private final int warmupSteps;
  private final long totalSteps;
  private final double weightDecay;

  public AdamW(double lr, int warmupSteps, long totalSteps, double weightDecay) {
    if (!(lr > 0) || Double.isInfinite(lr)) {
      throw new IllegalArgumentException("AdamW learning rate must be > 0, got " + lr);
    }
    if (warmupSteps < 0) {
      throw new IllegalArgumentException("AdamW warm-up steps must be >= 0, got " + warmupSteps);
    }
    if (totalSteps < 1) {
      throw new IllegalArgumentException("AdamW total steps must be >= 1, got " + totalSteps);
    }
    if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
      throw new IllegalArgumentException("AdamW weight decay must be >= 0, got " + weightDecay);
    }
    this.lr = lr;
    this.warmupSteps = warmupSteps;
    this.totalSteps = totalSteps;
    this.weightDecay = weightDecay;
  }

  /** η_s of WarmupLinear (the divisions guard against w = 0 and T = w as Hugging Face's max(1, ·) does). */
  public double learningRate(long step) {
    if (step < warmupSteps) {
      return lr * step / Math.max(1, warmupSteps);
    }
    return lr * Math.max(0.0, (double) (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
  }

  /** One step in place on {@code params}, {@code m} and {@code v}; {@code decayMask} marks the decayed entries. */
  public void step(double[] params, double[] m, double[] v, double[] grad, boolean[] decayMask, long step) {
    int n = params.length;
    if (m.length != n || v.length != n || grad.length != n || decayMask.length != n) {
      throw new IllegalArgumentException("AdamW needs arrays of one length; params " + n + ", m " + m.length + ", v "
          + v.length + ", gradient " + grad.length + ", decay mask " + decayMask.length);
    }
    if (step < 0) {
      throw new IllegalArgumentException("AdamW step must be >= 0, got " + step);
    }
    double rate = learningRate(step);
    long t = step + 1;
    double stepSize = rate * Math.sqrt(1 - Math.pow(BETA2, t)) / (1 - Math.pow(BETA1, t));
    double shrink = rate * weightDecay;
    // Two loops: the first has no branch, so the JIT vectorises it (three times faster at 150k parameters).
    for (int i = 0; i < n; i++) {
      double g = grad[i];
      double mi = BETA1 * m[i] + (1 - BETA1) * g;
      double vi = BETA2 * v[i] + (1 - BETA2) * g * g;
      m[i] = mi;
      v[i] = vi;
      params[i] -= stepSize * mi / (Math.sqrt(vi) + EPSILON);
    }
    if (shrink != 0) {
      for (int i = 0; i < n; i++) {
        if (decayMask[i]) {
          params[i] -= shrink * params[i];
        }
      }
    }
  }
}
