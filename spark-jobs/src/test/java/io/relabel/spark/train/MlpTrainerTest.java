package io.relabel.spark.train;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.core.model.MlpModel;
import io.relabel.core.model.MlpSpec;
import io.relabel.core.model.Predictions;
import io.relabel.spark.SparkTestSession;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("spark")
class MlpTrainerTest {

  static Dataset<Row> blobs(SparkSession spark, int n, int dim, int classes, long seed) {
    Random r = new Random(seed);
    double[][] centers = new double[classes][dim];
    for (double[] c : centers) {
      for (int j = 0; j < dim; j++) {
        c[j] = r.nextGaussian() * 2;
      }
    }
    List<Row> rows = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int y = i % classes;
      Float[] x = new Float[dim];
      for (int j = 0; j < dim; j++) {
        x[j] = (float) (centers[y][j] + r.nextGaussian() * 0.7);
      }
      rows.add(RowFactory.create((long) i, x, y));
    }
    StructType schema = new StructType()
        .add("id", DataTypes.LongType)
        .add("_x", DataTypes.createArrayType(DataTypes.FloatType))
        .add("_y", DataTypes.IntegerType);
    return spark.createDataFrame(rows, schema).repartition(2, col("id")).sortWithinPartitions("id");
  }

  @Test
  void parameterAveragedMlpLearnsAndIsReproducible() {
    SparkSession spark = SparkTestSession.get();
    Dataset<Row> data = blobs(spark, 1200, 8, 3, 5).cache();
    MlpSpec spec = new MlpSpec(16, 1, 5, 32, 0.01, 1e-4);
    MlpTrainer trainer = new MlpTrainer(spec, 2, 5);
    MlpModel a = trainer.fit(data, "_x", "_y", 8, 3, 11, "test-a");
    MlpModel b = trainer.fit(data, "_x", "_y", 8, 3, 11, "test-b");
    assertArrayEquals(a.params(), b.params(), "same seed and rows must give the same parameters");

    Broadcast<MlpModel[]> models = JavaSparkContext.fromSparkContext(spark.sparkContext())
        .broadcast(new MlpModel[] {a});
    Dataset<Row> scored = Scoring.score(data, "_x", models, Scoring.Chooser.always(0), null, "_p");
    long correct = scored.toJavaRDD().filter(r -> {
      List<Float> p = r.getList(3);
      float[] q = new float[p.size()];
      for (int i = 0; i < q.length; i++) {
        q[i] = p.get(i);
      }
      return Predictions.argmax(q) == r.getInt(2);
    }).count();
    assertTrue(correct > 0.95 * 1200, "training accuracy " + correct + "/1200");
    data.unpersist();
  }
}
