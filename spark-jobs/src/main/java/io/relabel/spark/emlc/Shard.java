package io.relabel.spark.emlc;

import io.relabel.core.emlc.MetaTrainer;
import java.io.Serializable;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The rows one partition trains on, standardised and held as one flat array: built once, cached by Spark, and read
 * by every round of the meta-trainer without touching the table again.
 */
final class Shard implements Serializable {

  private static final long serialVersionUID = 1L;

  final int partition;
  final int rows;
  final int dim;
  final float[] x;
  final int[] y;

  Shard(int partition, int rows, int dim, float[] x, int[] y) {
    this.partition = partition;
    this.rows = rows;
    this.dim = dim;
    this.x = x;
    this.y = y;
  }

  MetaTrainer.Rows toRows() {
    return new MetaTrainer.Rows(Nd4j.create(x, new long[] {rows, dim}, 'c'), y);
  }
}
