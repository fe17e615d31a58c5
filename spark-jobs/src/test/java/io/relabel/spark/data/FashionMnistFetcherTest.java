package io.relabel.spark.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.core.data.IdxReader;
import io.relabel.spark.SparkTestSession;
import io.relabel.spark.cli.CliRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code relabel fetch fashion-mnist --from DIR} on tiny IDX files: no network, no apt. */
@Tag("spark")
class FashionMnistFetcherTest {

  private static final int TRAIN = 5;
  private static final int TEST = 3;

  private static SparkSession spark;

  @TempDir Path tmp;

  @BeforeAll
  static void session() {
    spark = SparkTestSession.get();
  }

  /** Pixel j of image i: a pattern covering 0 and 255. */
  private static int pixel(int i, int j) {
    return (i * 31 + j * 7) % 256;
  }

  private static byte[] images(int n) {
    byte[] b = new byte[n * 784];
    for (int i = 0; i < n; i++) {
      for (int j = 0; j < 784; j++) {
        b[i * 784 + j] = (byte) pixel(i, j);
      }
    }
    return b;
  }

  private static byte[] labels(int n, int offset) {
    byte[] b = new byte[n];
    for (int i = 0; i < n; i++) {
      b[i] = (byte) ((i + offset) % 10);
    }
    return b;
  }

  /** Writes the four files, train gzipped (as Debian ships them) and test plain. */
  private static Path idxDir(Path dir) throws IOException {
    Files.createDirectories(dir);
    IdxReader.write(dir.resolve("train-images-idx3-ubyte.gz"), new int[] {TRAIN, 28, 28}, images(TRAIN), true);
    IdxReader.write(dir.resolve("train-labels-idx1-ubyte.gz"), new int[] {TRAIN}, labels(TRAIN, 0), true);
    IdxReader.write(dir.resolve("t10k-images-idx3-ubyte"), new int[] {TEST, 28, 28}, images(TEST), false);
    IdxReader.write(dir.resolve("t10k-labels-idx1-ubyte"), new int[] {TEST}, labels(TEST, 7), false);
    return dir;
  }

  private CliRun fetch(Path from, Path dataDir, String... more) {
    List<String> args = new java.util.ArrayList<>(List.of("fetch", "fashion-mnist", "--from", from.toString(),
        "--set", "relabel.data.dir=" + dataDir, "--master", "local[2]"));
    args.addAll(List.of(more));
    return CliRun.of(args.toArray(new String[0]));
  }

  @Test
  void writesTheTableInTheInputContract() throws IOException {
    Path data = tmp.resolve("data");
    CliRun run = fetch(idxDir(tmp.resolve("idx")), data);
    assertEquals(0, run.exitCode(), run.err());
    assertTrue(run.out().startsWith("fetched fashion-mnist: 8 rows (train 5, test 3) from files in "), run.out());

    Dataset<Row> t = spark.read().parquet(data.resolve("fashion-mnist").toString());
    assertEquals("struct<id:bigint,features:array<float>,label:int,split:string>", t.schema().simpleString());
    List<Row> rows = t.orderBy("id").collectAsList();
    assertEquals(TRAIN + TEST, rows.size());
    for (int k = 0; k < rows.size(); k++) {
      Row r = rows.get(k);
      boolean train = k < TRAIN;
      int i = train ? k : k - TRAIN;
      assertEquals(k, r.getLong(0));
      assertEquals(train ? "train" : "test", r.getString(3));
      assertEquals(train ? i % 10 : (i + 7) % 10, r.getInt(2));
      List<Float> f = r.getList(1);
      assertEquals(784, f.size());
      float[] expected = new float[784];
      float[] actual = new float[784];
      for (int j = 0; j < 784; j++) {
        expected[j] = pixel(i, j) / 255f;
        actual[j] = f.get(j);
      }
      assertArrayEquals(expected, actual, "row " + k);
    }
    assertEquals(1.0f, t.selectExpr("max(array_max(features))").first().getFloat(0));
    assertEquals(0.0f, t.selectExpr("min(array_min(features))").first().getFloat(0));
  }

  @Test
  void anExistingTableIsLeftAloneUnlessForced() throws IOException {
    Path idx = idxDir(tmp.resolve("idx"));
    Path data = tmp.resolve("data");
    assertEquals(0, fetch(idx, data).exitCode());
    Path table = data.resolve("fashion-mnist");
    List<String> before = listing(table);

    // New source files with other labels: without --force nothing changes.
    IdxReader.write(idx.resolve("train-labels-idx1-ubyte.gz"), new int[] {TRAIN}, labels(TRAIN, 3), true);
    CliRun again = fetch(idx, data);
    assertEquals(0, again.exitCode(), again.err());
    assertEquals("fashion-mnist is already at " + table + "; nothing to do (--force fetches it again)\n",
        again.out());
    assertEquals(before, listing(table));
    assertEquals(0, spark.read().parquet(table.toString()).where("id = 0").first().<Integer>getAs("label"));

    CliRun forced = fetch(idx, data, "--force");
    assertEquals(0, forced.exitCode(), forced.err());
    assertEquals(3, spark.read().parquet(table.toString()).where("id = 0").first().<Integer>getAs("label"));
  }

