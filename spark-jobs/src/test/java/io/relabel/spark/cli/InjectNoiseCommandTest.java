package io.relabel.spark.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.spark.SparkTestSession;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code relabel inject-noise} from the command line: flags, settings, paths, output and messages. */
@Tag("spark")
class InjectNoiseCommandTest {

  private static SparkSession spark;

  @TempDir Path tmp;

  @BeforeAll
  static void session() {
    spark = SparkTestSession.get();
  }

  /** 500 rows, 400 train and 100 test, written as {@code files} Parquet files. */
  private Path input(String name, int files) {
    StructType schema = new StructType().add("id", DataTypes.LongType, false)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType, false), false)
        .add("label", DataTypes.IntegerType, false).add("split", DataTypes.StringType, false);
    List<Row> rows = new ArrayList<>();
    for (long k = 0; k < 500; k++) {
      rows.add(RowFactory.create(k, new float[] {k / 500f}, (int) ((k * 7 + k / 5) % 10),
          k % 5 == 4 ? "test" : "train"));
    }
    Path p = tmp.resolve(name);
    spark.createDataFrame(rows, schema).repartition(files).write().parquet(p.toString());
    return p;
  }

  private static Map<String, String> digests(Path dir) throws IOException {
    Map<String, String> m = new TreeMap<>();
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : (Iterable<Path>) s.filter(Files::isRegularFile)::iterator) {
        try {
          m.put(dir.relativize(p).toString(), HexFormat.of().formatHex(
              MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
        } catch (NoSuchAlgorithmException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    return m;
  }

  private static List<String> sorted(Path table) {
    return SparkTestSession.get().read().parquet(table.toString()).orderBy("id").collectAsList().stream()
        .map(Row::toString).toList();
  }

  @Test
  void writesTheNoisyTableAndLeavesTheInputAlone() throws IOException {
    Path in = input("in", 3);
    Map<String, String> before = digests(in);
    Path out = tmp.resolve("out");
    CliRun run = CliRun.of("inject-noise", "--input", in.toString(), "--output", out.toString(), "--rate", "0.25",
        "--trusted-size", "20", "--seed", "9", "--master", "local[2]");
    assertEquals(0, run.exitCode(), run.err());
    assertEquals(String.join("\n", "rows: 500 (test 100, train 400)",
        "noisy split 'train': 400 labeled rows, 20 trusted, 380 noisy",
        "flipped 95 of 380 noisy rows (symmetric noise, rate 0.25): real error rate 0.250000",
        "wrote " + out, ""), run.out());
    assertEquals(before, digests(in), "the input files are byte for byte the same");

    Dataset<Row> t = spark.read().parquet(out.toString());
    assertEquals("struct<id:bigint,features:array<float>,label:int,split:string,label_true:int,trusted:boolean>",
        t.schema().simpleString());
    Row c = t.selectExpr("count(*)", "sum(if(trusted, 1, 0))", "sum(if(label != label_true, 1, 0))",
        "sum(if(split = 'test' and label != label_true, 1, 0))").first();
    assertEquals(List.of(500L, 20L, 95L, 0L), List.of(c.getLong(0), c.getLong(1), c.getLong(2), c.getLong(3)));
  }

  @Test
  void longTailAndLabeledShareFlagsWriteTheEvaluationTable() {
    Path in = input("in", 2);
    Path out = tmp.resolve("out");
    CliRun run = CliRun.of("inject-noise", "--input", in.toString(), "--output", out.toString(), "--rate", "0.2",
        "--long-tail-ratio", "10", "--labeled-share", "0.25", "--seed", "3");
    assertEquals(0, run.exitCode(), run.err());
    // 40 training rows per class; class c keeps round(40 * 10^(-c/9)); round(0.25 * 164) = 41 keep a label, one
    // per class and the other 31 in proportion; round(0.2 * 41) = 8 of them are wrong
    long[] kept = {40, 31, 24, 19, 14, 11, 9, 7, 5, 4};
    long[] labeled = {9, 7, 6, 5, 4, 3, 2, 2, 2, 1};
    List<String> expected = new ArrayList<>(List.of("rows: 500 (test 100, train 400)",
        "long tail (ratio 10.0) in split 'train': kept 164 of 400 labeled rows (264 rows written in all); rows per"
            + " class kept:"));
    for (int c = 0; c < 10; c++) {
      expected.add("  class " + c + ": " + kept[c] + " of 40");
    }
    expected.add("noisy split 'train': 164 labeled rows, 0 trusted, 41 noisy, 123 made unlabeled (labeled share"
        + " 0.25)");
    expected.add("rows that keep a label, per class (of the non-trusted rows):");
    for (int c = 0; c < 10; c++) {
      expected.add("  class " + c + ": " + labeled[c] + " of " + kept[c]);
    }
    expected.add("flipped 8 of 41 noisy rows (symmetric noise, rate 0.2): real error rate 0.195122");
    expected.add("labeled rows of split 'train': 41 (0 trusted); real error rate among them 0.195122");
    expected.add("wrote " + out);
    assertEquals(String.join("\n", expected) + "\n", run.out());

    Dataset<Row> t = spark.read().parquet(out.toString());
    for (int c = 0; c < 10; c++) {
      Row r = t.where("split = 'train' and label_true = " + c).selectExpr("count(*)", "count(label)").first();
      assertEquals(List.of(kept[c], labeled[c]), List.of(r.getLong(0), r.getLong(1)), "class " + c);
    }
    Row c = t.selectExpr("sum(if(split = 'test', 1, 0))", "sum(if(label != label_true, 1, 0))").first();
    assertEquals(List.of(100L, 8L), List.of(c.getLong(0), c.getLong(1)));
  }

  @Test
  void theSameOutputFromOneFileAndFromFour() {
    Path one = input("one", 1);
    Path four = input("four", 4);
    assertEquals(sorted(one), sorted(four));
    String[] common = {"--rate", "0.4", "--trusted-size", "33", "--type", "pair", "--pairs", "1:2,2:1,5:7"};
    List<String> a = new ArrayList<>(List.of("inject-noise", "--input", one.toString(), "--output",
        tmp.resolve("out1").toString()));
    a.addAll(List.of(common));
    List<String> b = new ArrayList<>(List.of("inject-noise", "--input", four.toString(), "--output",
        tmp.resolve("out4").toString()));
    b.addAll(List.of(common));
    CliRun r1 = CliRun.of(a.toArray(new String[0]));
    CliRun r4 = CliRun.of(b.toArray(new String[0]));
    assertEquals(0, r1.exitCode(), r1.err());
    assertEquals(0, r4.exitCode(), r4.err());
    assertEquals(sorted(tmp.resolve("out1")), sorted(tmp.resolve("out4")));
    assertEquals(r1.out().replace("out1", "outX"), r4.out().replace("out4", "outX"));
  }

  @Test
  void settingsWorkLikeFlags() {
    Path in = input("in", 2);
    CliRun run = CliRun.of("inject-noise", "--input", in.toString(), "--output", tmp.resolve("out").toString(),
        "--set", "relabel.noise.rate=0.1", "--set", "relabel.noise.trustedSize=4");
    assertEquals(0, run.exitCode(), run.err());
    assertTrue(run.out().contains("flipped 40 of 396 noisy rows (symmetric noise, rate 0.1)"), run.out());
    // a flag wins over --set
    CliRun flag = CliRun.of("inject-noise", "--input", in.toString(), "--output", tmp.resolve("out2").toString(),
        "--set", "relabel.noise.rate=0.1", "--rate", "0.5");
    assertEquals(0, flag.exitCode(), flag.err());
    assertTrue(flag.out().contains("flipped 200 of 400 noisy rows (symmetric noise, rate 0.5)"), flag.out());
  }

  @Test
  void aRateOutsideZeroToOneIsRefused() {
    CliRun run = CliRun.of("inject-noise", "--input", "x", "--output", "y", "--rate", "1.5");
    assertEquals(2, run.exitCode());
    assertEquals("relabel inject-noise: error: invalid value for relabel.noise.rate: '1.5'; accepted: a number in"
        + " [0.0, 1.0]\n", run.err());
  }

  @Test
  void anExistingOutputIsKeptWithoutOverwrite() throws IOException {
    Path in = input("in", 1);
    Path out = tmp.resolve("out");
    Files.createDirectories(out);
    Files.writeString(out.resolve("keep.txt"), "mine");
    CliRun run = CliRun.of("inject-noise", "--input", in.toString(), "--output", out.toString());
    assertEquals(2, run.exitCode());
    assertEquals("relabel inject-noise: error: --output " + out + " exists; pass --overwrite to replace it\n",
        run.err());
    assertEquals("mine", Files.readString(out.resolve("keep.txt")));
    CliRun again = CliRun.of("inject-noise", "--input", in.toString(), "--output", out.toString(), "--overwrite");
    assertEquals(0, again.exitCode(), again.err());
    assertEquals(500, spark.read().parquet(out.toString()).count());
  }

  @Test
  void theInputIsNeverTheOutput() throws IOException {
    Path in = input("in", 1);
    Map<String, String> before = digests(in);
    CliRun run = CliRun.of("inject-noise", "--input", in.toString(), "--output", in + "/", "--overwrite");
    assertEquals(2, run.exitCode());
    assertEquals("relabel inject-noise: error: --output " + in + "/ overlaps --input " + in
        + "; the input is never modified, write the noisy table elsewhere\n", run.err());
    assertEquals(before, digests(in));
  }

  @Test
  void aMissingInputIsNamed() {
    Path in = tmp.resolve("nothing");
    CliRun run = CliRun.of("inject-noise", "--input", in.toString(), "--output", tmp.resolve("out").toString());
    assertEquals(2, run.exitCode());
    assertEquals("relabel inject-noise: error: --input " + in + ": no such table\n", run.err());
  }

  @Test
  void aBadPairMapIsRefusedWithTheClasses() {
    Path in = input("in", 1);
    CliRun run = CliRun.of("inject-noise", "--input", in.toString(), "--output", tmp.resolve("out").toString(),
        "--type", "pair", "--pairs", "0:6,6:10");
    assertEquals(2, run.exitCode());
    assertEquals("relabel inject-noise: error: relabel.noise.pairs names class '10', which is not a label in column"
        + " 'label' (classes: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9)\n", run.err());
    assertTrue(!Files.exists(tmp.resolve("out")));
  }

  @Test
  void helpShowsTheSettingsDocs() {
    CliRun run = CliRun.of("inject-noise", "--help");
    assertEquals(0, run.exitCode());
    String help = run.out().replaceAll("\\s+", " ");
    assertTrue(help.contains("--rate=R Exact share of noisy rows whose label is made wrong (the real error rate)."
        + " Sets relabel.noise.rate (default: 0.4)."), help);
    assertTrue(help.contains("--seed=S Seed of every random choice"), help);
    assertTrue(help.contains("Sets relabel.noise.trustedSize (default: 0)."), help);
    assertTrue(help.contains("Sets relabel.noise.pairs (default: 0:6,6:0,2:4,4:2)."), help);
    assertTrue(help.contains("--labeled-share=S Exact share of the non-trusted noisy-split rows that keep a label"),
        help);
    assertTrue(help.contains("Sets relabel.noise.labeledShare (default: 1.0)."), help);
    assertTrue(help.contains("--long-tail-ratio=R Before anything else, subsample the noisy split"), help);
    assertTrue(help.contains("longTailRatio (default: 1)."), help);
  }
}
