package io.relabel.spark.embed;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.apache.spark.sql.SparkSession;

/**
 * "vectors" and "pca": numeric features, optionally standardised, optionally projected on principal components:
 * {@code y = P^T ((x - shift) * scale)}, computed in double precision and stored as float. The parameters are
 * fitted elsewhere (MLlib, in {@link Embedding}); this class only applies them, row by row, so a row's embedding
 * does not depend on which rows share its batch or partition.
 *
 * <p>The arithmetic follows MLlib's own transforms, so that moving from {@code StandardScalerModel.transform} and
 * {@code PCAModel.transform} to this encoder keeps the meaning of the settings: a zero standard deviation scales to
 * 0 (not infinity), and the projection does not centre the data unless the standardisation did.
 */
public final class VectorEncoder implements Encoder, ModelIdentity {

  private static final long serialVersionUID = 1L;

  /** Parameters above this size are broadcast rather than shipped with every task. */
  static final int INLINE_LIMIT = 1 << 20;

  private final String name;
  private final int inputDim;
  private final int dim;
  private final ModelBytes params;

  private VectorEncoder(String name, int inputDim, int dim, ModelBytes params) {
    this.name = name;
    this.inputDim = inputDim;
    this.dim = dim;
    this.params = params;
  }

  /** The features as they are ("vectors"). */
  public static VectorEncoder identity(int inputDim) {
    return of(null, inputDim, null, null, null, 0);
  }

  /**
   * A fitted encoder.
   *
   * @param spark      for broadcasting large parameters; may be null when they are small (tests)
   * @param shift      subtracted before scaling (the mean), or null
   * @param scale      multiplied after the shift (1/std, 0 where std is 0), or null
   * @param components principal components, column-major {@code inputDim x k} (MLlib's {@code pc().toArray()}),
   *                   or null for no projection
   */
  public static VectorEncoder of(SparkSession spark, int inputDim, double[] shift, double[] scale,
      double[] components, int k) {
    Params p = new Params(inputDim, shift, scale, components, components == null ? 0 : k);
    byte[] bytes = p.encode();
    ModelBytes mb = bytes.length > INLINE_LIMIT && spark != null ? ModelBytes.broadcast(spark, bytes)
        : ModelBytes.inline(bytes);
    return new VectorEncoder(components == null ? "vectors" : "pca", inputDim,
        components == null ? inputDim : k, mb);
  }

  /** The fitted parameters as stored (shift, scale, components): what {@link #restore} reads back. */
  public byte[] paramsBytes() {
    return params.load();
  }

  /** The encoder {@link #paramsBytes()} came from, with the same model hash. */
  public static VectorEncoder restore(SparkSession spark, byte[] bytes) {
    Params p = Params.decode(bytes);
    return of(spark, p.d(), p.shift(), p.scale(), p.components(), p.k());
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public int dim() {
    return dim;
  }

  @Override
  public String modelHash() {
    return params.sha256();
  }

  @Override
  public float[][] encode(List<Object> values) {
    Params p = ModelCache.get("vectors/" + params.sha256(), () -> Params.decode(params.load()));
    float[][] out = new float[values.size()][];
    double[] x = new double[inputDim];
    for (int r = 0; r < out.length; r++) {
      Object v = values.get(r);
      if (!(v instanceof float[] f)) {
        throw new IllegalArgumentException("encoder " + name + " takes numeric features, not "
            + (v == null ? "null" : v.getClass().getSimpleName()));
      }
      if (f.length != inputDim) {
        throw new IllegalArgumentException("encoder " + name + " takes " + inputDim + " features, not " + f.length);
      }
      out[r] = p.apply(f, x);
    }
    return out;
  }

  /** The fitted parameters, as the bytes that are hashed and shipped. */
  private record Params(int d, double[] shift, double[] scale, double[] components, int k) {

    float[] apply(float[] f, double[] x) {
      for (int i = 0; i < d; i++) {
        double v = f[i];
        if (shift != null) {
          v -= shift[i];
        }
        if (scale != null) {
          v *= scale[i];
        }
        x[i] = v;
      }
      if (components == null) {
        float[] y = new float[d];
        for (int i = 0; i < d; i++) {
          y[i] = (float) x[i];
        }
        return y;
      }
      float[] y = new float[k];
      for (int j = 0; j < k; j++) {
        double s = 0;
        int base = j * d;
        for (int i = 0; i < d; i++) {
          s += components[base + i] * x[i];
        }
        y[j] = (float) s;
      }
      return y;
    }

    byte[] encode() {
      ByteArrayOutputStream bos = new ByteArrayOutputStream();
      try (DataOutputStream out = new DataOutputStream(bos)) {
        out.writeInt(d);
        out.writeInt(k);
        writeArray(out, shift);
        writeArray(out, scale);
        writeArray(out, components);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return bos.toByteArray();
    }

    static Params decode(byte[] bytes) {
      try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
        int d = in.readInt();
        int k = in.readInt();
        return new Params(d, readArray(in), readArray(in), readArray(in), k);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    private static void writeArray(DataOutputStream out, double[] a) throws IOException {
      out.writeInt(a == null ? -1 : a.length);
      if (a != null) {
        for (double v : a) {
          out.writeDouble(v);
        }
      }
    }

    private static double[] readArray(DataInputStream in) throws IOException {
      int n = in.readInt();
      if (n < 0) {
        return null;
      }
      double[] a = new double[n];
      for (int i = 0; i < n; i++) {
        a[i] = in.readDouble();
      }
      return a;
    }
  }
}
