package io.relabel.spark.embed;

import io.relabel.spark.io.Batches;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Runs an {@link Encoder} over a table where the data is: inside {@code mapPartitions}, a batch of rows per call.
 * Each task reads its partition in order, hands {@code batchSize} feature values at a time to the encoder (whose
 * model the executor builds once, see {@link ModelCache}) and appends the embeddings as a new column. Nothing is
 * collected and nothing is shuffled: the output keeps the input's partitioning and row order, which the later
 * stages' determinism relies on.
 */
public final class EncoderRunner {

  private EncoderRunner() {}

  /**
   * @param table       any table with the features column
   * @param featuresCol array&lt;float&gt;, array&lt;double&gt;, an MLlib vector or a string (see {@link #input})
   * @param batchSize   rows per {@link Encoder#encode} call
   * @param outCol      new column, array&lt;float&gt; of length {@code enc.dim()}; null where the features are null
   * @return {@code table} plus {@code outCol}
   */
  public static Dataset<Row> apply(Dataset<Row> table, String featuresCol, Encoder enc, int batchSize,
      String outCol) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batch size must be positive, not " + batchSize);
    }
    StructType schema = table.schema();
    if (Arrays.asList(schema.fieldNames()).contains(outCol)) {
      throw new IllegalArgumentException("column " + outCol + " exists already");
    }
    int featuresIdx = schema.fieldIndex(featuresCol);
    StructType outSchema = schema.add(outCol, DataTypes.createArrayType(DataTypes.FloatType, false), true);
    int width = schema.length();
    int dim = enc.dim();
    return table.mapPartitions((MapPartitionsFunction<Row, Row>) rows ->
        new Batches<>(rows, batchSize, batch -> embed(batch, featuresIdx, width, enc, dim)), Encoders.row(outSchema));
  }

  /**
   * A feature cell as an encoder takes it: text stays a {@link String}; an array&lt;float&gt;, array&lt;double&gt;
   * or MLlib vector (dense or sparse) becomes a {@code float[]}; null stays null.
   */
  public static Object input(Object cell) {
    if (cell == null || cell instanceof String || cell instanceof float[]) {
      return cell;
    }
    if (cell instanceof scala.collection.Seq<?> seq) {
      float[] x = new float[seq.length()];
      for (int i = 0; i < x.length; i++) {
        x[i] = ((Number) seq.apply(i)).floatValue();
      }
      return x;
    }
    if (cell instanceof Vector v) {
      return toFloats(v.toArray());
    }
    if (cell instanceof double[] d) {
      return toFloats(d);
    }
    throw new IllegalArgumentException("not a feature value: " + cell.getClass().getName()
        + " (accepted: array<float>, array<double>, an MLlib vector or a string)");
  }

  private static float[] toFloats(double[] d) {
    float[] x = new float[d.length];
    for (int i = 0; i < d.length; i++) {
      x[i] = (float) d[i];
    }
    return x;
  }

  private static List<Row> embed(List<Row> batch, int featuresIdx, int width, Encoder enc, int dim) {
    List<Object> values = new ArrayList<>(batch.size());
    for (Row r : batch) {
      if (!r.isNullAt(featuresIdx)) {
        values.add(input(r.get(featuresIdx)));
      }
    }
    float[][] emb = values.isEmpty() ? new float[0][] : enc.encode(values);
    if (emb.length != values.size()) {
      throw new IllegalStateException("encoder " + enc.name() + " returned " + emb.length + " embeddings for "
          + values.size() + " values");
    }
    List<Row> out = new ArrayList<>(batch.size());
    int k = 0;
    for (Row r : batch) {
      Object[] cells = new Object[width + 1];
      for (int j = 0; j < width; j++) {
        cells[j] = r.get(j);
      }
      if (!r.isNullAt(featuresIdx)) {
        float[] e = emb[k++];
        if (e.length != dim) {
          throw new IllegalStateException("encoder " + enc.name() + " returned an embedding of length " + e.length
              + ", not its declared " + dim);
        }
        // The external form Spark's row encoder takes for an array column.
        cells[width] = scala.collection.mutable.WrappedArray.make(e);
      }
      out.add(RowFactory.create(cells));
    }
    return out;
  }
}
