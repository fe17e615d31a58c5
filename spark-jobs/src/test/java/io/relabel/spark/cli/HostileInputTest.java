package io.relabel.spark.cli;

import static io.relabel.spark.io.Tables.FLOATS;
import static io.relabel.spark.io.Tables.f;
import static io.relabel.spark.io.Tables.fl;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.spark.SparkTestSession;
import io.relabel.spark.io.Tables;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.spark.SparkException;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Hostile and broken input through the command line, one row per case of the README's table "Hostile and broken
 * input": the exit code, the one error line a user sees, no stack trace, no output or staging directory left, and
 * the input unchanged. The cases that should succeed are in {@link #oddUnicodeLabelsAndAllZeroVectorsRoundTrip}.
 */
@Tag("spark")
class HostileInputTest {

  @TempDir static Path dir;

  /** Settings that keep the one case that trains to seconds; fail-fast cases stop before they matter. */
  static final List<String> FAST = List.of("--master", "local[2]",
      "--set", "relabel.train.epochs=3", "--set", "relabel.consensus.retrainEpochs=3",
      "--set", "relabel.train.hiddenUnits=8", "--set", "relabel.train.batchSize=32",
      "--set", "relabel.train.averagingFrequency=5", "--set", "relabel.embed.pcaDims=3",
      "--set", "relabel.consensus.folds=2", "--set", "relabel.hdl.minSupport=2", "--set", "relabel.hdl.rounds=2",
      "--set", "relabel.hdl.maxIterations=5", "--set", "relabel.hdl.kMax=5");

  /** Writes a case's input table into the directory it is given. */
  @FunctionalInterface
  interface Input {
    void write(Path in) throws Exception;
  }

  /**
   * @param expected the whole error line after {@code relabel run: error: }, with {@code {in}} for the input path
   *                 and {@code {out}} for the output path
   */
  record Case(String name, Input input, List<String> settings, String expected) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Case of(String name, Input input, String expected, String... settings) {
    return new Case(name, input, List.of(settings), expected);
  }

  /** The table as one Parquet file named {@code name} in {@code in}, so that messages can name it. */
  static void file(Dataset<Row> t, Path in, String name) throws IOException {
    Path tmp = in.resolveSibling(in.getFileName() + "-" + name + ".tmp");
    t.coalesce(1).write().parquet(tmp.toString());
    Files.createDirectories(in);
    try (Stream<Path> s = Files.list(tmp)) {
      Path part = s.filter(p -> p.getFileName().toString().endsWith(".parquet")).findFirst().orElseThrow();
      Files.move(part, in.resolve(name));
    }
    try (Stream<Path> s = Files.walk(tmp)) {
      s.sorted((a, b) -> b.compareTo(a)).forEach(p -> p.toFile().delete());
    }
  }

  static Input table(Tables t) {
    return in -> file(t.build(), in, "part-0.parquet");
  }

  /** A valid little table: 2 classes, 3 features. */
  static Tables good() {
    return Tables.standard().row(1L, f(1, 0, 0), 0L).row(2L, f(0, 1, 0), 1L).row(3L, f(1, 1, 0), 0L)
        .row(4L, f(0, 0, 1), 1L);
  }

  static Tables strings(String... labels) {
    Tables t = Tables.of("id", DataTypes.LongType, "features", FLOATS, "label", DataTypes.StringType);
    for (int i = 0; i < labels.length; i++) {
      t.row((long) i + 1, f(i, 1), labels[i]);
    }
    return t;
  }

  static Tables trusted(Object... labelsAndTrust) {
    Tables t = Tables.of("id", DataTypes.LongType, "features", FLOATS, "label", DataTypes.LongType, "trusted",
        DataTypes.BooleanType);
    for (int i = 0; i < labelsAndTrust.length; i += 2) {
      t.row((long) i, f(i, 1), labelsAndTrust[i], labelsAndTrust[i + 1]);
    }
    return t;
  }

  static Stream<Case> cases() {
    return Stream.of(
        // ---- the foundation's cases (InputReader, InputValidator, TableWriter)
        of("missing column", table(Tables.of("id", DataTypes.LongType, "features", FLOATS, "y", DataTypes.LongType)
                .row(1L, f(1), 1L)),
            "column 'label' (relabel.input.labelCol) is missing; the table has columns: id, features, y"),
        of("wrong id type", table(Tables.of("id", DataTypes.DoubleType, "features", FLOATS, "label",
                DataTypes.LongType).row(1.0, f(1), 1L)),
            "column 'id' (relabel.input.idCol) has type double; accepted: tinyint, smallint, int or bigint or string"),
        of("null id", table(good().row(null, f(1, 1, 1), 1L)),
            "column 'id' (the row id) is null in 1 row; the first is row 4 of input partition 0 (file file://{in}"
                + "/part-0.parquet)"),
        of("duplicate id", table(good().row(2L, f(1, 1, 1), 1L)),
            "column 'id' must be unique, but 1 id occurs more than once (2 rows in all); the first is id 2, which"
                + " occurs 2 times"),
        of("null features", table(good().row(9L, null, 1L)), "column 'features' is null in 1 row; the first is row"
            + " id 9"),
        of("inconsistent length", table(good().row(7L, f(1, 2), 1L)),
            "column 'features' has inconsistent lengths: 1 row differs from the expected length 3 (the length of 4"
                + " of 5 rows); the first is row id 7 with length 2"),
        of("NaN feature", table(good().row(8L, f(0, Float.NaN, 1), 1L)),
            "column 'features' has NaN, infinite or null elements in 1 row; the first is row id 8, element 1 = NaN"),
        of("infinite feature", table(good().row(8L, f(Float.NEGATIVE_INFINITY, 0, 1), 1L)),
            "column 'features' has NaN, infinite or null elements in 1 row; the first is row id 8, element 0 ="
                + " -Infinity"),
        of("null feature element", table(Tables.standard().row(1L, fl(1f, 2f), 0L).row(2L, fl(null, 2f), 1L)),
            "column 'features' has NaN, infinite or null elements in 1 row; the first is row id 2, element 0 = null"),
        of("label outside declared classes", table(good().row(5L, f(1, 1, 1), 7L)),
            "column 'label' has values outside relabel.input.classes in 1 row; the first is row id 5 with label 7;"
                + " declared classes: 0, 1", "--set", "relabel.input.classes=0,1"),
        of("trusted row without label", table(trusted(0L, true, 1L, false, null, true)),
            "column 'label' is null in 1 row that column 'trusted' marks as trusted; the first is row id 4"),
        of("empty table", table(Tables.standard()), "the input table has no rows"),
        of("not Parquet", in -> {
          Files.createDirectories(in);
          Files.writeString(in.resolve("part-0.csv"), "id,features,label\n1,\"[1,2]\",0\n");
        }, "input {in} is not a Parquet table: part-0.csv is not a Parquet file (no PAR1 magic bytes)"),
        of("input does not exist", in -> { }, "input {in} does not exist"),
        of("no labels at all", table(Tables.standard().row(1L, f(1), null)),
            "column 'label' is null in all 1 row; at least one labeled row is needed"),
        of("input column relabel writes", table(Tables.of("id", DataTypes.LongType, "features", FLOATS, "label",
                DataTypes.LongType, "label_corrected", DataTypes.LongType).row(1L, f(1), 0L, 0L)),
            "input column label_corrected is one relabel writes (output of an earlier run?); rename or drop it"),
        // ---- vectors
        of("one zero-length vector", table(good().row(6L, f(), 0L)),
            "column 'features' has inconsistent lengths: 1 row differs from the expected length 3 (the length of 4"
                + " of 5 rows); the first is row id 6 with length 0"),
        of("all vectors zero-length", table(Tables.standard().row(1L, f(), 0L).row(2L, f(), 1L)),
            "column 'features' has length 0 in every row; at least one feature is needed"),
        // ---- classes and the trusted set
        of("single class", table(Tables.standard().row(1L, f(1), 4L).row(2L, f(2), 4L).row(3L, f(3), null)),
            "column label has 1 class(es) [4]; at least 2 are needed"),
        of("EMLC without trusted rows", table(trusted(0L, false, 1L, null, 0L, false, 1L, false)),
            "relabel.emlc.mode=emlc trains its teacher on trusted rows, but column 'trusted' marks no row as"
                + " trusted; mark a few hundred verified rows or set relabel.emlc.mode=off",
            "--set", "relabel.emlc.mode=emlc"),
        // ---- string labels
        of("empty string label", table(strings("cat", "", "dog")),
            "column 'label' has an empty or blank label in 1 row; the first is row id 2 with value ''; write null"
                + " for an unlabeled row"),
        of("blank label", table(strings("cat", "dog", " \t")),
            "column 'label' has an empty or blank label in 1 row; the first is row id 3 with value ' \\t'; write"
                + " null for an unlabeled row"),
        of("NFC and NFD spellings of one label", table(strings("caf\u00e9", "dog", "cafe\u0301")),
            "column 'label' has labels 'cafe\\u0301' and 'caf\\u00e9', which are the same after Unicode NFC"
                + " normalisation and trimming; write each class one way"),
        of("label with trailing space beside the same label", table(strings("cat", "dog", "cat ")),
            "column 'label' has labels 'cat' and 'cat ', which are the same after Unicode NFC normalisation and"
                + " trimming; write each class one way"),
        of("nested label type", table(Tables.of("id", DataTypes.LongType, "features", FLOATS, "label",
                new StructType().add("name", DataTypes.StringType)).row(1L, f(1), org.apache.spark.sql.RowFactory
                .create("cat"))),
            "column 'label' (relabel.input.labelCol) has type struct<name:string>; accepted: tinyint, smallint, int"
                + " or bigint or string"),
        // ---- files
        of("ids of mixed types across files", in -> {
          file(good().build(), in, "part-0.parquet");
          file(Tables.of("id", DataTypes.StringType, "features", FLOATS, "label", DataTypes.LongType)
              .row("x", f(1, 1, 1), 0L).build(), in, "part-1.parquet");
        }, "input {in}: column 'id' has type bigint in part-0.parquet but string in part-1.parquet; every file of a"
            + " table must give a column the same type"),
        of("garbage bytes named .parquet", in -> {
          file(good().build(), in, "part-0.parquet");
          Files.write(in.resolve("part-x.parquet"), garbage(4096));
        }, "input {in} is not a Parquet table: part-x.parquet is not a Parquet file (no PAR1 magic bytes)"),
        of("truncated Parquet file", in -> {
          file(good().build(), in, "part-0.parquet");
          file(good().build(), in, "part-1.parquet");
          byte[] whole = Files.readAllBytes(in.resolve("part-1.parquet"));
          Files.write(in.resolve("part-1.parquet"), Arrays.copyOf(whole, whole.length / 2));
        }, "input {in} is not a Parquet table: part-1.parquet is not a whole Parquet file: it starts with PAR1 but"
            + " does not end with it (truncated, or still being written)"),
        of("corrupt footer", in -> {
          file(good().build(), in, "part-0.parquet");
          byte[] bytes = Files.readAllBytes(in.resolve("part-0.parquet"));
          // the footer length (the little-endian int before the closing PAR1) set to the file's own length
          int len = bytes.length;
          for (int i = 0; i < 4; i++) {
            bytes[len - 8 + i] = (byte) (len >>> (8 * i));
          }
          Files.write(in.resolve("part-0.parquet"), bytes);
        }, "input {in} is not a Parquet table: part-0.parquet has a corrupt footer (corrupted file: the footer index"
            + " is not within the file: -8)"),
        of("corrupt data page", in -> {
          file(good().build(), in, "part-0.parquet");
          byte[] bytes = Files.readAllBytes(in.resolve("part-0.parquet"));
          // the first column chunk's data, just after the leading PAR1, overwritten; the footer stays intact
          Arrays.fill(bytes, 8, 60, (byte) 0x5a);
          Files.write(in.resolve("part-0.parquet"), bytes);
        }, "file file://{in}/part-0.parquet cannot be read (corrupt, or changed while relabel ran): can not"
            + " read class org.apache.parquet.format.PageHeader: Socket is closed by peer."),
        of("0-byte file", in -> {
          file(good().build(), in, "part-0.parquet");
          Files.write(in.resolve("part-1.parquet"), new byte[0]);
        }, "input {in} is not a Parquet table: part-1.parquet is empty (0 bytes)"),
        of("column names differing only in case", in -> {
          SparkSession spark = SparkTestSession.get();
          spark.conf().set("spark.sql.caseSensitive", "true");
          try {
            file(good().build().withColumn("Label", org.apache.spark.sql.functions.col("label")), in,
                "part-0.parquet");
          } finally {
            spark.conf().set("spark.sql.caseSensitive", "false");
          }
        }, "input {in}: part-0.parquet has columns 'label' and 'Label', which differ only in case; Spark resolves"
            + " column names ignoring case, so rename one"));
  }

  static byte[] garbage(int n) {
    byte[] b = new byte[n];
    new Random(3).nextBytes(b);
    return b;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void brokenInputGivesOneLineAndLeavesNothingBehind(Case c) throws Exception {
    Path caseDir = dir.resolve(c.name().replaceAll("[^A-Za-z0-9]+", "-"));
    Files.createDirectories(caseDir);
    Path in = caseDir.resolve("in");
    Path out = caseDir.resolve("out");
    c.input().write(in);
    Map<String, String> before = snapshot(in);
    List<String> args = new ArrayList<>(List.of("run", "--input", in.toString(), "--output", out.toString()));
    args.addAll(FAST);
    args.addAll(c.settings());
    CliRun run = CliRun.of(args.toArray(new String[0]));
    String expected = "relabel run: error: " + c.expected().replace("{in}", in.toString())
        .replace("{out}", out.toString());
    assertOneErrorLine(run, expected);
    assertFalse(Files.exists(out), "output left behind");
    assertNoStaging(caseDir);
    assertEquals(before, snapshot(in), "the input changed");
  }

  @Test
  void existingOutputIsRefusedAndKept() throws Exception {
    Path caseDir = dir.resolve("existing-output");
    Path in = caseDir.resolve("in");
    Path out = caseDir.resolve("out");
    table(good()).write(in);
    Files.createDirectories(out);
    Files.writeString(out.resolve("keep.txt"), "mine");
    Map<String, String> before = snapshot(in);
    List<String> args = new ArrayList<>(List.of("run", "--input", in.toString(), "--output", out.toString()));
    args.addAll(FAST);
    CliRun run = CliRun.of(args.toArray(new String[0]));
    assertOneErrorLine(run, "relabel run: error: output " + out + " already exists; refusing to replace it"
        + " (overwrite was not requested)");
    assertEquals(Map.of("keep.txt", sha256("mine".getBytes(StandardCharsets.UTF_8))), snapshot(out));
    assertNoStaging(caseDir);
    assertEquals(before, snapshot(in));
  }

  /**
   * Labels are taken byte for byte: emoji, right-to-left text, a combining mark, a zero-width joiner and surrounding
   * spaces all reach label_given and label_corrected unchanged. All-zero feature vectors are valid input: PCA
   * centres them, and the cosine steps (HDL) treat a zero vector as similar to nothing rather than dividing by its
   * zero length, so no NaN reaches the output.
   */
  @ParameterizedTest(name = "encoder {0}")
  @ValueSource(strings = {"pca", "vectors"})
  void oddUnicodeLabelsAndAllZeroVectorsRoundTrip(String encoder) throws Exception {
    List<String> labels = List.of("\uD83D\uDC31 cat", "\u05DB\u05DC\u05D1", "e\u0301t\u00e9",
        "\uD83D\uDC69\u200D\uD83D\uDCBB", " padded ");
    Tables t = Tables.of("id", DataTypes.LongType, "features", FLOATS, "label", DataTypes.StringType);
    Random r = new Random(11);
    for (long id = 0; id < 100; id++) {
      int y = (int) (id % labels.size());
      float[] x = new float[4];
      if (id % 17 != 3) {
        for (int j = 0; j < x.length; j++) {
          x[j] = (float) ((j == y % 4 ? 3 : 0) + (y == 4 ? -2 : 0) + r.nextGaussian() * 0.3);
        }
      }
      t.row(id, x, labels.get(y));
    }
    Path caseDir = dir.resolve("unicode-" + encoder);
    Path in = caseDir.resolve("in");
    Path out = caseDir.resolve("out");
    table(t).write(in);
    Map<String, String> before = snapshot(in);
    List<String> args = new ArrayList<>(List.of("run", "--input", in.toString(), "--output", out.toString()));
    args.addAll(FAST);
    args.addAll(List.of("--set", "relabel.embed.encoder=" + encoder));
    CliRun run = CliRun.of(args.toArray(new String[0]));
    assertEquals(0, run.exitCode(), run.err());
    assertFalse(run.err().contains("\tat "), run.err());
    assertEquals(before, snapshot(in));
    List<Row> rows = SparkTestSession.get().read().parquet(out.toString())
        .select("id", "label", "label_given", "label_corrected", "label_confidence", "hdl_confidence").collectAsList();
    assertEquals(100, rows.size());
    for (Row row : rows) {
      assertEquals(row.getString(1), row.getString(2), "label_given of row " + row.get(0));
      assertTrue(labels.contains(row.getString(3)), "label_corrected of row " + row.get(0) + ": '"
          + row.getString(3) + "'");
      assertFalse(Double.isNaN(row.getDouble(4)), "label_confidence of row " + row.get(0));
      assertTrue(row.isNullAt(5) || !Double.isNaN(row.getDouble(5)), "hdl_confidence of row " + row.get(0));
    }
  }

  /** An executor's user error arrives wrapped; a bug gets a summary line before its stack trace. */
  @Test
  void wrappedUserErrorsAreOneLineAndBugsStartWithASummary() {
    StringWriter text = new StringWriter();
    Exception wrapped = new SparkException("Job aborted due to stage failure",
        new RuntimeException("task failed", new RelabelException("column 'x' is broken")));
    assertEquals(2, Main.report(wrapped, "run", new PrintWriter(text, true)));
    assertEquals("relabel run: error: column 'x' is broken" + System.lineSeparator(), text.toString());

    StringWriter bug = new StringWriter();
    Exception unexpected = new SparkException("Job aborted", new IllegalStateException("no such state"));
    assertEquals(1, Main.report(unexpected, "run", new PrintWriter(bug, true)));
    String[] lines = bug.toString().split(System.lineSeparator());
    assertEquals("relabel run: failed: java.lang.IllegalStateException: no such state", lines[0]);
    assertEquals("org.apache.spark.SparkException: Job aborted", lines[1]);
    assertTrue(lines[2].startsWith("\tat "), lines[2]);
  }

  static void assertOneErrorLine(CliRun run, String expected) {
    assertEquals(2, run.exitCode(), run.err());
    List<String> ours = run.err().lines().filter(l -> l.startsWith("relabel ")).toList();
    assertEquals(List.of(expected), ours);
    assertFalse(run.err().contains("\tat "), "a stack trace in stderr:\n" + run.err());
  }

  static void assertNoStaging(Path parent) throws IOException {
    try (Stream<Path> s = Files.list(parent)) {
      List<String> left = s.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".out.staging-")).toList();
      assertEquals(List.of(), left, "staging directories left behind");
    }
  }

  /** Relative path to SHA-256 of every file under {@code root} (empty when it does not exist). */
  static Map<String, String> snapshot(Path root) throws IOException {
    Map<String, String> out = new TreeMap<>();
    if (!Files.exists(root)) {
      return out;
    }
    try (Stream<Path> s = Files.walk(root)) {
      s.filter(Files::isRegularFile).forEach(p -> {
        try {
          out.put(root.relativize(p).toString(), sha256(Files.readAllBytes(p)));
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      });
    }
    return out;
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
