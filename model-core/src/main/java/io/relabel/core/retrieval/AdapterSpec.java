package io.relabel.core.retrieval;

import java.io.Serializable;

/**
 * The shape of the trainable adapter on a frozen sentence encoder (methods.md section 4): a residual map
 * f(e) = e + g(e) whose g starts at zero, so training starts from the base encoder exactly.
 *
 * @param kind      {@link Kind#LINEAR}: g(e) = W·e + b; {@link Kind#MLP}: g(e) = W2·relu(W1·e + b1) + b2
 * @param hidden    hidden units of the MLP (ignored for LINEAR)
 * @param normalise L2-normalise f(e), so that dot products are cosines
 */
public record AdapterSpec(Kind kind, int hidden, boolean normalise) implements Serializable {

  public enum Kind { LINEAR, MLP }
}
