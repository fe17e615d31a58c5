package io.relabel.spark.io;

import static io.relabel.spark.FileTrees.names;
import static io.relabel.spark.FileTrees.snapshot;
import static io.relabel.spark.io.Tables.f;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import static io.relabel.spark.FileTrees.names;
import static io.relabel.spark.FileTrees.snapshot;

import io.relabel.spark.SparkTestSession;
import io.relabel.spark.cli.RelabelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("spark")
class TableWriterTest {

  /** Fails on row id 57 only: the job is well under way when it dies. */
  private static final UserDefinedFunction FAIL_ON_57 = functions.udf((UDF1<Long, Long>) id -> {
    if (id == 57L) {
      throw new IllegalStateException("injected failure on row 57");
    }
    return id;
  }, DataTypes.LongType);

  private static final UserDefinedFunction ALWAYS_FAIL = functions.udf((UDF1<Long, Long>) id -> {
    throw new IllegalStateException("this table must not be computed");
  }, DataTypes.LongType);

  @TempDir Path dir;

  private static SparkSession spark() {
    return SparkTestSession.get();
  }

  private static Dataset<Row> rows(long n) {
    return spark().range(0, n, 1, 4).toDF("id").withColumn("x", functions.col("id").multiply(2));
  }

  @Test
  void writesTheTableAndItsSidecarsAndLeavesNothingElse() throws Exception {
    String out = dir.resolve("out").toString();
    TableWriter.writeAtomically(rows(100), out, false, Map.of(RunManifest.FILE_NAME, "{\"a\": 1}\n"));
    assertEquals(List.of("out"), names(dir));
    assertEquals(100, spark().read().parquet(out).count());
    assertEquals("{\"a\": 1}\n", Files.readString(dir.resolve("out").resolve(RunManifest.FILE_NAME)));
    assertTrue(Files.exists(dir.resolve("out").resolve("_SUCCESS")));
  }

  @Test
  void sidecarsCanBeMadeFromTheRowsWritten() throws Exception {
    String out = dir.resolve("nested/deeper/out").toString();
    long n = TableWriter.writeAtomically(rows(37), out, false, rowsWritten -> Map.of("_rows", "" + rowsWritten));
    assertEquals(37, n);
    assertEquals("37", Files.readString(Path.of(out, "_rows")));
    assertEquals(List.of("out"), names(dir.resolve("nested/deeper")));
  }

  @Test
  void anEmptyTableIsWrittenWithItsSchema() throws Exception {
    String out = dir.resolve("out").toString();
    long n = TableWriter.writeAtomically(rows(10).where("id < 0"), out, false, r -> Map.of("_rows", "" + r));
    assertEquals(0, n);
    assertEquals(List.of("id", "x"), List.of(spark().read().parquet(out).schema().fieldNames()));
    assertEquals(List.of("out"), names(dir));
  }

  @Test
  void existingOutputIsRefusedBeforeAnythingIsComputed() throws Exception {
    String out = dir.resolve("out").toString();
    TableWriter.writeAtomically(rows(10), out, false, Map.of());
    Dataset<Row> poisoned = rows(10).withColumn("y", ALWAYS_FAIL.apply(functions.col("id")));
    RelabelException e = assertThrows(RelabelException.class,
        () -> TableWriter.writeAtomically(poisoned, out, false, Map.of()));
    assertEquals("output " + out + " already exists; refusing to replace it (overwrite was not requested)",
        e.getMessage());
    assertEquals(10, spark().read().parquet(out).count());
    assertEquals(List.of("out"), names(dir));
  }

  @Test
  void overwriteReplacesTheOldOutput() throws Exception {
    String out = dir.resolve("out").toString();
    TableWriter.writeAtomically(rows(10), out, false, Map.of("_old", "old"));
    TableWriter.writeAtomically(rows(25), out, true, Map.of("_new", "new"));
    assertEquals(25, spark().read().parquet(out).count());
    assertTrue(Files.exists(dir.resolve("out/_new")));
    assertFalse(Files.exists(dir.resolve("out/_old")));
    assertEquals(List.of("out"), names(dir));
  }

