package io.relabel.spark;

import org.apache.spark.sql.SparkSession;

/** The one local[2] SparkSession the Spark-tier tests of a JVM share (starting one costs 1-2 s). */
public final class SparkTestSession {

  private static SparkSession session;

  private SparkTestSession() {}

  public static synchronized SparkSession get() {
    if (session == null || session.sparkContext().isStopped()) {
      session = SparkSessions.getOrCreate("relabel-test", "local[2]");
    }
    return session;
  }
}
