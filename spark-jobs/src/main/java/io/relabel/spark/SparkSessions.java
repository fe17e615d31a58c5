package io.relabel.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/** Builds the SparkSession of a command: the master spark-submit chose, an explicit one, or local[*]. */
public final class SparkSessions {

  private SparkSessions() {}

  public static SparkSession getOrCreate(String appName, String master) {
    SparkConf conf = new SparkConf(true);
    if (master != null && !master.isBlank()) {
      conf.setMaster(master);
    } else if (!conf.contains("spark.master")) {
      conf.setMaster("local[*]");
    }
    boolean local = conf.get("spark.master").startsWith("local");
    conf.setIfMissing("spark.app.name", appName);
    // DL4J's DataSet/INDArray travel through Kryo with ND4J's registrator.
    conf.setIfMissing("spark.serializer", "org.apache.spark.serializer.KryoSerializer");
    conf.setIfMissing("spark.kryo.registrator", "org.nd4j.kryo.Nd4jRegistrator");
    conf.setIfMissing("spark.sql.shuffle.partitions", "8");
    conf.setIfMissing("spark.sql.parquet.compression.codec", "snappy");
    if (local) {
      conf.setIfMissing("spark.ui.enabled", "false");
      conf.setIfMissing("spark.driver.host", "127.0.0.1");
      conf.setIfMissing("spark.driver.bindAddress", "127.0.0.1");
    }
    return SparkSession.builder().config(conf).getOrCreate();
  }
}
