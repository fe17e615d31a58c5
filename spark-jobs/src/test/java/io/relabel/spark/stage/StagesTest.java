package io.relabel.spark.stage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.spark.SparkTestSession;
import io.relabel.spark.io.RunManifest;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.apache.spark.SparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

@Tag("spark")
class StagesTest {

  private static RunManifest manifest() {
    return new RunManifest("r", "run", "0.1.0", Instant.now(), "local[2]", 2, Map.of());
  }

  @Test
  void stagesAreRecordedWithRowsAndRunInTheirJobGroup() {
    SparkSession spark = SparkTestSession.get();
    SparkContext sc = spark.sparkContext();
    RunManifest m = manifest();
    Stages stages = new Stages(spark, m, 3);

    Dataset<Row> evens = stages.run("filter-evens", 10, () -> {
      Dataset<Row> out = spark.range(10).toDF("id").where("id % 2 = 0");
      Stages.rowsOut(out.count());
      return out;
    });
    long total = stages.run("sum", 5, () -> evens.groupBy().sum("id").first().getLong(0));
    Dataset<Row> dup = stages.run("union", 5, () -> evens.union(evens), Dataset::count);

    assertEquals(20L, total);
    assertEquals(10L, dup.count());
    List<RunManifest.StageRecord> recs = m.stages();
    assertEquals(List.of("filter-evens", "sum", "union"), recs.stream().map(RunManifest.StageRecord::name).toList());
    assertEquals(10L, recs.get(0).rowsIn());
    assertEquals(5L, recs.get(0).rowsOut());
    assertNull(recs.get(1).rowsOut());
    assertEquals(10L, recs.get(2).rowsOut());
    assertTrue(recs.stream().allMatch(r -> r.seconds() >= 0));
    assertEquals(3, stages.started());

    assertTrue(sc.statusTracker().getJobIdsForGroup("filter-evens").length >= 1);
    assertTrue(sc.statusTracker().getJobIdsForGroup("sum").length >= 1);
    assertTrue(sc.statusTracker().getJobIdsForGroup("union").length >= 1);
    assertNull(sc.getLocalProperty("spark.jobGroup.id"), "the job group is restored after a stage");
  }

  @Test
  void aFailingStageIsNotRecordedAndRestoresTheJobGroup() {
    SparkSession spark = SparkTestSession.get();
    RunManifest m = manifest();
    Stages stages = new Stages(spark, m, 0);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> stages.run("boom", -1, () -> {
      throw new IllegalStateException("body failed");
    }));
    assertEquals("body failed", e.getMessage());
    assertEquals(List.of(), m.stages());
    assertNull(spark.sparkContext().getLocalProperty("spark.jobGroup.id"));
  }

  @Test
  void nestedStagesReportTheirOwnRows() {
    SparkSession spark = SparkTestSession.get();
    RunManifest m = manifest();
    Stages stages = new Stages(spark, m, 0);
    stages.run("outer", 1, () -> {
      stages.run("inner", 1, () -> {
        Stages.rowsOut(2);
        return null;
      });
      assertEquals("outer", spark.sparkContext().getLocalProperty("spark.jobGroup.id"));
      Stages.rowsOut(3);
      return null;
    });
    assertEquals(List.of(new RunManifest.StageRecord("inner", m.stages().get(0).seconds(), 1L, 2L),
        new RunManifest.StageRecord("outer", m.stages().get(1).seconds(), 1L, 3L)), m.stages());
  }

  @Test
  void rowsOutOutsideAStageIsABug() {
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> Stages.rowsOut(5));
    assertEquals("Stages.rowsOut(5) called outside a stage", e.getMessage());
  }

  @Test
  void progressLinesNameTheStageRowsRateAndTimeLeft() {
    assertEquals("stage 3/9 embed: 30000 of 60000 rows (50%), 1500 rows/s, about 20 s left (Spark job 2 of the"
        + " stage, 8/16 tasks)", Stages.Progress.line("stage 3/9 embed", 60000, 8, 16, 20.0, 2));
    assertEquals("stage 1 x: 0 of 100 rows (0%) (Spark job 1 of the stage, 0/4 tasks)",
        Stages.Progress.line("stage 1 x", 100, 0, 4, 3.0, 1));
    assertEquals("stage 2/2 y: 25% of the tasks, about 9 s left (Spark job 1 of the stage, 1/4 tasks)",
        Stages.Progress.line("stage 2/2 y", -1, 1, 4, 3.0, 1));
  }

  @Test
  void aRunningStageReportsItsProgressFromItsJobGroup() {
    SparkSession spark = SparkTestSession.get();
    Stages stages = new Stages(spark, manifest(), 1).progressEvery(1);
    List<String> lines = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
    stages.progressSink = lines::add;
    long n = stages.run("slow", 6, () -> spark.range(0, 6, 1, 6).toJavaRDD().map(x -> {
      Thread.sleep(1200);
      return x;
    }).count());
    assertEquals(6L, n);
    assertTrue(lines.stream().anyMatch(l -> l.matches("stage 1/1 slow: [0-6] of 6 rows \\(\\d+%\\).*"
        + "\\(Spark job 1 of the stage, [0-6]/6 tasks\\)")), "progress lines: " + lines);
    int before = lines.size();
    stages.run("quiet", 1, () -> null);
    assertEquals(before, lines.size(), "no line after the stage ended");
  }
}
