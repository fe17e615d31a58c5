package io.relabel.spark;

import io.relabel.spark.cli.RelabelException;
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
    boolean standalone = conf.get("spark.master").startsWith("spark://");
    SparkSession spark;
    try {
      spark = SparkSession.builder().config(conf).getOrCreate();
    } catch (IllegalStateException e) {
      // the same give-up, when it lands while the context is still being built
      if (standalone && String.valueOf(e.getMessage()).contains("stopped SparkContext")) {
        throw notAccepted(conf, e);
      }
      throw e;
    }
    // A standalone master that never answers (or refuses the handshake) gives up after three 20 s registration
    // attempts and the context stops itself in another thread; without this check the first use fails with
    // "Cannot call methods on a stopped SparkContext". Such a context never got a master's "app-..." id.
    boolean unregistered = standalone && !spark.sparkContext().applicationId().startsWith("app-");
    if (unregistered || spark.sparkContext().isStopped()) {
      throw notAccepted(conf, null);
    }
    return spark;
  }

  private static RelabelException notAccepted(SparkConf conf, Throwable cause) {
    return new RelabelException("Spark master " + conf.get("spark.master") + " did not accept this application "
        + "(a wrong or unreachable master URL, or a spark.authenticate secret that does not match the cluster's; "
        + "the warnings above say which)", cause);
  }
}
