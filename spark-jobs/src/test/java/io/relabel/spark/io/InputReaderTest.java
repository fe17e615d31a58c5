package io.relabel.spark.io;

import static io.relabel.spark.io.Tables.f;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.relabel.spark.SparkTestSession;
import io.relabel.spark.cli.RelabelException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@Tag("spark")
class InputReaderTest {

  private static String failure(String path) {
    return assertThrows(RelabelException.class, () -> InputReader.read(SparkTestSession.get(), path)).getMessage();
  }

  private static void writeSample(String path) {
    Tables.standard().row(1L, f(1, 2), 1L).row(2L, f(3, 4), 0L).build().write().parquet(path);
  }

  @Test
  void readsADirectoryOfPartFiles(@TempDir Path dir) {
    String path = dir.resolve("table").toString();
    writeSample(path);
    Dataset<Row> t = InputReader.read(SparkTestSession.get(), path);
    assertEquals(List.of("id", "features", "label"), List.of(t.schema().fieldNames()));
    assertEquals(2, t.count());
  }

  @Test
  void readsASingleParquetFile(@TempDir Path dir) throws Exception {
    String path = dir.resolve("table").toString();
    Tables.standard().row(1L, f(1, 2), 1L).build().coalesce(1).write().parquet(path);
    Path file;
    try (Stream<Path> s = Files.list(Path.of(path))) {
      file = s.filter(p -> p.toString().endsWith(".parquet")).findFirst().orElseThrow();
    }
    assertEquals(1, InputReader.read(SparkTestSession.get(), file.toString()).count());
  }

  @Test
  void missingPath(@TempDir Path dir) {
    String path = dir.resolve("nope").toString();
    assertEquals("input " + path + " does not exist", failure(path));
  }

  @Test
  void csvFileIsNotParquet(@TempDir Path dir) throws Exception {
    Path csv = dir.resolve("data.csv");
    Files.writeString(csv, "id,label\n1,2\n3,4\n");
    assertEquals("input " + csv + " is not a Parquet table: it is not a Parquet file (no PAR1 magic bytes)",
        failure(csv.toString()));
  }

  @Test
  void directoryOfCsvFilesIsNotParquet(@TempDir Path dir) throws Exception {
    Path table = dir.resolve("table");
    Files.createDirectories(table);
    Files.writeString(table.resolve("_SUCCESS"), "");
    Files.writeString(table.resolve("part-0.csv"), "id,label\n1,2\n3,4\n");
    assertEquals("input " + table + " is not a Parquet table: part-0.csv is not a Parquet file (no PAR1 magic"
        + " bytes)", failure(table.toString()));
  }

  @Test
  void directoryWithoutDataFiles(@TempDir Path dir) throws Exception {
    Path table = dir.resolve("table");
    Files.createDirectories(table);
    Files.writeString(table.resolve("_SUCCESS"), "");
    assertEquals("input " + table + " is not a Parquet table: it holds no data files", failure(table.toString()));
  }
}
