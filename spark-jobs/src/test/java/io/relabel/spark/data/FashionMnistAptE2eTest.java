package io.relabel.spark.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.relabel.spark.SparkTestSession;
import io.relabel.spark.Tools;
import io.relabel.spark.cli.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real thing: {@code relabel fetch fashion-mnist} through apt (downloads about 31 MB). Skipped, not passed,
 * where apt-get or dpkg is missing.
 */
@Tag("spark")
@Tag("e2e")
class FashionMnistAptE2eTest {

  @TempDir Path tmp;


  @Test
  void fetchesTheSeventyThousandRows() {
    assumeTrue(Tools.onPath("apt-get"), "apt-get is not on the PATH");
    assumeTrue(Tools.onPath("dpkg"), "dpkg is not on the PATH");
    SparkTestSession.get();
    Path data = tmp.resolve("data");
    CliRun run = CliRun.of("fetch", "fashion-mnist", "--set", "relabel.data.dir=" + data, "--master", "local[2]");
    assertEquals(0, run.exitCode(), run.err());

    Dataset<Row> t = SparkTestSession.get().read().parquet(data.resolve("fashion-mnist").toString());
    Row stats = t.selectExpr("count(*)", "min(id)", "max(id)", "count(distinct id)",
        "sum(if(split = 'train', 1, 0))", "max(if(split = 'train', id, -1))", "min(if(split = 'test', id, 99999))",
        "min(size(features))", "max(size(features))", "min(array_min(features))", "max(array_max(features))").first();
    assertEquals(70000L, stats.getLong(0));
    assertEquals(0L, stats.getLong(1));
    assertEquals(69999L, stats.getLong(2));
    assertEquals(70000L, stats.getLong(3));
    assertEquals(60000L, stats.getLong(4));
    assertEquals(59999L, stats.getLong(5));
    assertEquals(60000L, stats.getLong(6));
    assertEquals(784, stats.getInt(7));
    assertEquals(784, stats.getInt(8));
    assertEquals(0.0f, stats.getFloat(9));
    assertEquals(1.0f, stats.getFloat(10));
    // Fashion-MNIST is balanced: 6000 train and 1000 test images per class.
    List<Row> perClass = t.groupBy("label", "split").count().orderBy("label", "split").collectAsList();
    assertEquals(20, perClass.size());
    for (Row r : perClass) {
      assertEquals(r.getString(1).equals("train") ? 6000L : 1000L, r.getLong(2), r.toString());
    }
    // The first training image of the published set is an ankle boot (9), the first test image too.
    assertEquals(9, t.where("id = 0").first().<Integer>getAs("label"));
    assertEquals(9, t.where("id = 60000").first().<Integer>getAs("label"));

    CliRun again = CliRun.of("fetch", "fashion-mnist", "--set", "relabel.data.dir=" + data);
    assertEquals(0, again.exitCode(), again.err());
    assertEquals("fashion-mnist is already at " + data.resolve("fashion-mnist")
        + "; nothing to do (--force fetches it again)\n", again.out());
  }
}
