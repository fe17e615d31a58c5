package io.relabel.spark.stage;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.core.config.Settings;
import io.relabel.core.util.RowSeeds;
import io.relabel.spark.SparkTestSession;
import io.relabel.spark.cli.RelabelException;
import io.relabel.spark.embed.VectorEncoder;
import io.relabel.spark.io.RunManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dated, incremental runs: a re-run of a date gives an identical partition; the next date embeds and scores only
 * new and changed rows (reuse) or embeds only them and retrains (refresh); a changed schema or setting is refused.
 */
@Tag("spark")
class IncrementalRunTest {

  @TempDir static Path dir;
  static final LocalDate DAY1 = LocalDate.of(2026, 11, 1);
  static final LocalDate DAY2 = LocalDate.of(2026, 11, 2);
  static final int ROWS = 1200;
  static final int DIM = 10;
  static String day1;
  static String day2;
  /** An output root holding day 1's committed partition (one run, copied by each test that starts from it). */
  static Path base;

  static final Map<String, String> FAST = Map.of(
      "relabel.train.epochs", "4",
      "relabel.consensus.retrainEpochs", "4",
      "relabel.train.hiddenUnits", "16",
      "relabel.train.averagingFrequency", "10",
      "relabel.embed.pcaDims", "5",
      "relabel.embed.fitRows", "500",
      "relabel.consensus.folds", "2");

  /**
   * Day 1: 1,200 rows of 4 Gaussian classes. Day 2: ids 0..29 are gone, 60 rows changed (ids 100..139 moved
   * features, ids 200..219 changed label) and ids 1200..1249 are new: 1,220 rows, 1,110 unchanged.
   */
  @BeforeAll
  static void writeInputs() {
    day1 = dir.resolve("day1").toString();
    day2 = dir.resolve("day2").toString();
    write(day1, rows(0, ROWS, false));
    List<Row> next = new ArrayList<>(rows(30, ROWS + 50, true));
    write(day2, next);
    base = dir.resolve("base");
    run(day1, base.toString(), DAY1, Map.of());
  }

  /** A new output root with day 1's partition in it. */
  static String fromDay1(String name) throws java.io.IOException {
    Path to = dir.resolve(name);
    try (java.util.stream.Stream<Path> all = Files.walk(base)) {
      for (Path p : all.toList()) {
        Path q = to.resolve(base.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(q);
        } else {
          Files.copy(p, q);
        }
      }
    }
    return to.toString();
  }

  static List<Row> rows(int from, int to, boolean changed) {
    Random r = new Random(3);
    double[][] centers = new double[4][DIM];
    for (double[] c : centers) {
      for (int j = 0; j < DIM; j++) {
        c[j] = r.nextGaussian() * 1.5;
      }
    }
    List<Row> out = new ArrayList<>();
    for (long id = from; id < to; id++) {
      int y = (int) (id % 4);
      float[] x = new float[DIM];
      Random noise = new Random(RowSeeds.bits(9, "x", id, 0));
      for (int j = 0; j < DIM; j++) {
        x[j] = (float) (centers[y][j] + noise.nextGaussian());
      }
      int given = RowSeeds.uniform(9, "noise", id, 0) < 0.2 ? (y + 1) % 4 : y;
      if (changed && id >= 100 && id < 140) {
        x[0] += 0.5f;
      }
      if (changed && id >= 200 && id < 220) {
        given = (given + 2) % 4;
      }
      out.add(RowFactory.create(id, x, given, id % 5 == 0 ? "test" : "train", "note" + id));
    }
    return out;
  }

