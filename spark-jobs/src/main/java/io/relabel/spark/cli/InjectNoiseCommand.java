package io.relabel.spark.cli;

import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.spark.SparkSessions;
import io.relabel.spark.data.NoiseInjection;
import io.relabel.spark.io.TableWriter;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code relabel inject-noise}: a noisy copy of a clean labeled table, for measuring how well relabel finds wrong
 * labels. The flags are shorthands for {@code relabel.noise.*} and {@code relabel.seed}, so a run can be described
 * entirely by a settings file; the work is {@link NoiseInjection}, which the demo calls directly.
 */
@Command(name = "inject-noise", mixinStandardHelpOptions = true, resourceBundle = SettingsHelp.BUNDLE,
    description = {"Writes a copy of a labeled Parquet table with wrong labels at an exact rate: every input column,"
        + " the label column replaced by the noisy label, plus the true label (relabel.input.trueLabelCol) and a"
        + " boolean trusted mark (relabel.input.trustedCol).",
        "Among the labeled rows of the noisy split, exactly --trusted-size rows are kept clean and marked trusted;"
            + " then exactly round(rate * n) of the other n rows get a wrong label (pair noise: round(rate * n_c)"
            + " of each mapped class c). Rows of other splits are unchanged. Every choice is a function of the seed"
            + " and the row id, so the output does not depend on the cluster.",
        "Evaluation tables: --long-tail-ratio R first subsamples the noisy split so class sizes decay exponentially"
            + " to 1/R of the largest class (dropped rows are not written); --labeled-share S then keeps the label"
            + " of exactly round(S * n) non-trusted rows, stratified by class, and writes null for the others; noise"
            + " applies to the labeled rows, so the rate is exact among them."},
    footer = {"", "Each flag sets the setting named in its description; --set KEY=VALUE and --conf FILE set the same"
        + " keys (a flag wins). Column names come from relabel.input.*."})
public final class InjectNoiseCommand implements Callable<Integer> {

  private static final Logger LOG = LoggerFactory.getLogger(InjectNoiseCommand.class);

  @Mixin CommonOptions common;

  @Spec CommandSpec spec;

  @Option(names = "--input", required = true, paramLabel = "PATH",
      description = "Parquet table to read (never modified).")
  String input;

  @Option(names = "--output", required = true, paramLabel = "PATH",
      description = "Where to write the noisy table; it appears whole or not at all.")
  String output;

  @Option(names = "--rate", paramLabel = "R", descriptionKey = "relabel.noise.rate")
  String rate;

  @Option(names = "--type", paramLabel = "symmetric|pair", descriptionKey = "relabel.noise.type")
  String type;

  @Option(names = "--pairs", paramLabel = "MAP", descriptionKey = "relabel.noise.pairs")
  String pairs;

  @Option(names = "--trusted-size", paramLabel = "N", descriptionKey = "relabel.noise.trustedSize")
  String trustedSize;

  @Option(names = "--labeled-share", paramLabel = "S", descriptionKey = "relabel.noise.labeledShare")
  String labeledShare;

  @Option(names = "--long-tail-ratio", paramLabel = "R", descriptionKey = "relabel.noise.longTailRatio")
  String longTailRatio;

  @Option(names = "--seed", paramLabel = "S", descriptionKey = "relabel.seed")
  String seed;

  @Option(names = "--overwrite", description = "Replace --output when it exists.")
  boolean overwrite;

  @Override
  public Integer call() {
    Map<String, String> flags = new LinkedHashMap<>();
    CommonOptions.putFlag(flags, RelabelParams.NOISE_RATE, rate);
    CommonOptions.putFlag(flags, RelabelParams.NOISE_TYPE, type);
    CommonOptions.putFlag(flags, RelabelParams.NOISE_PAIRS, pairs);
    CommonOptions.putFlag(flags, RelabelParams.NOISE_TRUSTED, trustedSize);
    CommonOptions.putFlag(flags, RelabelParams.NOISE_LABELED_SHARE, labeledShare);
    CommonOptions.putFlag(flags, RelabelParams.NOISE_LONG_TAIL, longTailRatio);
    CommonOptions.putFlag(flags, RelabelParams.SEED, seed);
    Settings settings = common.settings(flags);

    SparkSession spark = SparkSessions.getOrCreate("relabel inject-noise", common.master());
    checkPaths(spark);
    Dataset<Row> in = spark.read().parquet(input);
    LOG.info("reading {}", input);
    NoiseInjection.Result result = NoiseInjection.injectWithReport(in, settings);
    TableWriter.writeAtomically(result.table(), output, overwrite, Map.of("_noise.json", result.report().json()));
    LOG.info("wrote the noisy table to {}", output);
    PrintWriter out = spec.commandLine().getOut();
    for (String line : result.report().lines()) {
      out.println(line);
    }
    out.println("wrote " + output);
    out.flush();
    return 0;
  }

  /** The input must exist, the output must not (unless --overwrite) and the two must not overlap. */
  private void checkPaths(SparkSession spark) {
    try {
      Path in = new Path(input);
      Path out = new Path(output);
      FileSystem inFs = in.getFileSystem(spark.sparkContext().hadoopConfiguration());
      FileSystem outFs = out.getFileSystem(spark.sparkContext().hadoopConfiguration());
      String qin = inFs.makeQualified(in).toString();
      String qout = outFs.makeQualified(out).toString();
      if (!inFs.exists(in)) {
        throw new RelabelException("--input " + input + ": no such table");
      }
      if (qin.equals(qout) || qout.startsWith(qin + "/") || qin.startsWith(qout + "/")) {
        throw new RelabelException("--output " + output + " overlaps --input " + input
            + "; the input is never modified, write the noisy table elsewhere");
      }
      if (outFs.exists(out) && !overwrite) {
        throw new RelabelException("--output " + output + " exists; pass --overwrite to replace it");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot check --input/--output", e);
    }
  }
}
