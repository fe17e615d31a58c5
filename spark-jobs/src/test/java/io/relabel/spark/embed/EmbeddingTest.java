package io.relabel.spark.embed;

import static org.apache.spark.sql.functions.lit;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.relabel.spark.SparkTestSession;
import java.util.List;
import org.apache.spark.ml.feature.PCA;
import org.apache.spark.ml.feature.PCAModel;
import org.apache.spark.ml.feature.StandardScaler;
import org.apache.spark.ml.feature.StandardScalerModel;
import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** The numeric encoders apply what MLlib fitted exactly as MLlib's own transforms would. */
@Tag("spark")
class EmbeddingTest {

  @Test
  void standardisedPcaEncoderMatchesMllibsTransforms() {
    Dataset<Row> t = EncoderRunnerTest.numericTable().filter("id != 11")
        .withColumn("fit", lit(true)).withColumn("u", lit(0.5));
    // a constant feature: MLlib scales it to 0, not to infinity
    t = t.withColumn("features", org.apache.spark.sql.functions.expr("transform(features, (x, i) -> IF(i = 4,"
        + " CAST(3.0 AS FLOAT), x))"));
    Embedding.Result r = Embedding.apply(t, "features", EncoderRunnerTest.DIM, "fit", "u",
        new Embedding.Spec(true, 3, 0), "emb");
    assertEquals(3, r.dim());

    Dataset<Row> v = io.relabel.spark.io.FeatureColumns.toMlVector(t, "features", "vec");
    StandardScalerModel scaler = new StandardScaler().setInputCol("vec").setOutputCol("std").setWithMean(true)
        .setWithStd(true).fit(v.coalesce(1));
    Dataset<Row> scaled = scaler.transform(v);
    PCAModel pca = new PCA().setInputCol("std").setOutputCol("pca").setK(3).fit(scaled.coalesce(1));
    List<Row> expected = pca.transform(scaled).orderBy("id").select("pca").collectAsList();
    List<Row> actual = r.table().orderBy("id").select("emb").collectAsList();
    assertEquals(36, actual.size());
    for (int i = 0; i < actual.size(); i++) {
      double[] want = ((Vector) expected.get(i).get(0)).toArray();
      List<Object> got = actual.get(i).getList(0);
      for (int j = 0; j < 3; j++) {
        assertEquals((float) want[j], (Float) got.get(j), 1e-5, "row " + i + " component " + j);
      }
    }
  }

  @Test
  void withoutStandardisationOrPcaTheFeaturesPassThrough() {
    Dataset<Row> t = EncoderRunnerTest.numericTable().withColumn("fit", lit(true)).withColumn("u", lit(0.5));
    Embedding.Result r = Embedding.apply(t, "features", EncoderRunnerTest.DIM, "fit", "u",
        new Embedding.Spec(false, 0, 0), "emb");
    assertEquals(EncoderRunnerTest.DIM, r.dim());
    assertEquals(0, r.table().filter("id != 11 and features != emb").count());
  }
}