  static void write(String path, List<Row> rows) {
    StructType schema = new StructType()
        .add("id", DataTypes.LongType)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType))
        .add("label", DataTypes.IntegerType)
        .add("split", DataTypes.StringType)
        .add("note", DataTypes.StringType);
    SparkTestSession.get().createDataFrame(rows, schema).repartition(2).write().parquet(path);
  }

  static RelabelJob.Result run(String input, String out, LocalDate date, Map<String, String> extra) {
    Settings s = Settings.defaults().with(FAST).with(extra);
    return new RelabelJob(SparkTestSession.get(), s).run(input, out, false, "test", date);
  }

  static List<Row> sorted(String path) {
    Dataset<Row> t = SparkTestSession.get().read().parquet(path);
    return t.orderBy("id").collectAsList();
  }

  static RunManifest manifest(String partition) throws Exception {
    return RunManifest.fromJson(Files.readString(Path.of(partition, RunManifest.FILE_NAME)));
  }

  static long metric(RunManifest m, String key) {
    Object v = m.getMetric(key);
    assertNotNull(v, "metric " + key);
    return ((Number) v).longValue();
  }

  @Test
  void reRunOfADateIsIdenticalAndTheNextDateReusesUnchangedRows() throws Exception {
    String out = fromDay1("nightly");
    String p1 = Incremental.partitionPath(out, DAY1);
    RunManifest first = manifest(p1);
    assertTrue(first.runId().startsWith("2026-11-01-"), first.runId());
    List<Row> before = sorted(p1);
    assertEquals(ROWS, before.size());
    assertEquals(ROWS, Incremental.readState(SparkTestSession.get(), p1).count());
    for (String f : List.of(Incremental.STATE_INFO, Incremental.ENCODER_FILE, Incremental.BASELINE_FILE,
        Incremental.FINAL_FILE)) {
      assertTrue(Files.isRegularFile(Path.of(p1, f)), "no " + f + " in " + p1);
    }

    // the same date, input and settings again: the partition is replaced by an identical one
    RelabelJob.Result again = run(day1, out, DAY1, Map.of());
    assertEquals(p1, again.outputPath());
    assertEquals(first.runId(), again.runId());
    assertEquals(before, sorted(p1));

    // the next date: only the 50 new and 60 changed rows are embedded and scored, by the stored models
    RelabelJob.Result next = run(day2, out, DAY2, Map.of("relabel.incremental.mode", "reuse"));
    String p2 = Incremental.partitionPath(out, DAY2);
    RunManifest m = manifest(p2);
    assertEquals(1110, metric(m, "incremental.rowsUnchanged"));
    assertEquals(50, metric(m, "incremental.rowsNew"));
    assertEquals(60, metric(m, "incremental.rowsChanged"));
    assertEquals(30, metric(m, "incremental.rowsGone"));
    assertEquals(110, metric(m, "incremental.rowsEmbedded"));
    assertEquals(110, metric(m, "incremental.rowsScored"));
    assertEquals("2026-11-01", m.getMetric("incremental.previousRunDate"));
    String report = Report.render(m.toJson());
    assertTrue(report.contains("incremental (reuse) against the run of 2026-11-01:"), report);
    assertTrue(report.matches("(?s).*rows embedded +110\n.*"), report);
    // the state keeps what the skipped stages cost on the whole table, for the next run's estimate
    String state = Files.readString(Path.of(Incremental.partitionPath(out, DAY2), Incremental.STATE_INFO));
    assertTrue(state.contains("\"cross-fit\""), state);
    assertEquals(List.of("validate", "embed", "score-changed"),
        m.stages().stream().map(RunManifest.StageRecord::name).toList(), "no model is trained");
    assertEquals(before, sorted(p1), "the day-1 partition is left alone");

    List<Row> after = sorted(p2);
    assertEquals(ROWS - 30 + 50, after.size());
    Map<Long, Row> old = new HashMap<>();
    before.forEach(r -> old.put(r.getLong(0), r));
    int kept = 0;
    for (Row r : after) {
      long id = r.getLong(0);
      boolean changed = id < 30 || id >= ROWS || id >= 100 && id < 140 || id >= 200 && id < 220;
      int corrected = r.fieldIndex("label_corrected");
      int reasons = r.fieldIndex("relabel_reasons");
      int hdl = r.fieldIndex("hdl_label");
      assertEquals(next.runId(), r.getString(r.fieldIndex("relabel_run_id")));
      if (!changed) {
        Row o = old.get(id);
        assertEquals(o.get(corrected), r.get(corrected), "kept decision of id " + id);
        assertEquals(o.get(r.fieldIndex("label_confidence")), r.get(r.fieldIndex("label_confidence")));
        assertEquals(o.get(reasons), r.get(reasons));
        assertEquals(o.get(hdl), r.get(hdl));
        kept++;
      } else {
        assertNull(r.get(hdl), "HDL did not run for changed id " + id);
        assertNotNull(r.get(corrected), "changed id " + id + " is decided");
      }
      assertEquals(!r.get(corrected).equals(r.get(r.fieldIndex("label"))), r.getBoolean(r.fieldIndex("label_changed")));
    }
    assertEquals(1110, kept);
    // reading the table root sees both dates as a partition column
    assertEquals(2, SparkTestSession.get().read().parquet(out).select("run_date").distinct().count());
  }

  @Test
  void refreshEmbedsOnlyChangedRowsWithTheStoredEncoderAndRetrains() throws Exception {
    String out = fromDay1("refresh");
    String p1 = Incremental.partitionPath(out, DAY1);
    run(day2, out, DAY2, Map.of("relabel.incremental.mode", "refresh"));
    String p2 = Incremental.partitionPath(out, DAY2);
    RunManifest m = manifest(p2);
    assertEquals(110, metric(m, "incremental.rowsEmbedded"));
    assertTrue(m.stages().stream().anyMatch(s -> s.name().equals("cross-fit")), "refresh retrains");

    SparkSession spark = SparkTestSession.get();
    Map<Long, float[]> e1 = embeddings(spark, p1);
    Map<Long, float[]> e2 = embeddings(spark, p2);
    assertEquals(ROWS - 30 + 50, e2.size());
    VectorEncoder enc = VectorEncoder.restore(spark, Files.readAllBytes(Path.of(p1, Incremental.ENCODER_FILE)));
    Map<Long, float[]> features = new TreeMap<>();
    rows(30, ROWS + 50, true).forEach(r -> features.put(r.getLong(0), (float[]) r.get(1)));
    for (Map.Entry<Long, float[]> e : e2.entrySet()) {
      long id = e.getKey();
      boolean changed = id >= ROWS || id >= 100 && id < 140 || id >= 200 && id < 220;
      if (!changed) {
        assertArrayEquals(e1.get(id), e.getValue(), "reused embedding of id " + id);
      } else {
        float[] expected = enc.encode(List.of(features.get(id)))[0];
        assertArrayEquals(expected, e.getValue(), "embedding of changed id " + id + " by the stored encoder");
        if (e1.containsKey(id) && id >= 100 && id < 140) {
          assertFalse(java.util.Arrays.equals(e1.get(id), e.getValue()), "moved features, new embedding " + id);
        }
      }
    }
  }

  static Map<Long, float[]> embeddings(SparkSession spark, String partition) {
    Map<Long, float[]> m = new TreeMap<>();
    for (Row r : Incremental.readState(spark, partition).collectAsList()) {
      List<Float> v = r.getList(r.fieldIndex(Incremental.STATE_EMBEDDING));
      float[] a = new float[v.size()];
      for (int i = 0; i < a.length; i++) {
        a[i] = v.get(i);
      }
      m.put(r.getLong(r.fieldIndex(Incremental.STATE_ID)), a);
    }
    return m;
  }

  @Test
  void refusesWhatCannotBeIncremental() throws Exception {
    String out = dir.resolve("refuse").toString();
    RelabelException noDate = assertThrows(RelabelException.class,
        () -> run(day1, out, null, Map.of("relabel.incremental.mode", "refresh")));
    assertEquals("relabel.incremental.mode=refresh compares with the last committed run date, so it needs"
        + " --run-date YYYY-MM-DD", noDate.getMessage());
    assertFalse(Files.exists(Path.of(out)));

    String dated = fromDay1("refuse-dated");
    // a setting the stored models answer for has changed
    RelabelException setting = assertThrows(RelabelException.class, () -> run(day2, dated, DAY2,
        Map.of("relabel.incremental.mode", "reuse", "relabel.train.epochs", "5")));
    assertEquals("relabel.incremental.mode=reuse: setting relabel.train.epochs was '4' in the run of 2026-11-01,"
        + " now '5'; its models answer for the old settings: use refresh", setting.getMessage());

    // the features changed type between runs
    String doubles = dir.resolve("day2-doubles").toString();
    SparkTestSession.get().read().parquet(day2)
        .withColumn("features", col("features").cast("array<double>")).write().parquet(doubles);
    RelabelException schema = assertThrows(RelabelException.class, () -> run(doubles, dated, DAY2,
        Map.of("relabel.incremental.mode", "refresh")));
    assertEquals("the input's schema changed since the run of 2026-11-01 (" + Incremental.partitionPath(dated, DAY1)
        + "): column 'features' was array<float>, now array<double>; run once with relabel.incremental.mode=off to"
        + " start a new state", schema.getMessage());
    assertFalse(Files.exists(Path.of(Incremental.partitionPath(dated, DAY2))), "nothing written for a refused run");

    RelabelException badDate = assertThrows(RelabelException.class, () -> Incremental.parseDate("2026-13-01"));
    assertEquals("--run-date must be a date YYYY-MM-DD, not '2026-13-01'", badDate.getMessage());
  }
}