  @Test
  void aJobThatFailsMidwayLeavesNoTargetAndNoStaging() throws Exception {
    String out = dir.resolve("out").toString();
    Dataset<Row> failing = rows(200).withColumn("y", FAIL_ON_57.apply(functions.col("id")));
    Exception e = assertThrows(Exception.class, () -> TableWriter.writeAtomically(failing, out, false, Map.of()));
    assertTrue(rootMessage(e).contains("injected failure on row 57"), rootMessage(e));
    assertEquals(List.of(), names(dir));
  }

  @Test
  void aFailedOverwriteKeepsTheOldOutput() throws Exception {
    String out = dir.resolve("out").toString();
    TableWriter.writeAtomically(rows(10), out, false, Map.of("_manifest.json", "old"));
    Map<String, String> before = snapshot(dir.resolve("out"));
    Dataset<Row> failing = rows(200).withColumn("y", FAIL_ON_57.apply(functions.col("id")));
    assertThrows(Exception.class, () -> TableWriter.writeAtomically(failing, out, true, Map.of()));
    assertEquals(before, snapshot(dir.resolve("out")));
    assertEquals(List.of("out"), names(dir));
  }

  /** {@code local} under the scheme of {@link FaultyFileSystem}. */
  private static String faulty(String local) {
    spark().sparkContext().hadoopConfiguration().set("fs." + FaultyFileSystem.SCHEME + ".impl",
        FaultyFileSystem.class.getName());
    return FaultyFileSystem.SCHEME + "://" + local;
  }

  @Test
  void aFailedFinalRenameRestoresTheOldOutput() throws Exception {
    String local = dir.resolve("out").toString();
    String out = faulty(local);
    TableWriter.writeAtomically(rows(10), out, false, Map.of("_manifest.json", "old"));
    Map<String, String> before = snapshot(dir.resolve("out"));
    FaultyFileSystem.refuseRenameOnto = local;
    try {
      RelabelException e = assertThrows(RelabelException.class,
          () -> TableWriter.writeAtomically(rows(20), out, true, Map.of("_manifest.json", "new")));
      assertTrue(e.getMessage().startsWith("output " + out + ": could not rename "), e.getMessage());
    } finally {
      FaultyFileSystem.refuseRenameOnto = null;
    }
    assertEquals(before, snapshot(dir.resolve("out")));
    assertEquals(List.of("out"), names(dir));
  }

  @Test
  void aFullDiskIsOneClearErrorAndLeavesNothing() throws Exception {
    // the double of a full disk; ClusterFaultIT fills a real tiny tmpfs from an executor where it may mount one
    String out = faulty(dir.resolve("out").toString());
    FaultyFileSystem.fullUnder = dir.toString();
    try {
      RelabelException e = assertThrows(RelabelException.class,
          () -> TableWriter.writeAtomically(rows(100), out, false, Map.of("_manifest.json", "{}")));
      assertEquals("output " + out + " was not written: No space left on device", e.getMessage());
    } finally {
      FaultyFileSystem.fullUnder = null;
    }
    assertEquals(List.of(), names(dir));
  }

  @Test
  void staleStagingDirectoriesOfTheTargetAreRemovedBeforeWriting() throws Exception {
    String uuid = "0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9";
    Path stale = Files.createDirectories(dir.resolve(".out.staging-" + uuid + "/_temporary/0"));
    Files.writeString(stale.resolve("part-00000.parquet"), "half written");
    Files.createDirectories(dir.resolve(".out.staging-" + uuid.replace('0', '1')));
    // kept: another target's staging, names that are not exactly a staging name, an old output moved aside
    Files.createDirectories(dir.resolve(".out2.staging-" + uuid));
    Files.createDirectories(dir.resolve(".out.staging-" + uuid + "x"));
    Files.createDirectories(dir.resolve("out.staging-" + uuid));
    Files.createDirectories(dir.resolve(".out.old-" + uuid));
    String out = dir.resolve("out").toString();
    TableWriter.writeAtomically(rows(10), out, false, Map.of());
    assertEquals(List.of(".out.old-" + uuid, ".out.staging-" + uuid + "x", ".out2.staging-" + uuid, "out",
        "out.staging-" + uuid), names(dir));
    assertEquals(10, spark().read().parquet(out).count());
  }

