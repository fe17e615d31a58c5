package io.relabel.spark.cli;

import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.spark.data.DatasetFetcher;
import io.relabel.spark.data.FashionMnistFetcher;
import io.relabel.spark.data.NoiseInjection;
import io.relabel.spark.io.InputReader;
import io.relabel.spark.io.TableWriter;
import io.relabel.spark.stage.RelabelJob;
import java.math.BigDecimal;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What demo and bench share: fetch Fashion-MNIST, write a noisy copy, run the pipeline on it. */
final class DemoSteps {

  private static final Logger LOG = LoggerFactory.getLogger(DemoSteps.class);

  private DemoSteps() {}

  /** Fetches Fashion-MNIST into {@code relabel.data.dir} unless it is there already; returns the table path. */
  static String fetch(SparkSession spark, Settings settings, Path fromDir) {
    DatasetFetcher.Result r = new FashionMnistFetcher()
        .fetch(new DatasetFetcher.Request(settings.get(RelabelParams.DATA_DIR), false, fromDir,
            settings.get(RelabelParams.SEED)), () -> spark);
    return r.table();
  }

  /** Writes (replacing) the noisy copy named after the noise settings; returns its path. */
  static String noisyCopy(SparkSession spark, Settings settings, String clean) {
    String name = String.format(Locale.ROOT, "fashion-mnist-%s-%02d-seed%d", settings.get(RelabelParams.NOISE_TYPE),
        Math.round(100 * settings.get(RelabelParams.NOISE_RATE)), settings.get(RelabelParams.SEED));
    // evaluation-table options go into the name too, so that tables made with them never pass for plain noisy ones
    double share = settings.get(RelabelParams.NOISE_LABELED_SHARE);
    double ratio = settings.get(RelabelParams.NOISE_LONG_TAIL);
    if (share < 1) {
      name += "-labeled" + BigDecimal.valueOf(share).movePointRight(2).stripTrailingZeros().toPlainString() + "pct";
    }
    if (ratio > 1) {
      name += "-longtail" + BigDecimal.valueOf(ratio).stripTrailingZeros().toPlainString();
    }
    String path = Path.of(settings.get(RelabelParams.DATA_DIR), "demo", name).toString();
    NoiseInjection.Result noisy = NoiseInjection.injectWithReport(InputReader.read(spark, clean), settings);
    TableWriter.writeAtomically(noisy.table(), path, true, Map.of("_noise.json", noisy.report().json()));
    for (String line : noisy.report().lines()) {
      LOG.info("{}", line);
    }
    return path;
  }

  /** Runs the pipeline on {@code input}, writing (replacing) {@code input + "-relabeled"}. */
  static RelabelJob.Result relabel(SparkSession spark, Settings settings, String input, String command) {
    return new RelabelJob(spark, settings).run(input, input + "-relabeled", true, command);
  }
}
