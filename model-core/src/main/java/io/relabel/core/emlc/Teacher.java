package io.relabel.core.emlc;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** A label corrector: from a row's representation and its given label (one-hot) to a soft label ỹ. */
public interface Teacher {

  /** Activations of one batch; {@link #soft()} is ỹ, one row per example. */
  interface Cache {
    INDArray soft();
  }

  Params init(long seed, DataType type);

  Cache forward(Params p, INDArray input, INDArray given);

  /** Gradient of a loss whose gradient with respect to ỹ is {@code dSoft}. */
  Params backward(Params p, Cache c, INDArray dSoft);
}