  @Test
  void theManifestTravelsAsASidecarWithTheRowsWritten() throws Exception {
    String out = dir.resolve("out").toString();
    RunManifest m = new RunManifest("r", "run", "0.1.0", java.time.Instant.now(), "local[2]", 2, Map.of());
    TableWriter.writeAtomically(rows(12), out, false, n -> m.setOutput(out, n).finish().asSidecar());
    RunManifest back = RunManifest.fromJson(Files.readString(dir.resolve("out").resolve(RunManifest.FILE_NAME)));
    assertEquals(12L, back.outputRows());
    assertEquals(out, back.outputPath());
  }

  @Test
  void theInputIsNeverModified() throws Exception {
    String in = dir.resolve("in").toString();
    Tables.standard().row(1L, f(1, 2), 1L).row(2L, f(3, 4), 0L).build().write().parquet(in);
    Map<String, String> before = snapshot(dir.resolve("in"));
    Dataset<Row> input = InputReader.read(spark(), in);
    Dataset<Row> derived = input.withColumn("label", functions.lit(5L));
    TableWriter.writeAtomically(derived, dir.resolve("out").toString(), false, Map.of("_m", "x"));
    TableWriter.writeAtomically(derived, dir.resolve("out").toString(), true, Map.of("_m", "y"));
    assertEquals(before, snapshot(dir.resolve("in")));

    RelabelException e = assertThrows(RelabelException.class,
        () -> TableWriter.writeAtomically(derived, in, true, Map.of()));
    assertEquals("output " + in + " holds the input this table is read from; write to another path",
        e.getMessage());
    assertEquals(before, snapshot(dir.resolve("in")));
    assertEquals(List.of("in", "out"), names(dir));
  }

  @Test
  void badSidecarNameIsRefusedBeforeWriting() throws Exception {
    String out = dir.resolve("out").toString();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> TableWriter.writeAtomically(rows(5), out, false, Map.of("manifest.json", "{}")));
    assertEquals("sidecar file name 'manifest.json' must start with '_' and contain no '/'", e.getMessage());
    assertEquals(List.of(), names(dir));
  }

  @Test
  void checkWritableRefusesAParentThatIsAFile() throws Exception {
    Files.writeString(dir.resolve("file"), "x");
    String out = dir.resolve("file/sub/out").toString();
    RelabelException e = assertThrows(RelabelException.class,
        () -> TableWriter.checkWritable(spark(), out, false));
    assertEquals("output " + out + " cannot be created: " + dir.resolve("file") + " is not a directory",
        e.getMessage());
  }

  @Test
  void checkWritableRefusesExistingOutputUnlessOverwriting() throws Exception {
    Files.createDirectories(dir.resolve("out"));
    String out = dir.resolve("out").toString();
    RelabelException e = assertThrows(RelabelException.class,
        () -> TableWriter.checkWritable(spark(), out, false));
    assertEquals("output " + out + " already exists; refusing to replace it (overwrite was not requested)",
        e.getMessage());
    TableWriter.checkWritable(spark(), out, true);
    TableWriter.checkWritable(spark(), dir.resolve("new/out").toString(), false);
    assertEquals(List.of("out"), names(dir));
  }

  @Test
  void checkWritableRefusesAReadOnlyDirectory() throws Exception {
    assumeFalse("root".equals(System.getProperty("user.name")), "root may write anywhere");
    Path ro = Files.createDirectories(dir.resolve("ro"));
    Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("r-xr-xr-x"));
    try {
      String out = ro.resolve("out").toString();
      RelabelException e = assertThrows(RelabelException.class,
          () -> TableWriter.checkWritable(spark(), out, false));
      assertEquals("output " + out + " cannot be created: directory " + ro + " is not writable", e.getMessage());
    } finally {
      Files.setPosixFilePermissions(ro, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
  }

  private static String rootMessage(Throwable e) {
    StringBuilder sb = new StringBuilder();
    for (Throwable t = e; t != null; t = t.getCause()) {
      sb.append(t.getMessage()).append(" | ");
    }
    return sb.toString();
  }
}
