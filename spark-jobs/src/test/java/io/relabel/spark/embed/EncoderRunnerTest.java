package io.relabel.spark.embed;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.spark.SparkTestSession;
import io.relabel.spark.cli.RelabelException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.apache.spark.ml.linalg.SQLDataTypes;
import org.apache.spark.ml.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Encoders run on executors by {@link EncoderRunner} give what the same encoder gives on the driver, bit for bit. */
@Tag("spark")
class EncoderRunnerTest {

  static final int DIM = 6;

  @TempDir static Path dir;

  /** 37 rows of {@link #DIM} seeded floats in 2 partitions, one row with null features. */
  static Dataset<Row> numericTable() {
    Random r = new Random(7);
    List<Row> rows = new ArrayList<>();
    for (long id = 0; id < 37; id++) {
      float[] x = new float[DIM];
      for (int j = 0; j < DIM; j++) {
        x[j] = (float) r.nextGaussian();
      }
      rows.add(RowFactory.create(id, id == 11 ? null : x));
    }
    StructType schema = new StructType().add("id", DataTypes.LongType)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType));
    return SparkTestSession.get().createDataFrame(rows, schema).repartition(2);
  }

  /** A small MLP (6 -> 5 "hidden" -> 4 "proj" -> 3 "out"), seeded, saved with ModelSerializer. */
  static String savedModel(String name) throws Exception {
    MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(3).list()
        .layer(new DenseLayer.Builder().name("hidden").nIn(DIM).nOut(5).activation(Activation.TANH).build())
        .layer(new DenseLayer.Builder().name("proj").nIn(5).nOut(4).activation(Activation.IDENTITY).build())
        .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("out").nIn(4).nOut(3)
            .activation(Activation.SOFTMAX).build())
        .build());
    net.init();
    Path file = dir.resolve(name);
    ModelSerializer.writeModel(net, file.toFile(), false);
    return file.toString();
  }

  /** Runs {@code enc} per partition on the executors; returns the embeddings by id order. */
  static List<Row> onExecutors(Dataset<Row> t, Encoder enc, int batch) {
    List<Row> rows = new ArrayList<>(EncoderRunner.apply(t, "features", enc, batch, "emb").collectAsList());
    rows.sort(Comparator.comparingLong(r -> r.getLong(0)));
    return rows;
  }

  /** The same batches, encoded here on the driver: each partition's rows in order, {@code batch} at a time. */
  static float[][] onDriver(Dataset<Row> t, Encoder enc, int batch) {
    float[][] out = new float[(int) t.count()][];
    for (List<Row> part : t.javaRDD().glom().collect()) {
      List<Row> withFeatures = part.stream().filter(r -> !r.isNullAt(1)).toList();
      for (int i = 0; i < withFeatures.size(); i += batch) {
        List<Row> b = withFeatures.subList(i, Math.min(withFeatures.size(), i + batch));
        List<Object> values = new ArrayList<>();
        b.forEach(r -> values.add(EncoderRunner.input(r.get(1))));
        float[][] e = enc.encode(values);
        for (int k = 0; k < b.size(); k++) {
          out[(int) b.get(k).getLong(0)] = e[k];
        }
      }
    }
    return out;
  }

  static float[] floats(Row r, int field) {
    List<Object> l = r.getList(field);
    float[] f = new float[l.size()];
    for (int i = 0; i < f.length; i++) {
      f[i] = (Float) l.get(i);
    }
    return f;
  }

  @Test
  void dl4jModelBuiltOncePerJvmFromTheBroadcastEqualsTheDriversBitForBit() throws Exception {
    SparkSession spark = SparkTestSession.get();
    Dl4jModelEncoder enc = Dl4jModelEncoder.load(spark, savedModel("mlp.zip"), "proj", "", DIM);
    assertEquals(4, enc.dim());
    assertEquals("proj", enc.layerName());
    Dataset<Row> t = numericTable();

    ModelCache.clear();
    long before = ModelCache.builds();
    List<Row> executed = onExecutors(t, enc, 5);
    assertEquals(1, ModelCache.builds() - before, "one model for the JVM, not one per task or batch");

    ModelCache.clear();
    float[][] driver = onDriver(t, enc, 5);
    assertEquals(37, executed.size());
    for (Row r : executed) {
      int id = (int) r.getLong(0);
      if (id == 11) {
        assertNull(r.get(2), "null features give a null embedding");
        continue;
      }
      assertArrayEquals(driver[id], floats(r, 2), "row " + id);
    }
  }

  @Test
  void aComputationGraphsNamedLayerRunsOnExecutorsAsOnTheDriver() throws Exception {
    ComputationGraph graph = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(5).graphBuilder()
        .addInputs("in")
        .addLayer("enc", new DenseLayer.Builder().nIn(DIM).nOut(7).activation(Activation.RELU).build(), "in")
        .addLayer("head", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(7).nOut(2)
            .activation(Activation.SOFTMAX).build(), "enc")
        .setOutputs("head").build());
    graph.init();
    Path file = dir.resolve("graph.zip");
    ModelSerializer.writeModel(graph, file.toFile(), false);
    Dl4jModelEncoder enc = Dl4jModelEncoder.load(SparkTestSession.get(), file.toString(), "enc", "", DIM);
    assertEquals(7, enc.dim());
    Dataset<Row> t = numericTable();
    ModelCache.clear();
    List<Row> executed = onExecutors(t, enc, 4);
    ModelCache.clear();
    float[][] driver = onDriver(t, enc, 4);
    for (Row r : executed) {
      if (r.getLong(0) != 11) {
        assertArrayEquals(driver[(int) r.getLong(0)], floats(r, 2), "row " + r.getLong(0));
      }
    }
  }

  @Test
  void theDefaultLayerIsTheOneBeforeTheOutputAndIndexesWorkToo() throws Exception {
    SparkSession spark = SparkTestSession.get();
    String model = savedModel("mlp-default.zip");
    assertEquals("proj", Dl4jModelEncoder.load(spark, model, "", "", DIM).layerName());
    Dl4jModelEncoder first = Dl4jModelEncoder.load(spark, model, "0", "", DIM);
    assertEquals("hidden", first.layerName());
    assertEquals(5, first.dim());
  }

  @Test
  void dl4jModelErrorsNameThePathTheLayersAndTheShape() throws Exception {
    SparkSession spark = SparkTestSession.get();
    String model = savedModel("mlp-errors.zip");
    RelabelException unknown = assertThrows(RelabelException.class,
        () -> Dl4jModelEncoder.load(spark, model, "dense9", "", DIM));
    assertEquals("relabel.embed.modelLayer 'dense9' is not a layer of " + model + "; its layers (index name):"
        + " 0 hidden, 1 proj, 2 out", unknown.getMessage());
    assertEquals("relabel.embed.modelLayer '3' is not a layer of " + model + "; its layers (index name):"
        + " 0 hidden, 1 proj, 2 out",
        assertThrows(RelabelException.class, () -> Dl4jModelEncoder.load(spark, model, "3", "", DIM)).getMessage());
    String missing = dir.resolve("nothing.zip").toString();
    assertEquals("relabel.embed.modelPath: no file at " + missing,
        assertThrows(RelabelException.class, () -> Dl4jModelEncoder.load(spark, missing, "", "", DIM))
            .getMessage());
    assertEquals("relabel.embed.inputShape=1x2x2 holds 4 values, but the features have 6",
        assertThrows(RelabelException.class, () -> Dl4jModelEncoder.load(spark, model, "", "1x2x2", DIM))
            .getMessage());
    assertEquals("relabel.embed.encoder=dl4j-model needs relabel.embed.modelPath (a DL4J model zip saved with"
        + " ModelSerializer)",
        assertThrows(RelabelException.class, () -> Dl4jModelEncoder.load(spark, "", "", "", DIM)).getMessage());
    Path notAModel = dir.resolve("not-a-model.zip");
    java.nio.file.Files.writeString(notAModel, "plain text");
    assertEquals("model " + notAModel + " is not a DL4J model saved with ModelSerializer (no configuration.json"
        + " inside)", assertThrows(RelabelException.class,
            () -> Dl4jModelEncoder.load(spark, notAModel.toString(), "", "", DIM)).getMessage());
  }

  @Test
  void vectorsAndPcaAreRowByRowSoAnyBatchingGivesTheSameEmbedding() {
    Dataset<Row> t = numericTable();
    double[] shift = {1, 0, -1, 0.5, 0, 2};
    double[] scale = {1, 2, 0, 1, 0.5, 1};
    double[] pc = new double[DIM * 2];
    for (int i = 0; i < pc.length; i++) {
      pc[i] = Math.sin(i);
    }
    VectorEncoder enc = VectorEncoder.of(null, DIM, shift, scale, pc, 2);
    assertEquals("pca", enc.name());
    assertEquals(2, enc.dim());
    List<Row> a = onExecutors(t, enc, 1);
    List<Row> b = onExecutors(t, enc, 1000);
    float[][] driver = onDriver(t, enc, 3);
    for (int i = 0; i < a.size(); i++) {
      if (i == 11) {
        continue;
      }
      assertArrayEquals(floats(a.get(i), 2), floats(b.get(i), 2));
      assertArrayEquals(driver[i], floats(a.get(i), 2));
    }
    // y_j = sum_i pc[j*d + i] * (x_i - shift_i) * scale_i, by hand for row 0
    float[] x = (float[]) EncoderRunner.input(a.get(0).get(1));
    double y1 = 0;
    for (int i = 0; i < DIM; i++) {
      y1 += pc[DIM + i] * (x[i] - shift[i]) * scale[i];
    }
    assertEquals((float) y1, floats(a.get(0), 2)[1]);
  }

  @Test
  void featureCellsBecomeWhatEncodersTake() {
    assertArrayEquals(new float[] {1.5f, -2f}, (float[]) EncoderRunner.input(
        scala.collection.JavaConverters.asScalaBuffer(List.<Object>of(1.5, -2.0)).toSeq()));
    assertArrayEquals(new float[] {0, 3, 0}, (float[]) EncoderRunner.input(
        Vectors.sparse(3, new int[] {1}, new double[] {3})));
    assertEquals("a text", EncoderRunner.input("a text"));
    assertNull(EncoderRunner.input(null));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EncoderRunner.input(7));
    assertEquals("not a feature value: java.lang.Integer (accepted: array<float>, array<double>, an MLlib vector or"
        + " a string)", e.getMessage());
  }

  @Test
  void everyAcceptedColumnTypeRunsThroughTheRunner() {
    SparkSession spark = SparkTestSession.get();
    StructType schema = new StructType().add("id", DataTypes.LongType)
        .add("d", DataTypes.createArrayType(DataTypes.DoubleType)).add("v", SQLDataTypes.VectorType());
    Dataset<Row> t = spark.createDataFrame(List.of(
        RowFactory.create(0L, new double[] {1, 2}, Vectors.dense(1, 2)),
        RowFactory.create(1L, new double[] {0, 5}, Vectors.sparse(2, new int[] {1}, new double[] {5}))), schema);
    VectorEncoder id = VectorEncoder.identity(2);
    List<Row> fromDoubles = EncoderRunner.apply(t, "d", id, 4, "e").orderBy("id").collectAsList();
    List<Row> fromVectors = EncoderRunner.apply(t, "v", id, 4, "e").orderBy("id").collectAsList();
    assertArrayEquals(new float[] {0, 5}, floats(fromDoubles.get(1), 3));
    assertArrayEquals(floats(fromDoubles.get(1), 3), floats(fromVectors.get(1), 3));
    assertEquals(DataTypes.createArrayType(DataTypes.FloatType, false),
        EncoderRunner.apply(t, "d", id, 4, "e").schema().apply("e").dataType());
    assertTrue(assertThrows(IllegalArgumentException.class, () -> EncoderRunner.apply(t, "d", id, 0, "e"))
        .getMessage().startsWith("batch size must be positive"));
  }
}
