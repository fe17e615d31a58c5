package io.relabel.spark.io;

import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SaveMode;

/**
 * Writes a table so that it appears whole or not at all. TODO(io owner): staging directory + atomic rename,
 * sidecar files (manifest), cleanup on failure, refusal to overwrite unless asked.
 */
public final class TableWriter {

  private TableWriter() {}

  /**
   * @param sidecars extra files written inside the table directory before the commit (name to UTF-8 content);
   *                 names start with '_' so Parquet readers skip them
   */
  public static void writeAtomically(Dataset<Row> table, String path, boolean overwrite,
      Map<String, String> sidecars) {
    table.write().mode(overwrite ? SaveMode.Overwrite : SaveMode.ErrorIfExists).parquet(path);
  }
}
