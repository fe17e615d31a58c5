package io.relabel.core.noise;

import java.io.Serializable;

/**
 * A yes/no decision about an eligible row from its canonical id and class index alone, so that executors can apply
 * it to their own rows: which rows a long-tail subsample keeps, which rows a pass counts.
 */
@FunctionalInterface
public interface RowTest extends Serializable {

  boolean test(Object id, int cls);
}
