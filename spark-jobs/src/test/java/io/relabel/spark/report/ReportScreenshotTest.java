package io.relabel.spark.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.relabel.core.util.RowSeeds;
import io.relabel.spark.SparkTestSession;
import io.relabel.spark.cli.CliRun;
import io.relabel.spark.io.RunManifest;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real run's {@code _report.html} (through {@code relabel run}, which prints its path), opened in headless
 * Chromium (the Debian package chromium; bin/install-chromium installs it, and bin/test runs that first). The
 * screenshot is kept at {@code spark-jobs/target/report-screenshot.png} and the page beside it
 * ({@code report-screenshot.html}). Tag {@code browser}: a plain {@code mvn test} leaves it out (it needs chromium),
 * bin/test runs it.
 */
@Tag("spark")
@Tag("browser")
class ReportScreenshotTest {

  static final int WIDTH = 1280;
  static final int HEIGHT = 2600;
  static final List<String> CLASSES = List.of("cat", "<b>dog</b>", "שלום", "émoji 😀");

  @TempDir Path dir;

  static Path chromium() {
    for (String candidate : List.of("/usr/bin/chromium", "/usr/bin/chromium-browser")) {
      if (Files.isExecutable(Path.of(candidate))) {
        return Path.of(candidate);
      }
    }
    return null;
  }

  /**
   * 4 Gaussian classes in 8-d with odd names; 25% of the labels flipped, 5% missing, a few trusted rows. No true
   * labels and no held-out split: the evaluation stage would cost seconds, and its section (checked by
   * HtmlReportTest) lies below the screenshot anyway.
   */
  String writeInput() {
    Random r = new Random(23);
    int k = CLASSES.size();
    int dim = 8;
    double[][] centers = new double[k][dim];
    for (double[] c : centers) {
      for (int j = 0; j < dim; j++) {
        c[j] = r.nextGaussian() * 3;
      }
    }
    List<Row> rows = new ArrayList<>();
    for (long id = 0; id < 900; id++) {
      int y = (int) (id % k);
      float[] x = new float[dim];
      for (int j = 0; j < dim; j++) {
        x[j] = (float) (centers[y][j] + r.nextGaussian());
      }
      boolean trusted = id % 40 == 1;
      int given = y;
      if (!trusted && RowSeeds.uniform(3, "s", id, 0) < 0.25) {
        given = (y + 1 + RowSeeds.uniformInt(3, "s", id, 1, k - 1)) % k;
      }
      boolean unlabeled = !trusted && id % 20 == 7;
      rows.add(RowFactory.create(id, x, unlabeled ? null : CLASSES.get(given), trusted));
    }
    StructType schema = new StructType()
        .add("id", DataTypes.LongType)
        .add("features", DataTypes.createArrayType(DataTypes.FloatType))
        .add("label", DataTypes.StringType)
        .add("trusted", DataTypes.BooleanType);
    String input = dir.resolve("in").toString();
    SparkTestSession.get().createDataFrame(rows, schema).repartition(2).write().parquet(input);
    return input;
  }

