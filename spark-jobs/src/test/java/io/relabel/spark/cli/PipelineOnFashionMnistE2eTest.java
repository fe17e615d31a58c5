package io.relabel.spark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.relabel.spark.SparkTestSession;
import io.relabel.spark.Tools;
import io.relabel.spark.io.RunManifest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commands a user runs, in order, on real data: fetch Fashion-MNIST through apt, keep a 10,000-row slice,
 * make exactly 40% of its training labels wrong, run the pipeline, and check against the true labels that it fixed
 * most of them. Skipped, not passed, where apt-get or dpkg is missing.
 */
@Tag("spark")
@Tag("e2e")
class PipelineOnFashionMnistE2eTest {

  @TempDir Path tmp;


  @Test
  void fixesMostOfFortyPercentSymmetricNoiseOnASlice() throws Exception {
    assumeTrue(Tools.onPath("apt-get") && Tools.onPath("dpkg"), "apt-get or dpkg is not on the PATH");
    SparkSession spark = SparkTestSession.get();
    Path data = Path.of(System.getProperty("relabel.project.dir", "."), "spark-jobs", "target", "e2e-data");
    CliRun fetch = CliRun.of("fetch", "fashion-mnist", "--set", "relabel.data.dir=" + data);
    assertEquals(0, fetch.exitCode(), fetch.err());

    String slice = tmp.resolve("slice").toString();
    spark.read().parquet(data.resolve("fashion-mnist").toString())
        .where("id < 8000 or (id >= 60000 and id < 62000)")
        .write().parquet(slice);
    String noisy = tmp.resolve("noisy").toString();
    CliRun noise = CliRun.of("inject-noise", "--input", slice, "--output", noisy, "--rate", "0.4", "--seed", "7");
    assertEquals(0, noise.exitCode(), noise.err());

    String out = tmp.resolve("fixed").toString();
    CliRun run = CliRun.of("run", "--input", noisy, "--output", out, "--master", "local[2]",
        "--set", "relabel.consensus.folds=3");
    assertEquals(0, run.exitCode(), run.err());
    assertTrue(run.out().contains("corrected label accuracy"), run.out());

    RunManifest m = RunManifest.fromJson(Files.readString(Path.of(out, RunManifest.FILE_NAME)));
    assertEquals(8000L, ((Number) m.getMetric("eval.train.rows")).longValue());
    assertEquals(0.6, metric(m, "eval.train.givenAccuracy"), 1e-12, "inject-noise states the real error rate");
    double corrected = metric(m, "eval.train.correctedAccuracy");
    // the default decision, a 3-vote, trades recall for precision (measured on this slice: 0.8488 corrected,
    // recall 0.805, precision 0.882)
    assertTrue(corrected > 0.82, "corrected-label accuracy " + corrected);
    assertTrue(metric(m, "eval.train.changeRecall") > 0.75, "recall " + metric(m, "eval.train.changeRecall"));
    assertTrue(metric(m, "eval.train.changePrecision") > 0.85,
        "precision " + metric(m, "eval.train.changePrecision"));
    assertTrue(metric(m, "eval.test.retrainedAccuracy") > 0.78,
        "retrained test accuracy " + metric(m, "eval.test.retrainedAccuracy"));
    assertEquals(10000L, spark.read().parquet(out).count());
  }

  private static double metric(RunManifest m, String path) {
    return ((Number) m.getMetric(path)).doubleValue();
  }
}
