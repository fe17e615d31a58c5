package io.relabel.spark.train;

import io.relabel.core.model.MlpModel;
import io.relabel.spark.io.Batches;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Appends class probabilities from broadcast models to every row, in batches per partition. A row picks its model
 * by an int column (e.g. its fold for out-of-fold prediction) or always the same one; a negative or null choice
 * leaves the probabilities null. Nothing is collected: each executor rebuilds the networks once per task.
 */
public final class Scoring {

  private Scoring() {}

  private static final int BATCH = 1024;

  /** Which model scores a row: a column holding the model index, or a constant. */
  public record Chooser(String column, int constant) implements Serializable {
    public static Chooser byColumn(String column) {
      return new Chooser(column, -1);
    }

    public static Chooser always(int index) {
      return new Chooser(null, index);
    }
  }

  /**
   * @param table  rows with the float-array column {@code xCol}
   * @param models broadcast models, all with the same input width
   * @param only   optional boolean column: rows where it is false or null are not scored (null output); may be null
   */
  public static Dataset<Row> score(Dataset<Row> table, String xCol, Broadcast<MlpModel[]> models, Chooser chooser,
      String only, String outCol) {
    StructType schema = table.schema();
    StructType outSchema = schema.add(outCol, DataTypes.createArrayType(DataTypes.FloatType), true);
    int xIdx = schema.fieldIndex(xCol);
    int chooseIdx = chooser.column() == null ? -1 : schema.fieldIndex(chooser.column());
    int onlyIdx = only == null ? -1 : schema.fieldIndex(only);
    int dim = models.value()[0].nIn();
    return table.mapPartitions((org.apache.spark.api.java.function.MapPartitionsFunction<Row, Row>) it -> {
      MlpModel[] copies = models.value();
      return new Batches<Row, Row>(it, BATCH, buf -> {
        List<Row> out = new ArrayList<>(buf.size());
        int[] choice = new int[buf.size()];
        for (int i = 0; i < buf.size(); i++) {
          Row r = buf.get(i);
          boolean wanted = onlyIdx < 0 || (!r.isNullAt(onlyIdx) && r.getBoolean(onlyIdx));
          int m = chooseIdx < 0 ? chooser.constant() : (r.isNullAt(chooseIdx) ? -1 : r.getInt(chooseIdx));
          choice[i] = wanted ? m : -1;
        }
        float[][] probs = new float[buf.size()][];
        for (int m = 0; m < copies.length; m++) {
          List<Integer> members = new ArrayList<>();
          for (int i = 0; i < buf.size(); i++) {
            if (choice[i] == m) {
              members.add(i);
            }
          }
          if (members.isEmpty()) {
            continue;
          }
          float[][] x = new float[members.size()][];
          for (int k = 0; k < members.size(); k++) {
            x[k] = Features.floats(buf.get(members.get(k)), xIdx, dim);
          }
          float[][] p = copies[m].predictProba(x);
          for (int k = 0; k < members.size(); k++) {
            probs[members.get(k)] = p[k];
          }
        }
        for (int i = 0; i < buf.size(); i++) {
          Row r = buf.get(i);
          Object[] values = new Object[r.length() + 1];
          for (int j = 0; j < r.length(); j++) {
            values[j] = r.get(j);
          }
          values[r.length()] = probs[i] == null ? null : Features.seq(probs[i]);
          out.add(RowFactory.create(values));
        }
        return out;
      });
    }, Encoders.row(outSchema));
  }

}