  @Test
  void anUnpackedPackageRootIsAccepted() throws IOException {
    Path root = tmp.resolve("root");
    idxDir(root.resolve("usr/share/datasets/fashion-mnist"));
    Path data = tmp.resolve("data");
    CliRun run = fetch(root, data);
    assertEquals(0, run.exitCode(), run.err());
    assertEquals(8, spark.read().parquet(data.resolve("fashion-mnist").toString()).count());
  }

  @Test
  void unknownDataSetListsTheKnownOnes() {
    CliRun run = CliRun.of("fetch", "mnist");
    assertEquals(2, run.exitCode());
    assertEquals("relabel fetch: error: unknown data set 'mnist'; known: fashion-mnist, wordnet\n", run.err());
  }

  @Test
  void aTruncatedFileIsReportedAndNothingIsWritten() throws IOException {
    Path idx = idxDir(tmp.resolve("idx"));
    Path labels = idx.resolve("t10k-labels-idx1-ubyte");
    byte[] bytes = Files.readAllBytes(labels);
    Files.write(labels, java.util.Arrays.copyOf(bytes, bytes.length - 1));
    Path data = tmp.resolve("data");
    CliRun run = fetch(idx, data);
    assertEquals(2, run.exitCode());
    assertEquals("relabel fetch: error: " + labels + " is truncated: its header declares 3 = 3 values, but the data"
        + " ends after 2\n", run.err());
    assertTrue(!Files.exists(data.resolve("fashion-mnist")));
  }

  @Test
  void mismatchedCountsAreReported() throws IOException {
    Path idx = idxDir(tmp.resolve("idx"));
    IdxReader.write(idx.resolve("t10k-labels-idx1-ubyte"), new int[] {2}, labels(2, 0), false);
    CliRun run = fetch(idx, tmp.resolve("data"));
    assertEquals(2, run.exitCode());
    assertEquals("relabel fetch: error: " + idx.resolve("t10k-labels-idx1-ubyte") + " holds 2 labels but "
        + idx.resolve("t10k-images-idx3-ubyte") + " holds 3 images\n", run.err());
  }

  @Test
  void aLabelOutsideTheClassesIsReported() throws IOException {
    Path idx = idxDir(tmp.resolve("idx"));
    IdxReader.write(idx.resolve("t10k-labels-idx1-ubyte"), new int[] {3}, new byte[] {1, 12, 2}, false);
    CliRun run = fetch(idx, tmp.resolve("data"));
    assertEquals(2, run.exitCode());
    assertEquals("relabel fetch: error: " + idx.resolve("t10k-labels-idx1-ubyte") + ": label 12 of image 1 (id 6)"
        + " is outside 0..9\n", run.err());
  }

  @Test
  void wrongImageSizeIsReported() throws IOException {
    Path idx = idxDir(tmp.resolve("idx"));
    IdxReader.write(idx.resolve("t10k-images-idx3-ubyte"), new int[] {3, 2, 2}, new byte[12], false);
    CliRun run = fetch(idx, tmp.resolve("data"));
    assertEquals(2, run.exitCode());
    assertEquals("relabel fetch: error: " + idx.resolve("t10k-images-idx3-ubyte") + " holds images of 2 x 2 pixels;"
        + " Fashion-MNIST images are 28 x 28\n", run.err());
  }

  @Test
  void missingFilesAreListedWithTheManualRoute() throws IOException {
    Path idx = idxDir(tmp.resolve("idx"));
    Files.delete(idx.resolve("train-labels-idx1-ubyte.gz"));
    CliRun run = fetch(idx, tmp.resolve("data"));
    assertEquals(2, run.exitCode());
    assertEquals("relabel fetch: error: --from " + idx + ": missing train-labels-idx1-ubyte[.gz] (looked in " + idx
        + " and in " + idx.resolve("usr/share/datasets/fashion-mnist") + "). " + FashionMnistFetcher.manualHelp()
        + "\n", run.err());
  }

  private static List<String> listing(Path dir) throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString() + ":" + p.toFile().lastModified()).sorted()
          .collect(Collectors.toList());
    }
  }
}
