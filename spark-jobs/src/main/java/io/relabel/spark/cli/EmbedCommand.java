package io.relabel.spark.cli;

import io.relabel.core.config.Settings;
import io.relabel.spark.SparkSessions;
import io.relabel.spark.stage.EmbedJob;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code relabel embed}: computes a table's embeddings once, for runs to reuse. */
@Command(name = "embed", mixinStandardHelpOptions = true,
    description = {"Validates a Parquet table and writes its embeddings (relabel.embed.encoder)",
        "as a table of the id column and 'embedding' (array<float>), with",
        "_embedding.json naming the encoder, width, model hash and settings; staged,",
        "then committed atomically. A run with --set relabel.embed.reuse=OUTPUT joins",
        "them by id instead of embedding again (and refuses another encoder or width,",
        "or a row id without an embedding)."})
public final class EmbedCommand implements Callable<Integer> {

  @Mixin CommonOptions common;

  @Option(names = "--input", required = true, paramLabel = "PATH", description = "Input Parquet table (file or dir).")
  String input;

  @Option(names = "--output", required = true, paramLabel = "PATH",
      description = "Where the embeddings go (must not exist unless --overwrite).")
  String output;

  @Option(names = "--overwrite", description = "Replace an existing output (atomically).")
  boolean overwrite;

  @Override
  public Integer call() {
    Settings settings = common.settings();
    SparkSession spark = SparkSessions.getOrCreate("relabel embed", common.master());
    EmbedJob.Result r = new EmbedJob(spark, settings).run(input, output, overwrite);
    Object perCore = r.manifest().getMetric("embed.rowsPerSecondPerCore");
    System.out.printf(Locale.ROOT, "embedded %d rows with %s (%d dims, model %s)%s%n", r.info().rows(),
        r.info().encoder(), r.info().dim(), r.info().modelHash().isEmpty() ? "unnamed" : r.info().modelHash(),
        perCore instanceof Number n ? String.format(Locale.ROOT, ", %.1f rows/s per core", n.doubleValue()) : "");
    System.out.println("output: " + r.outputPath());
    return 0;
  }
}
