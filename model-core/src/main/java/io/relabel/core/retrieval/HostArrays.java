package io.relabel.core.retrieval;

import org.bytedeco.javacpp.DoublePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.concurrency.AffinityManager;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Bulk copies between Java arrays and ND4J arrays, for the training step's hot path. ND4J's own ways in and out cost
 * more than the step's arithmetic at adapter sizes: on a CPU, {@code Nd4j.create} from 150k doubles takes about
 * 3 ms and from 150k floats about 2 ms (value by value), and every fresh off-heap array of that size costs its
 * allocation and page faults again. A copy here is one memcpy between a Java array and an ND4J array allocated
 * once by the caller. The location calls keep this right on a GPU backend, where the host copy is not the only one.
 */
final class HostArrays {

  private HostArrays() {}

  /** {@code target} (FLOAT or DOUBLE, not a view, of src.length values) := src, rounded to FLOAT where it is. */
  static void put(INDArray target, double[] src) {
    if (target.dataType() == DataType.FLOAT) {
      float[] f = new float[src.length];
      for (int i = 0; i < f.length; i++) {
        f[i] = (float) src[i];
      }
      put(target, f);
      return;
    }
    check(target, DataType.DOUBLE, src.length);
    Nd4j.getAffinityManager().ensureLocation(target, AffinityManager.Location.HOST);
    new DoublePointer(target.data().addressPointer()).put(src, 0, src.length);
    Nd4j.getAffinityManager().tagLocation(target, AffinityManager.Location.HOST);
  }

  /** {@code target} (FLOAT, not a view, of src.length values) := src. */
  static void put(INDArray target, float[] src) {
    check(target, DataType.FLOAT, src.length);
    Nd4j.getAffinityManager().ensureLocation(target, AffinityManager.Location.HOST);
    new FloatPointer(target.data().addressPointer()).put(src, 0, src.length);
    Nd4j.getAffinityManager().tagLocation(target, AffinityManager.Location.HOST);
  }

  /** into := the values of {@code src} (DOUBLE, not a view, of into.length values). */
  static void get(INDArray src, double[] into) {
    check(src, DataType.DOUBLE, into.length);
    Nd4j.getAffinityManager().ensureLocation(src, AffinityManager.Location.HOST);
    new DoublePointer(src.data().addressPointer()).get(into, 0, into.length);
  }

  /** All values of {@code a} in row-major order, in double precision. */
  static double[] doubles(INDArray a) {
    INDArray whole = a.isView() || a.ordering() != 'c' || a.data().length() != a.length() ? a.dup('c') : a;
    double[] out = new double[(int) whole.length()];
    Nd4j.getAffinityManager().ensureLocation(whole, AffinityManager.Location.HOST);
    if (whole.dataType() == DataType.DOUBLE) {
      new DoublePointer(whole.data().addressPointer()).get(out, 0, out.length);
    } else if (whole.dataType() == DataType.FLOAT) {
      float[] f = new float[out.length];
      new FloatPointer(whole.data().addressPointer()).get(f, 0, f.length);
      for (int i = 0; i < f.length; i++) {
        out[i] = f[i];
      }
    } else {
      return doubles(whole.castTo(DataType.DOUBLE));
    }
    return out;
  }

  private static void check(INDArray a, DataType type, long length) {
    if (a.dataType() != type || a.isView() || a.length() != length || a.data().length() != length) {
      throw new IllegalArgumentException("a host copy needs a whole " + type + " array of " + length
          + " values, got " + a.dataType() + " " + a.shapeInfoToString().replace('\n', ' '));
    }
  }
}
