package io.relabel.spark.stage;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.core.config.Settings;
import io.relabel.core.util.RowSeeds;
import io.relabel.spark.SparkTestSession;
import io.relabel.spark.cli.RelabelException;
import io.relabel.spark.io.RunManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The whole job on a small synthetic table: 4 Gaussian classes in 12-d, 30% of the training labels flipped. */
@Tag("spark")
class RelabelJobTest {

  @TempDir static Path dir;
  static String input;

  static final Map<String, String> FAST = Map.of(
      "relabel.train.epochs", "8",
      "relabel.consensus.retrainEpochs", "8",
      "relabel.train.hiddenUnits", "32",
      "relabel.train.batchSize", "64",
      "relabel.train.averagingFrequency", "10",
      "relabel.embed.pcaDims", "6",
      "relabel.embed.fitRows", "800",
      "relabel.consensus.folds", "3");

  @BeforeAll
  static void writeInput() {
    SparkSession spark = SparkTestSession.get();
    Random r = new Random(17);
    int classes = 4;
    int dim = 12;
    double[][] centers = new double[classes][dim];
    for (double[] c : centers) {
      for (int j = 0; j < dim; j++) {
        c[j] = r.nextGaussian() * 1.5;
      }
    }
    List<Row> rows = new ArrayList<>();
    for (long id = 0; id < 2400; id++) {
      int y = (int) (id % classes);
      float[] x = new float[dim];
      for (int j = 0; j < dim; j++) {
        x[j] = (float) (centers[y][j] + r.nextGaussian());
      }
      boolean test = id % 6 == 0;
      boolean trusted = !test && id % 50 == 1;
      int given = y;
      if (!test && !trusted && RowSeeds.uniform(5, "t", id, 0) < 0.3) {
        given = (y + 1 + RowSeeds.uniformInt(5, "t", id, 1, classes - 1)) % classes;
      }
      rows.add(RowFactory.create(id, x, given, y, trusted, test ? "test" : "train", "row" + id));
    }
    StructType schema = new StructType()
        .add("id", DataTypes.LongType)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType))
        .add("label", DataTypes.IntegerType)
        .add("label_true", DataTypes.IntegerType)
        .add("trusted", DataTypes.BooleanType)
        .add("split", DataTypes.StringType)
        .add("note", DataTypes.StringType);
    input = dir.resolve("in").toString();
    spark.createDataFrame(rows, schema).repartition(3).write().parquet(input);
  }

  static RelabelJob.Result run(String out, Map<String, String> extra) {
    Settings s = Settings.defaults().with(FAST).with(extra);
    return new RelabelJob(SparkTestSession.get(), s).run(input, out, false, "test");
  }

  @Test
  void correctsLabelsKeepsTrustedAndHeldOutRowsAndPassesColumnsThrough() throws Exception {
    String out = dir.resolve("out1").toString();
    RelabelJob.Result r = run(out, Map.of());
    SparkSession spark = SparkTestSession.get();
    Dataset<Row> o = spark.read().parquet(out);
    assertEquals(2400, o.count());
    for (String c : List.of("id", "features", "label", "label_true", "trusted", "split", "note", "label_given",
        "label_corrected", "label_confidence", "label_changed", "relabel_run_id", "hdl_label", "hdl_confidence",
        "hdl_level", "cluster_path", "cl_issue", "cl_quality", "relabel_reasons")) {
      assertTrue(List.of(o.columns()).contains(c), "missing output column " + c);
    }
    assertEquals(19, o.columns().length, "internal columns must not leak: " + String.join(",", o.columns()));
    // HDL (noise mode by default) labels every row, each with the path of its leaf
    assertEquals(0, o.filter(col("hdl_label").isNull().or(functions.size(col("cluster_path")).lt(1))).count());
    assertEquals(0, o.filter(col("trusted").or(col("split").equalTo("test")).and(col("label_changed"))).count());
    assertEquals(0, o.filter(col("label_given").notEqual(col("label"))).count());
    assertEquals(0, o.filter(col("label_confidence").lt(0).or(col("label_confidence").gt(1))).count());

    RunManifest m = RunManifest.fromJson(Files.readString(Path.of(out, RunManifest.FILE_NAME)));
    assertTrue(Files.readString(Path.of(out, "_report.html")).contains(r.runId()), "the run report is committed");
    double given = ((Number) m.getMetric("eval.train.givenAccuracy")).doubleValue();
    double corrected = ((Number) m.getMetric("eval.train.correctedAccuracy")).doubleValue();
    assertTrue(given < 0.75, "given accuracy " + given);
    assertTrue(corrected > given + 0.15, "corrected " + corrected + " vs given " + given);
    assertTrue(((Number) m.getMetric("eval.test.retrainedAccuracy")).doubleValue() > 0.85);
    assertTrue(((Number) m.getMetric("eval.train.changePrecision")).doubleValue() > 0.8);
    assertEquals(r.runId(), o.select("relabel_run_id").first().getString(0));
    assertEquals("pca", m.getMetric("embed.encoder"));
    assertEquals(6L, m.getMetric("embed.dim"));
    assertEquals(2400L, m.getMetric("embed.rows"));
    assertEquals(2L, m.getMetric("embed.cores"), "local[2], 2 partitions (relabel.train.workers)");
    double perCore = ((Number) m.getMetric("embed.rowsPerSecondPerCore")).doubleValue();
    double seconds = ((Number) m.getMetric("embed.encodeSeconds")).doubleValue();
    assertEquals(2400 / (seconds * 2), perCore, 1e-6 * perCore);
    List<String> stages = List.of("validate", "embed", "hdl", "cross-fit", "confident-learning", "retrain", "ceiling",
        "correct", "evaluate");
    assertEquals(stages, m.stages().stream().map(RunManifest.StageRecord::name).toList());
    assertEquals(2400L, m.outputRows());
    List<String> all = new ArrayList<>(stages);
    all.add("write");
    assertEquals(all, r.manifest().stages().stream().map(RunManifest.StageRecord::name).toList());
  }

  @Test
  void sameSeedSameLabelsWhateverTheInputPartitioning() {
    SparkSession spark = SparkTestSession.get();
    String a = dir.resolve("det-a").toString();
    String b = dir.resolve("det-b").toString();
    run(a, Map.of("relabel.consensus.predict", "in-sample"));
    // the same rows, laid out in one file instead of three
    String single = dir.resolve("in-single").toString();
    spark.read().parquet(input).coalesce(1).write().parquet(single);
    Settings s = Settings.defaults().with(FAST).with(Map.of("relabel.consensus.predict", "in-sample"));
    new RelabelJob(spark, s).run(single, b, false, "test");
    Dataset<Row> left = spark.read().parquet(a).select("id", "label_corrected", "label_confidence");
    Dataset<Row> right = spark.read().parquet(b).select("id", "label_corrected", "label_confidence");
    assertEquals(0, left.except(right).count());
    assertEquals(2400, left.join(right, "id").count());
  }

  @Test
  void existingOutputIsRefusedBeforeAnyWork() {
    String out = dir.resolve("exists").toString();
    assertTrue(dir.resolve("exists").toFile().mkdirs());
    RelabelException e = assertThrows(RelabelException.class, () -> run(out, Map.of()));
    assertTrue(e.getMessage().contains("exists"), e.getMessage());
  }

  @Test
  void badInputStopsBeforeAnythingIsWritten() {
    SparkSession spark = SparkTestSession.get();
    String bad = dir.resolve("bad").toString();
    spark.read().parquet(input).withColumn("id", col("id").mod(100)).write().parquet(bad);
    String out = dir.resolve("bad-out").toString();
    Settings s = Settings.defaults().with(FAST);
    RelabelException e = assertThrows(RelabelException.class,
        () -> new RelabelJob(spark, s).run(bad, out, false, "test"));
    assertEquals("column 'id' must be unique, but 100 ids occur more than once (2400 rows in all); the first is id 0,"
        + " which occurs 24 times", e.getMessage());
    assertFalse(Files.exists(Path.of(out)));
  }

  @Test
  void theAgreePolicyChangesALabelOnlyWhereTheModelAndHdlAgree() {
    String out = dir.resolve("agree").toString();
    run(out, Map.of("relabel.decide.policy", "agree"));
    Dataset<Row> o = SparkTestSession.get().read().parquet(out);
    long changed = o.filter(col("label_changed")).count();
    assertTrue(changed > 0, "nothing changed");
    assertEquals(0, o.filter(col("label_changed").and(col("label").isNotNull())
        .and(not(col("hdl_label").eqNullSafe(col("label_corrected"))))).count());
  }

  @Test
  void everyChangedRowSaysWhichMethodsVotedForItAndEachDetectorIsScored() throws Exception {
    String out = dir.resolve("vote").toString();
    RelabelJob.Result r = run(out, Map.of("relabel.decide.policy", "vote", "relabel.decide.minVotes", "3"));
    Dataset<Row> o = SparkTestSession.get().read().parquet(out);
    Dataset<Row> changed = o.filter(col("label_changed").and(col("label").isNotNull()));
    long n = changed.count();
    assertTrue(n > 100, "changed " + n);
    // at least 3 of the 4 voters (model, consensus, cl, hdl) named the new label, and the audit lists them
    for (Row row : changed.select("label_corrected", "relabel_reasons").collectAsList()) {
      int corrected = row.getInt(0);
      long forIt = row.<Row>getList(1).stream().filter(x -> x.<Integer>getAs("label") == corrected).count();
      assertTrue(forIt >= 3, "row changed to " + corrected + " with reasons " + row.getList(1));
    }
    // an unchanged labeled row's audit never names its own label
    assertEquals(0, o.filter(col("label").isNotNull().and(functions.exists(col("relabel_reasons"),
        x -> x.getField("label").equalTo(col("label"))))).count());
    // confident learning flags only untrusted training rows, and scores each of them
    assertEquals(0, o.filter(col("cl_issue").and(col("trusted").or(col("split").equalTo("test")))).count());
    assertEquals(0, o.filter(col("split").equalTo("train").and(not(col("trusted")))
        .and(col("cl_quality").isNull().or(col("cl_issue").isNull()))).count());
    RunManifest m = r.manifest();
    for (String d : List.of("model", "consensus", "cl", "hdl", "decision")) {
      double auroc = ((Number) m.getMetric("eval.detect." + d + ".auroc")).doubleValue();
      double precision = ((Number) m.getMetric("eval.detect." + d + ".precision")).doubleValue();
      assertTrue(auroc > 0.7 && auroc <= 1, d + " AUROC " + auroc);
      assertTrue(precision > 0.5, d + " precision " + precision);
    }
    assertEquals(n, ((Number) m.getMetric("eval.detect.decision.flagged")).longValue());
    assertTrue(((Number) m.getMetric("cl.issues")).longValue() > 100);
    assertTrue(m.getMetric("cl.noiseMatrix") instanceof List<?> rows && rows.size() == 4);
  }

  @Test
  void aVoteThatCanNeverPassIsRefused() {
    RelabelException e = assertThrows(RelabelException.class, () -> run(dir.resolve("five").toString(),
        Map.of("relabel.decide.policy", "vote", "relabel.decide.voters", "model,cl", "relabel.decide.minVotes", "3")));
    assertEquals("relabel.decide.minVotes=3 can never be reached by 2 voter(s) [model, cl]; lower it or add voters"
        + " (relabel.decide.voters)", e.getMessage());
    e = assertThrows(RelabelException.class, () -> run(dir.resolve("no-cl").toString(),
        Map.of("relabel.decide.policy", "cl", "relabel.cl.enabled", "false")));
    assertEquals("relabel.decide.policy=cl needs the cl stage; set relabel.cl.enabled=true, or relabel.decide.policy"
        + " to model", e.getMessage());
  }

  @Test
  void privatisedLabelsAreTheLabelsGivenAndTheEpsilonIsRecorded() throws Exception {
    String out = dir.resolve("dp").toString();
    RelabelJob.Result r = run(out, Map.of("relabel.privacy.mechanism", "rr", "relabel.privacy.epsilon", "1.5",
        "relabel.eval.compareRetrain", "true", "relabel.hdl.mode", "off", "relabel.privacy.seed", "987654321"));
    // the secret seed never reaches the manifest written beside the output
    String written = Files.readString(Path.of(out, RunManifest.FILE_NAME));
    assertTrue(written.contains("\"relabel.privacy.seed\" : \"redacted\""), written);
    assertFalse(written.contains("987654321"));
    Dataset<Row> o = SparkTestSession.get().read().parquet(out);
    Dataset<Row> privatised = o.filter(col("split").equalTo("train").and(not(col("trusted"))));
    long rows = privatised.count();
    long moved = privatised.filter(col("label_given").notEqual(col("label"))).count();
    // RR over 4 classes at epsilon 1.5 keeps a label with probability e^1.5 / (e^1.5 + 3) = 0.599
    double keep = Math.exp(1.5) / (Math.exp(1.5) + 3);
    assertEquals(1 - keep, (double) moved / rows, 4 * Math.sqrt(keep * (1 - keep) / rows));
    // trusted and held-out rows are not privatised; the input's own label column is left as it was
    assertEquals(0, o.filter(col("trusted").or(col("split").equalTo("test"))
        .and(col("label_given").notEqual(col("label")))).count());
    assertEquals(0, o.filter(col("label_changed").notEqual(not(col("label_corrected").eqNullSafe(col("label_given")))))
        .count());
    RunManifest m = r.manifest();
    assertEquals("rr", m.getMetric("privacy.mechanism"));
    assertEquals(1.5, ((Number) m.getMetric("privacy.epsilon")).doubleValue());
    assertEquals(rows, ((Number) m.getMetric("privacy.rows")).longValue());
    assertEquals(List.of("validate", "embed", "privatize", "cross-fit", "confident-learning", "retrain", "ceiling",
        "correct", "evaluate", "write"), m.stages().stream().map(RunManifest.StageRecord::name).toList());
    // scored against the labels as given: the privatised labels' accuracy is RR's keep rate, and retraining helps
    assertEquals(keep * 0.7 + (1 - keep) * 0.3 / 3, ((Number) m.getMetric("eval.train.givenAccuracy")).doubleValue(),
        0.05);
    double consensus = ((Number) m.getMetric("eval.test.consensusRetrainAccuracy")).doubleValue();
    double full = ((Number) m.getMetric("eval.test.fullRetrainAccuracy")).doubleValue();
    assertEquals(consensus, ((Number) m.getMetric("eval.test.retrainedAccuracy")).doubleValue());
    assertTrue(consensus > 0.8 && full > 0.8, "consensus " + consensus + ", full " + full);
  }

  @Test
  void aPolicyThatNeedsHdlIsRefusedWhenHdlIsOff() {
    RelabelException e = assertThrows(RelabelException.class,
        () -> run(dir.resolve("no-hdl").toString(), Map.of("relabel.decide.policy", "hdl", "relabel.hdl.mode", "off")));
    assertEquals("relabel.decide.policy=hdl needs the hdl stage; set relabel.hdl.mode to fill or noise, or"
        + " relabel.decide.policy to model", e.getMessage());
  }

  static final Map<String, String> EMLC = Map.ofEntries(Map.entry("relabel.emlc.mode", "emlc"),
      Map.entry("relabel.decide.policy", "model"),
      Map.entry("relabel.hdl.mode", "off"), Map.entry("relabel.emlc.epochs", "4"),
      Map.entry("relabel.emlc.studentHidden", "32"), Map.entry("relabel.emlc.teacherWidth", "32"),
      Map.entry("relabel.emlc.labelEmbedding", "16"), Map.entry("relabel.emlc.gateHidden", "16"),
      Map.entry("relabel.emlc.validationShare", "0.3"));

  @Test
  void emlcCorrectsToTheArgmaxOfItsSoftLabelAndWritesIt() throws Exception {
    String out = dir.resolve("emlc").toString();
    RelabelJob.Result r = run(out, EMLC);
    Dataset<Row> o = SparkTestSession.get().read().parquet(out);
    assertTrue(List.of(o.columns()).contains("emlc_soft_label"));
    assertEquals(0, o.filter(col("trusted").or(col("split").equalTo("test")).and(col("label_changed"))).count());
    long checked = 0;
    for (Row row : o.filter(not(col("trusted")).and(col("split").equalTo("train")))
        .select("label_corrected", "emlc_soft_label", "label_confidence").collectAsList()) {
      List<Object> soft = row.getList(1);
      int best = 0;
      for (int c = 1; c < soft.size(); c++) {
        best = ((Number) soft.get(c)).floatValue() > ((Number) soft.get(best)).floatValue() ? c : best;
      }
      assertEquals(best, row.getInt(0));
      assertEquals(((Number) soft.get(best)).doubleValue(), row.getDouble(2), 1e-6);
      checked++;
    }
    assertTrue(checked > 1500, "checked " + checked);
    RunManifest m = r.manifest();
    assertEquals(List.of("validate", "embed", "cross-fit", "confident-learning", "retrain", "emlc", "ceiling", "correct",
        "evaluate", "write"),
        m.stages().stream().map(RunManifest.StageRecord::name).toList());
    assertEquals(4, ((Number) m.getMetric("emlc.epochs")).intValue());
    // the trusted rows (ids 1 mod 50) are all of the odd classes: the run warns, records it and goes on
    assertEquals("0, 2", m.getMetric("emlc.trustedClassesMissing"));
    assertEquals(2L, m.getMetric("emlc.trustedClassesMissingCount"));
    double given = ((Number) m.getMetric("eval.train.givenAccuracy")).doubleValue();
    double soft = ((Number) m.getMetric("eval.emlc.softLabelAccuracy")).doubleValue();
    assertTrue(soft > given + 0.15, "soft-label accuracy " + soft + " vs given " + given);
    assertTrue(((Number) m.getMetric("eval.test.emlcStudentAccuracy")).doubleValue() > 0.85);
  }

  @Test
  void emlcWithoutATrustedColumnIsRefused() {
    SparkSession spark = SparkTestSession.get();
    String noTrusted = dir.resolve("no-trusted").toString();
    spark.read().parquet(input).drop("trusted").write().parquet(noTrusted);
    Settings s = Settings.defaults().with(FAST).with(EMLC);
    RelabelException e = assertThrows(RelabelException.class,
        () -> new RelabelJob(spark, s).run(noTrusted, dir.resolve("no-trusted-out").toString(), false, "test"));
    assertEquals("relabel.emlc.mode=emlc trains its teacher on trusted rows, but the input has no column trusted"
        + " (relabel.input.trustedCol); mark a few hundred verified rows or set relabel.emlc.mode=off", e.getMessage());
  }
}
