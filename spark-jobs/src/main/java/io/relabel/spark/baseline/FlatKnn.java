package io.relabel.spark.baseline;

import io.relabel.spark.io.Batches;
import io.relabel.spark.train.Features;
import static org.apache.spark.sql.functions.col;

import io.relabel.core.knn.BlockedKnn;
import io.relabel.core.knn.Votes;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Flat kNN with a fixed k over all labeled rows: the baseline that hierarchical dynamic labeling (HDL; Ma et al.,
 * arXiv 2404.17173; {@code methods.md} §2) is compared against. Every row takes the unweighted majority label of its
 * k nearest labeled rows by cosine similarity, with no hierarchy, no adaptive k and no class weights.
 *
 * <p>The labeled rows' L2-normalised embeddings and labels are collected and broadcast, so this baseline needs
 * O(labeled rows) memory on the driver and on every executor. That suits semi-supervised use, where labeled rows are
 * a small share of the table; it is not meant for tables whose labeled part does not fit in an executor. Each
 * partition is then processed in batches of rows, each batch one exact blocked kNN ({@link BlockedKnn}) against all
 * labeled rows.
 *
 * <p>A labeled row is scored leave-one-out: its own entry (matched by the key column, which must be unique) is not
 * among its neighbours. Labeled rows are ordered by key before they are broadcast, so equal similarities are broken
 * by the lower key whatever the table's partitioning, and the output does not depend on it.
 */
public final class FlatKnn {

  /** Rows of a partition scored by one kNN call. */
  static final int BATCH_ROWS = 1024;

  private FlatKnn() {}

  /**
   * Appends the flat-kNN label and its agreement to every row.
   *
   * @param table            the rows
   * @param keyCol           long column, a unique row key
   * @param xCol             array&lt;float&gt; column, the embedding (one length for all rows)
   * @param labelCol         int column, the class index; null means unlabeled
   * @param k                neighbours that vote (at least 1)
   * @param outLabelCol      new int column: the majority label of the k nearest labeled rows; null when there are
   *                         no labeled rows (other than the row itself) or the embedding is null
   * @param outConfidenceCol new double column: the winner's share of the votes (of fewer than k when fewer labeled
   *                         rows exist); null exactly when the label is
   */
  public static Dataset<Row> apply(Dataset<Row> table, String keyCol, String xCol, String labelCol, int k,
      String outLabelCol, String outConfidenceCol) {
    return apply(table, keyCol, xCol, labelCol, k, outLabelCol, outConfidenceCol, BATCH_ROWS);
  }

  static Dataset<Row> apply(Dataset<Row> table, String keyCol, String xCol, String labelCol, int k,
      String outLabelCol, String outConfidenceCol, int batchRows) {
    if (k < 1) {
      throw new IllegalArgumentException("k must be at least 1: " + k);
    }
    StructType schema = table.schema();
    for (String out : List.of(outLabelCol, outConfidenceCol)) {
      if (Arrays.asList(schema.fieldNames()).contains(out)) {
        throw new IllegalArgumentException("output column '" + out + "' already exists");
      }
    }
    StructType outSchema = schema.add(outLabelCol, DataTypes.IntegerType, true)
        .add(outConfidenceCol, DataTypes.DoubleType, true);
    int keyIdx = schema.fieldIndex(keyCol);
    int xIdx = schema.fieldIndex(xCol);
    int labelIdx = schema.fieldIndex(labelCol);
    Broadcast<LabeledRows> labeled = JavaSparkContext.fromSparkContext(table.sparkSession().sparkContext())
        .broadcast(LabeledRows.collect(table, keyCol, xCol, labelCol));
    return table.mapPartitions((MapPartitionsFunction<Row, Row>) rows -> {
      LabeledRows reference = labeled.value();
      return new Batches<Row, Row>(rows, batchRows, batch -> {
        List<Row> out = new ArrayList<>(batch.size());
        reference.score(batch, keyIdx, xIdx, labelIdx, k, out);
        return out;
      });
    }, Encoders.row(outSchema));
  }

  /** The broadcast side: labeled rows ordered by key, embeddings normalised. */
  static final class LabeledRows implements Serializable {
    private static final long serialVersionUID = 1L;

    private final long[] keys;
    private final float[][] x;
    private final int[] labels;

    private LabeledRows(long[] keys, float[][] x, int[] labels) {
      this.keys = keys;
      this.x = x;
      this.labels = labels;
    }

    static LabeledRows collect(Dataset<Row> table, String keyCol, String xCol, String labelCol) {
      List<Row> rows = new ArrayList<>(table.filter(col(labelCol).isNotNull().and(col(xCol).isNotNull()))
          .select(keyCol, xCol, labelCol).collectAsList());
      rows.sort(Comparator.comparingLong(r -> r.getLong(0)));
      long[] keys = new long[rows.size()];
      float[][] x = new float[rows.size()][];
      int[] labels = new int[rows.size()];
      for (int i = 0; i < rows.size(); i++) {
        keys[i] = rows.get(i).getLong(0);
        x[i] = Features.floats(rows.get(i).getList(1));
        labels[i] = rows.get(i).getInt(2);
      }
      return new LabeledRows(keys, BlockedKnn.normalise(x), labels);
    }

    /** Scores a batch: each row with a non-null embedding against all labeled rows but itself. */
    void score(List<Row> batch, int keyIdx, int xIdx, int labelIdx, int k, List<Row> out) {
      List<float[]> queries = new ArrayList<>();
      for (Row r : batch) {
        if (!r.isNullAt(xIdx)) {
          queries.add(Features.floats(r.getList(xIdx)));
        }
      }
      // k + 1 neighbours: a labeled row finds itself among them and drops it, leaving its k nearest others.
      BlockedKnn.Neighbours nb = BlockedKnn.topK(BlockedKnn.normalise(queries.toArray(new float[0][])), x, k + 1);
      int q = 0;
      for (Row r : batch) {
        Votes.Result vote = null;
        if (!r.isNullAt(xIdx)) {
          boolean dropSelf = !r.isNullAt(labelIdx);
          long key = dropSelf ? r.getLong(keyIdx) : 0;
          int[] voters = new int[k];
          int n = 0;
          for (int j : nb.index()[q++]) {
            if (dropSelf && keys[j] == key) {
              dropSelf = false;
            } else if (n < k) {
              voters[n++] = labels[j];
            }
          }
          vote = n == 0 ? null : Votes.weightedMajority(voters, n, null);
        }
        Object[] values = new Object[r.length() + 2];
        for (int j = 0; j < r.length(); j++) {
          values[j] = r.get(j);
        }
        values[r.length()] = vote == null ? null : vote.label();
        values[r.length() + 1] = vote == null ? null : vote.agreement();
        out.add(RowFactory.create(values));
      }
    }
  }
}
