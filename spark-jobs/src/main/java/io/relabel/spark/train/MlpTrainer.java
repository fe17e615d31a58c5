package io.relabel.spark.train;

import io.relabel.core.model.MlpModel;
import io.relabel.core.model.MlpSpec;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import org.deeplearning4j.spark.api.RDDTrainingApproach;
import org.deeplearning4j.spark.api.Repartition;
import org.deeplearning4j.spark.impl.multilayer.SparkDl4jMultiLayer;
import org.deeplearning4j.spark.impl.paramavg.ParameterAveragingTrainingMaster;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fits the base classifier across executors with dl4j-spark's parameter averaging: each worker fits
 * {@code averagingFrequency} minibatches of its partition, then the driver averages parameters and updater state and
 * broadcasts them again.
 *
 * <p>Reproducibility: the rows arrive in canonical partitions (hash of id, sorted by a per-row key), the number of
 * workers is fixed by configuration rather than read from the cluster, the training master's split seed is the run
 * seed, and no repartitioning happens inside. The same seed therefore gives the same model in local mode and on a
 * cluster; with two workers even the floating-point sum of the average is order-free (a + b = b + a).
 */
public final class MlpTrainer {

  private static final Logger LOG = LoggerFactory.getLogger(MlpTrainer.class);

  private final MlpSpec spec;
  private final int workers;
  private final int averagingFrequency;

  public MlpTrainer(MlpSpec spec, int workers, int averagingFrequency) {
    this.spec = spec;
    this.workers = workers;
    this.averagingFrequency = averagingFrequency;
  }

  /**
   * Trains on {@code rows}, which must hold a float-array column {@code xCol} and an int column {@code yCol} (class
   * index in [0, nClasses)), already in canonical partitions.
   */
  public MlpModel fit(Dataset<Row> rows, String xCol, String yCol, int nIn, int nClasses, long seed, String name) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(rows.sparkSession().sparkContext());
    int batch = spec.batchSize();
    JavaRDD<DataSet> batches = rows.select(xCol, yCol).toJavaRDD()
        .mapPartitions(it -> toBatches(it, batch, nIn, nClasses))
        .persist(StorageLevel.MEMORY_ONLY());
    try {
      long n = batches.count();
      if (n == 0) {
        throw new IllegalStateException("no rows to train " + name + " on");
      }
      SparkDl4jMultiLayer net = new SparkDl4jMultiLayer(jsc, spec.configuration(nIn, nClasses, seed),
          trainingMaster(workers, batch, averagingFrequency, seed));
      long t0 = System.nanoTime();
      for (int e = 0; e < spec.epochs(); e++) {
        net.fit(batches);
      }
      LOG.info("{}: {} epochs over {} minibatches of {} rows in {} s", name, spec.epochs(), n, batch,
          String.format("%.1f", (System.nanoTime() - t0) / 1e9));
      return MlpModel.of(net.getNetwork(), nIn, nClasses);
    } finally {
      batches.unpersist(false);
    }
  }

  /**
   * The reproducible parameter-averaging setup every relabel network is trained with, for an RDD whose elements are
   * minibatches of {@code batch} rows already in canonical partitions: the Direct approach (the Export one is
   * refused on a cluster with a {@code file:} default FS), no repartitioning, a fixed number of workers and the run
   * seed for the training master's splits.
   */
  public static ParameterAveragingTrainingMaster trainingMaster(int workers, int batch, int averagingFrequency,
      long seed) {
    return new ParameterAveragingTrainingMaster.Builder(workers, batch)
        .batchSizePerWorker(batch)
        .averagingFrequency(averagingFrequency)
        .workerPrefetchNumBatches(0)
        .rddTrainingApproach(RDDTrainingApproach.Direct)
        .storageLevel(StorageLevel.MEMORY_ONLY())
        .repartionData(Repartition.Never)
        .rngSeed(seed)
        .collectTrainingStats(false)
        .build();
  }

  private static Iterator<DataSet> toBatches(Iterator<Row> it, int batch, int nIn, int nClasses) {
    List<DataSet> out = new ArrayList<>();
    List<Row> buf = new ArrayList<>(batch);
    while (it.hasNext()) {
      buf.add(it.next());
      if (buf.size() == batch) {
        out.add(toDataSet(buf, nIn, nClasses));
        buf.clear();
      }
    }
    if (!buf.isEmpty()) {
      out.add(toDataSet(buf, nIn, nClasses));
    }
    return out.iterator();
  }

  private static DataSet toDataSet(List<Row> rows, int nIn, int nClasses) {
    float[][] x = new float[rows.size()][];
    float[][] y = new float[rows.size()][nClasses];
    for (int i = 0; i < rows.size(); i++) {
      x[i] = Features.floats(rows.get(i), 0, nIn);
      y[i][rows.get(i).getInt(1)] = 1f;
    }
    return new DataSet(Nd4j.createFromArray(x), Nd4j.createFromArray(y));
  }
}
