package io.relabel.spark.stage;

import static org.apache.spark.sql.functions.col;

import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.spark.cli.RelabelException;
import io.relabel.spark.embed.Embedding;
import io.relabel.spark.embed.EmbeddingStore;
import io.relabel.spark.embed.EncoderFactory;
import io.relabel.spark.io.InputContract;
import io.relabel.spark.io.InputReader;
import io.relabel.spark.io.InputValidator;
import io.relabel.spark.io.RunManifest;
import io.relabel.spark.io.TableWriter;
import io.relabel.spark.io.ValidatedInput;
import java.util.List;
import java.util.function.UnaryOperator;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code relabel embed}: the validate and embed stages of a run, alone, with the embeddings written as a table that
 * later runs reuse ({@code relabel.embed.reuse}, see {@link EmbeddingStore}). It lays the rows out and fits the
 * encoder exactly as {@link RelabelJob} does (same canonical layout, same seeded fitting sample), so a run that
 * reuses the table sees the embeddings it would have computed itself.
 */
public final class EmbedJob {

  private static final Logger LOG = LoggerFactory.getLogger(EmbedJob.class);

  private final SparkSession spark;
  private final Settings settings;

  public EmbedJob(SparkSession spark, Settings settings) {
    this.spark = spark;
    this.settings = settings;
  }

  /** What the command produced: the committed path, the stored table's description and the run manifest. */
  public record Result(String outputPath, EmbeddingStore.Info info, RunManifest manifest) {}

  public Result run(String inputPath, String outputPath, boolean overwrite) {
    if (!settings.get(RelabelParams.EMBED_REUSE).isEmpty()) {
      throw new RelabelException("relabel embed computes embeddings; " + RelabelParams.EMBED_REUSE.key()
          + " must be empty, not " + settings.get(RelabelParams.EMBED_REUSE));
    }
    long seed = settings.get(RelabelParams.SEED);
    int workers = settings.get(RelabelParams.TRAIN_WORKERS);
    RunManifest manifest = RunManifest.start("embed", spark, settings);
    TableWriter.checkWritable(spark, outputPath, overwrite);
    Dataset<Row> table = InputReader.read(spark, inputPath);
    Stages stages = new Stages(spark, manifest, 3);
    ValidatedInput in = stages.run("validate", 0, () -> {
      ValidatedInput v = InputValidator.validate(table, InputContract.from(settings));
      Stages.rowsOut(v.rows());
      return v;
    });
    manifest.setInput(inputPath, in.counts());
    InputContract c = in.contract();
    Dataset<Row> canonical = RelabelJob.canonicalize(in, in.classes(), seed, workers, settings)
        .select(col(RelabelJob.KEY), col(RelabelJob.Y), col(RelabelJob.TRUSTED), col(RelabelJob.TRAINABLE),
            col(RelabelJob.UNIFORM), col(c.idCol()), col(c.featuresCol()))
        .persist(StorageLevel.MEMORY_AND_DISK());
    Embedding.StageColumns cols = new Embedding.StageColumns(
        new EncoderFactory.FitColumns(RelabelJob.Y, RelabelJob.TRAINABLE, RelabelJob.TRUSTED, RelabelJob.UNIFORM),
        List.of(c.idCol()), "embedding", UnaryOperator.identity());
    Embedding.Outcome embedded = stages.run("embed", in.rows(), () -> {
      Embedding.Outcome o = Embedding.embed(canonical, in, cols, settings, seed, manifest);
      Stages.rowsOut(in.rows());
      return o;
    });
    canonical.unpersist(false);
    EmbeddingStore.Info info = stages.run("write", in.rows(), () -> {
      EmbeddingStore.Info i = EmbeddingStore.write(embedded, c.idCol(), "embedding", outputPath, overwrite, manifest);
      Stages.rowsOut(i.rows());
      return i;
    });
    embedded.table().unpersist(false);
    LOG.info("embed: committed {} embeddings ({}, {} dims) to {}", info.rows(), info.encoder(), info.dim(),
        outputPath);
    return new Result(outputPath, info, manifest);
  }
}
