package io.relabel.spark.train;

import java.util.List;
import org.apache.spark.sql.Row;

/** Reads the canonical embedding column (array&lt;float&gt;) of a row into a Java array, and back. */
public final class Features {

  private Features() {}

  public static float[] floats(Row row, int field, int dim) {
    List<Object> list = row.getList(field);
    if (list.size() != dim) {
      throw new IllegalStateException("embedding of length " + list.size() + ", expected " + dim);
    }
    return floats(list);
  }

  public static float[] floats(List<Object> list) {
    float[] x = new float[list.size()];
    for (int j = 0; j < x.length; j++) {
      x[j] = ((Number) list.get(j)).floatValue();
    }
    return x;
  }

  /** A Scala Seq, the external type Spark's row encoder (and {@code Row.getList}) expects for arrays. */
  public static scala.collection.Seq<Float> seq(float[] p) {
    Float[] b = new Float[p.length];
    for (int i = 0; i < p.length; i++) {
      b[i] = p[i];
    }
    return scala.collection.mutable.WrappedArray.make(b);
  }

  /** The same for int arrays. */
  public static scala.collection.Seq<Integer> seq(int[] p) {
    Integer[] b = new Integer[p.length];
    for (int i = 0; i < p.length; i++) {
      b[i] = p[i];
    }
    return scala.collection.mutable.WrappedArray.make(b);
  }
}