  @Test
  void theReportOfARealRunRendersInHeadlessChromium() throws Exception {
    Path chromium = chromium();
    if (chromium == null) {
      fail("chromium is not installed (/usr/bin/chromium): run bin/install-chromium (the Debian package chromium)");
    }
    // a cheap run that still fills the screenshot: features as they are, no HDL
    Map<String, String> fast = new HashMap<>(Map.of(
        "relabel.train.epochs", "6",
        "relabel.consensus.retrainEpochs", "6",
        "relabel.train.hiddenUnits", "24",
        "relabel.train.batchSize", "64",
        "relabel.embed.encoder", "vectors",
        "relabel.hdl.mode", "off",
        "relabel.consensus.folds", "3",
        "relabel.decide.minVotes", "2",
        "relabel.report.samples", "12"));
    String out = dir.resolve("out").toString();
    List<String> args = new ArrayList<>(List.of("run", "--input", writeInput(), "--output", out, "--master",
        "local[2]"));
    fast.forEach((k, v) -> args.addAll(List.of("--set", k + "=" + v)));
    CliRun run = CliRun.of(args.toArray(String[]::new));
    assertEquals(0, run.exitCode(), run.err());

    Path report = Path.of(out, HtmlReport.FILE_NAME);
    assertTrue(run.out().contains("\noutput: " + out + "\nreport: " + report + "\n"), run.out());
    assertTrue(Files.isRegularFile(report), "the committed output holds " + HtmlReport.FILE_NAME);
    RunManifest manifest = RunManifest.fromJson(Files.readString(Path.of(out, RunManifest.FILE_NAME)));
    String html = Files.readString(report, StandardCharsets.UTF_8);
    assertTrue(html.contains(manifest.runId()));
    assertTrue(html.contains("&lt;b&gt;dog&lt;/b&gt;") && !html.contains("<b>dog"));
    assertTrue(html.contains("data-name=\"noise\"") && html.contains("data-name=\"changes\""));
    assertTrue(html.contains("<table class=\"samples\">"), "a 25% noisy table has changed rows to sample");

    Path png = Path.of("target", "report-screenshot.png").toAbsolutePath();
    Files.createDirectories(png.getParent());
    Files.deleteIfExists(png);
    Files.copy(report, png.resolveSibling("report-screenshot.html"), StandardCopyOption.REPLACE_EXISTING);
    screenshot(chromium, report, png);

    BufferedImage img = ImageIO.read(png.toFile());
    assertNotNull(img, "chromium wrote no PNG at " + png);
    assertEquals(WIDTH, img.getWidth());
    assertEquals(HEIGHT, img.getHeight());
    Set<Integer> distinct = new HashSet<>();
    Map<Integer, Integer> palette = new HashMap<>();
    for (int i = 1; i < HtmlReport.PALETTE.length; i++) {
      palette.put(HtmlReport.PALETTE[i], i);
    }
    int changedBar = Integer.parseInt(HtmlReport.CHANGED.substring(1), 16);
    long[] steps = new long[HtmlReport.PALETTE.length];
    long bars = 0;
    for (int y = 0; y < HEIGHT; y++) {
      for (int x = 0; x < WIDTH; x++) {
        int rgb = img.getRGB(x, y) & 0xffffff;
        distinct.add(rgb);
        Integer step = palette.get(rgb);
        if (step != null) {
          steps[step]++;
        }
        if (rgb == changedBar) {
          bars++;
        }
      }
    }
    assertTrue(distinct.size() > 200, "a blank page? only " + distinct.size() + " colours");
    long heat = 0;
    int stepsSeen = 0;
    for (long n : steps) {
      heat += n;
      stepsSeen += n > 500 ? 1 : 0;
    }
    // two 4x4 heat maps of 56 px cells: dark diagonals and pale off-diagonal cells
    assertTrue(heat > 16 * 2500, "heat-map colours cover only " + heat + " px: " + Arrays.toString(steps));
    assertTrue(stepsSeen >= 3, "heat maps use only " + stepsSeen + " colour steps: " + Arrays.toString(steps));
    long dark = 0;
    for (int i = HtmlReport.PALETTE.length / 2 + 1; i < steps.length; i++) {
      dark += steps[i];
    }
    assertTrue(dark > 4 * 2500, "dark (diagonal) cells: " + Arrays.toString(steps));
    assertTrue(bars > 1000, "bars and histograms of changed rows: " + bars + " px");
  }

  /** Headless Chromium screenshot of a local page; killed (with its children) when it overruns. */
  static void screenshot(Path chromium, Path page, Path png) throws IOException, InterruptedException {
    Path profile = Files.createTempDirectory("relabel-chromium-");
    Path log = Files.createTempFile("relabel-chromium-", ".log");
    List<String> cmd = List.of(chromium.toString(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--hide-scrollbars", "--user-data-dir=" + profile, "--screenshot=" + png,
        "--window-size=" + WIDTH + "," + HEIGHT, page.toUri().toString());
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    try {
      if (!p.waitFor(90, TimeUnit.SECONDS)) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        fail("chromium did not finish within 90 s; its output: " + tail(log));
      }
      assertEquals(0, p.exitValue(), "chromium failed; its output: " + tail(log));
      assertTrue(Files.isRegularFile(png), "chromium wrote no " + png + "; its output: " + tail(log));
    } finally {
      deleteTree(profile.toFile());
      Files.deleteIfExists(log);
    }
  }

  private static String tail(Path log) throws IOException {
    String s = Files.readString(log, StandardCharsets.UTF_8);
    return s.length() > 2000 ? s.substring(s.length() - 2000) : s;
  }

  private static void deleteTree(File f) {
    File[] children = f.listFiles();
    if (children != null) {
      for (File c : children) {
        deleteTree(c);
      }
    }
    assertFalse(f.exists() && !f.delete() && f.exists(), "cannot delete " + f);
  }
}
