package io.relabel.spark.data;

import java.nio.file.Path;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.spark.sql.SparkSession;

/**
 * Gets one public data set and writes it as a Parquet table in relabel's input contract. The Spark session is
 * passed as a supplier so that a fetch that finds its table already there finishes without starting Spark.
 */
public interface DatasetFetcher {

  /**
   * @param dataDir  {@code relabel.data.dir}; the table goes to {@code <dataDir>/<name>}, downloads to a cache under
   *                 it
   * @param force    fetch and write again even when the table or a download already exists
   * @param fromDir  read the source files from this local directory instead of downloading them (may be null)
   * @param seed     {@code relabel.seed}, for data sets without a published split, whose split is drawn (WordNet)
   */
  record Request(String dataDir, boolean force, Path fromDir, long seed) {}

  /**
   * @param table          where the table is
   * @param alreadyPresent true when nothing was done because the table existed
   * @param rowsPerSplit   rows written per split (empty when nothing was written)
   * @param source         where the data came from, in words
   */
  record Result(String table, boolean alreadyPresent, Map<String, Long> rowsPerSplit, String source) {}

  Result fetch(Request request, Supplier<SparkSession> spark);
}
