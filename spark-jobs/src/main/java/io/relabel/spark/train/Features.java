package io.relabel.spark.train;

import java.util.List;
import org.apache.spark.sql.Row;

/** Reads the canonical embedding column (array&lt;float&gt;) of a row into a Java array. */
public final class Features {

  private Features() {}

  public static float[] floats(Row row, int field, int dim) {
    List<Object> list = row.getList(field);
    if (list.size() != dim) {
      throw new IllegalStateException("embedding of length " + list.size() + ", expected " + dim);
    }
    float[] x = new float[dim];
    for (int j = 0; j < dim; j++) {
      x[j] = ((Number) list.get(j)).floatValue();
    }
    return x;
  }
}
