package io.relabel.core.emlc;

import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The parameters of one network (or a gradient, a velocity or a direction of the same shape): an ordered list of
 * matrices. The flat form is what travels between the driver and the executors and what is averaged.
 */
public final class Params {

  private final List<INDArray> arrays;

  public Params(List<INDArray> arrays) {
    this.arrays = arrays;
  }

  public INDArray get(int i) {
    return arrays.get(i);
  }

  public int count() {
    return arrays.size();
  }

  public long length() {
    long n = 0;
    for (INDArray a : arrays) {
      n += a.length();
    }
    return n;
  }

  public DataType dataType() {
    return arrays.get(0).dataType();
  }

  public Params zerosLike() {
    List<INDArray> z = new ArrayList<>(arrays.size());
    for (INDArray a : arrays) {
      z.add(Nd4j.zeros(a.dataType(), a.shape()));
    }
    return new Params(z);
  }

  public Params copy() {
    List<INDArray> c = new ArrayList<>(arrays.size());
    for (INDArray a : arrays) {
      c.add(a.dup());
    }
    return new Params(c);
  }

  /** this += scale * other, in place. */
  public Params addi(double scale, Params other) {
    for (int i = 0; i < arrays.size(); i++) {
      INDArray o = other.arrays.get(i);
      if (scale == 1.0) {
        arrays.get(i).addi(o);
      } else {
        arrays.get(i).addi(o.mul(scale));
      }
    }
    return this;
  }

  /** this *= scale, in place. */
  public Params muli(double scale) {
    for (INDArray a : arrays) {
      a.muli(scale);
    }
    return this;
  }

  /** All values, matrix after matrix, each in row-major order. */
  public double[] flat() {
    double[] out = new double[(int) length()];
    int at = 0;
    for (INDArray a : arrays) {
      double[] v = a.dup('c').data().asDouble();
      System.arraycopy(v, 0, out, at, v.length);
      at += v.length;
    }
    return out;
  }

  /** The inverse of {@link #flat()}: values from {@code flat} starting at {@code from}, in this shape and type. */
  public Params withValues(double[] flat, int from) {
    List<INDArray> out = new ArrayList<>(arrays.size());
    int at = from;
    for (INDArray a : arrays) {
      int n = (int) a.length();
      double[] v = new double[n];
      System.arraycopy(flat, at, v, 0, n);
      at += n;
      out.add(Nd4j.create(v, a.shape(), 'c').castTo(a.dataType()));
    }
    return new Params(out);
  }
}
