package io.relabel.spark.stage;

import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.core.retrieval.RgplSpec;
import io.relabel.spark.cli.RelabelException;
import io.relabel.spark.io.InputReader;
import io.relabel.spark.io.RunManifest;
import io.relabel.spark.io.TableWriter;
import io.relabel.spark.ir.RetrieverAdaptation;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code relabel adapt-retriever}: a corpus (id, text) in, a retriever adapted to it out (R-GPL, methods.md §4;
 * {@link RetrieverAdaptation}). The output is one directory, staged and committed atomically: a Parquet table of
 * doc_id and the adapted embedding of every document, the adapter in DL4J's own format ({@value #ADAPTER_FILE}, read
 * it with {@code ModelSerializer.restoreComputationGraph}) and the run manifest ({@value RunManifest#FILE_NAME}).
 * Queries are embedded by all-MiniLM-L6-v2 (relabel.rgpl.studentTokens) and then the adapter.
 */
public final class AdaptRetrieverJob {

  private static final Logger LOG = LoggerFactory.getLogger(AdaptRetrieverJob.class);

  /** The adapter's file inside the output directory. */
  public static final String ADAPTER_FILE = "_adapter.zip";

  private final SparkSession spark;
  private final Settings settings;

  public AdaptRetrieverJob(SparkSession spark, Settings settings) {
    this.spark = spark;
    this.settings = settings;
  }

  /** The committed path, the corpus and query counts and the run manifest. */
  public record Result(String outputPath, long documents, long queries, RunManifest manifest) {}

  public Result run(String inputPath, String outputPath, boolean overwrite) {
    RgplSpec spec;
    try {
      spec = RgplSpec.from(settings);
    } catch (IllegalArgumentException e) {
      throw new RelabelException(e.getMessage());
    }
    long seed = settings.get(RelabelParams.SEED);
    int workers = settings.get(RelabelParams.TRAIN_WORKERS);
    RunManifest manifest = RunManifest.start("adapt-retriever", spark, settings);
    TableWriter.checkWritable(spark, outputPath, overwrite);
    Dataset<Row> corpus = InputReader.read(spark, inputPath);
    Stages stages = new Stages(spark, manifest, RetrieverAdaptation.PREPARE_STAGES + 2);
    RetrieverAdaptation rgpl = new RetrieverAdaptation(spark, spec, seed, workers, stages);
    try (RetrieverAdaptation.Prepared p = rgpl.prepare(corpus)) {
      manifest.setInput(inputPath, Map.of("documents", p.documents, "queries", p.queryCount));
      manifest.putMetric("rgpl.documents", p.documents);
      manifest.putMetric("rgpl.queries", p.queryCount);
      manifest.putMetric("rgpl.queriesPerDoc", p.queriesPerDoc);
      manifest.putMetric("rgpl.generator", "extractive");
      manifest.putMetric("rgpl.teacher", spec.teacher() == RgplSpec.Teacher.BGE ? "bge" : "cross-encoder");
      RetrieverAdaptation.Trained t = rgpl.train(p);
      for (Map.Entry<String, Object> e : t.metrics.entrySet()) {
        manifest.putMetric("rgpl.train." + e.getKey(), e.getValue());
      }
      byte[] adapter = t.adapter.toBytes();
      stages.run("write", p.documents, () -> {
        long rows = TableWriter.writeAtomically(rgpl.documentEmbeddings(p, t.adapter), outputPath, overwrite,
            n -> {
              manifest.setOutput(outputPath, n);
              manifest.finish();
              Map<String, Object> files = new LinkedHashMap<>(manifest.asSidecar());
              files.put(ADAPTER_FILE, adapter);
              return files;
            });
        Stages.rowsOut(rows);
        return rows;
      });
      LOG.info("adapt-retriever: committed {} document embeddings and the adapter to {}", p.documents, outputPath);
      return new Result(outputPath, p.documents, p.queryCount, manifest);
    }
  }
}
