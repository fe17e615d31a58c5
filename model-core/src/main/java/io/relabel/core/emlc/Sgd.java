package io.relabel.core.emlc;

/**
 * SGD with momentum (no dampening) and weight decay, as the reference recipe trains both networks:
 * v ← μ·v + (∇ + λ·θ), θ ← θ − η·v.
 */
public record Sgd(double learningRate, double momentum, double weightDecay) {

  public Sgd {
    if (!(learningRate > 0)) {
      throw new IllegalArgumentException("learning rate must be > 0, got " + learningRate);
    }
    if (momentum < 0 || momentum >= 1) {
      throw new IllegalArgumentException("momentum must be in [0, 1), got " + momentum);
    }
    if (weightDecay < 0) {
      throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
    }
  }

  /** One step in place: {@code velocity} and {@code theta} are updated. */
  public void step(Params theta, Params gradient, Params velocity) {
    velocity.muli(momentum).addi(1.0, gradient);
    if (weightDecay > 0) {
      velocity.addi(weightDecay, theta);
    }
    theta.addi(-learningRate, velocity);
  }
}
