package io.relabel.spark.cli;

import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.spark.SparkSessions;
import io.relabel.spark.stage.AdaptRetrieverJob;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.spark.sql.SparkSession;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code relabel adapt-retriever}: R-GPL domain adaptation of a dense retriever to a corpus, without labels. */
@Command(name = "adapt-retriever", mixinStandardHelpOptions = true, resourceBundle = SettingsHelp.BUNDLE,
    description = {"Adapts a dense retriever (all-MiniLM-L6-v2 plus a trainable adapter) to a Parquet",
        "corpus of documents (relabel.rgpl.idCol, relabel.rgpl.textCol) without labels: extractive",
        "pseudo queries, hard negatives mined by the model being trained (re-mined every",
        "relabel.rgpl.remineEvery steps; 0 = plain GPL), teacher margins from bge-small-en-v1.5",
        "(or a cross-encoder), MarginMSE. Writes, staged then committed atomically, a Parquet table",
        "of doc_id and the adapted embedding, the adapter in DL4J format (_adapter.zip) and the",
        "run manifest (_manifest.json)."},
    footer = {"", "Each flag sets the setting named in its description; --set KEY=VALUE and --conf FILE set the"
        + " same keys and every other relabel.rgpl.* setting (conf/relabel.properties lists them)."})
public final class AdaptRetrieverCommand implements Callable<Integer> {

  @Mixin CommonOptions common;

  @Option(names = "--input", required = true, paramLabel = "PATH", description = "Corpus Parquet table (file or dir).")
  String input;

  @Option(names = "--output", required = true, paramLabel = "PATH",
      description = "Where the embeddings, adapter and manifest go (must not exist unless --overwrite).")
  String output;

  @Option(names = "--overwrite", description = "Replace an existing output (atomically).")
  boolean overwrite;

  @Option(names = "--steps", paramLabel = "N", descriptionKey = "relabel.rgpl.steps")
  String steps;

  @Option(names = "--remine-every", paramLabel = "R", descriptionKey = "relabel.rgpl.remineEvery")
  String remineEvery;

  @Option(names = "--teacher", paramLabel = "bge|cross-encoder", descriptionKey = "relabel.rgpl.teacher")
  String teacher;

  @Override
  public Integer call() {
    Map<String, String> flags = new LinkedHashMap<>();
    CommonOptions.putFlag(flags, RelabelParams.RGPL_STEPS, steps);
    CommonOptions.putFlag(flags, RelabelParams.RGPL_REMINE_EVERY, remineEvery);
    CommonOptions.putFlag(flags, RelabelParams.RGPL_TEACHER, teacher);
    Settings settings = common.settings(flags);
    SparkSession spark = SparkSessions.getOrCreate("relabel adapt-retriever", common.master());
    AdaptRetrieverJob.Result r = new AdaptRetrieverJob(spark, settings).run(input, output, overwrite);
    System.out.printf(java.util.Locale.ROOT, "adapted to %d documents with %d pseudo queries%n", r.documents(),
        r.queries());
    System.out.println("output: " + r.outputPath());
    return 0;
  }
}
