package io.relabel.spark.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The page from hand-made figures: escaping, no external resource, the heat maps' cells and the sections. */
class HtmlReportTest {

  static final String SCRIPT = "<script>alert(1)</script>";
  static final List<String> CLASSES = List.of(SCRIPT, "שלום", "cat 😀", "a&b \"q\"");

  static String manifest(boolean withCl, boolean withEval) {
    String cl = withCl ? """
        "cl": {"rows": 90, "issues": 12, "estimatedNoiseRate": 0.21,
               "noiseMatrix": [[0.8, 0.1, 0.0, 0.05], [0.1, 0.7, 0.2, 0.05], [0.1, 0.2, 0.75, 0.1],
                               [0.0, 0.0, 0.05, 0.8]]},""" : "";
    String eval = withEval ? """
        "eval": {"train": {"rows": 90, "givenAccuracy": 0.7, "correctedAccuracy": 0.85}},""" : "";
    return """
        {"runId": "run-42", "command": "run", "relabelVersion": "0.1.0", "startedAt": "2026-11-24T14:00:00.123Z",
         "endedAt": "2026-11-24T14:01:02Z", "spark": {"master": "local[2]", "defaultParallelism": 2},
         "settings": {"relabel.seed": "7", "relabel.decide.policy": "vote", "relabel.x": "<i>odd</i>"},
         "input": {"path": "/data/in <b>", "rows": 100}, "output": {"path": "/data/out", "rows": 100},
         "stages": [{"name": "validate", "seconds": 1.5, "rowsIn": 0, "rowsOut": 100},
                    {"name": "embed", "seconds": 2.0, "rowsIn": 100, "rowsOut": 100}],
         "metrics": {%s %s "consensus": {"share": 0.8}}}
        """.formatted(cl, eval);
  }

  static ReportStats.Stats stats(List<String> classes) {
    int k = classes.size();
    long[][] changes = new long[k][k];
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k; j++) {
        changes[i][j] = i == j ? 20 + i : (i + 2 * j) % 3;
      }
    }
    if (k == 4) {
      changes[3] = new long[4]; // a class without labeled rows: its cells have no share
    }
    long[] filled = new long[k];
    filled[0] = 3;
    long[] hist = new long[ReportStats.BINS];
    hist[3] = 4;
    hist[19] = 9;
    List<ReportStats.Sample> samples = List.of(
        new ReportStats.Sample("id <1>", classes.get(0), classes.get(1), 0.75,
            List.of(new ReportStats.Reason("model", classes.get(1), 0.75), new ReportStats.Reason("cl", SCRIPT, null)),
            "some text with <tags> & \u0007 bell"),
        new ReportStats.Sample("7", classes.get(1), classes.get(0), null, List.of(), null));
    return new ReportStats.Stats(classes, 100, 90, 10, 5, 6, 79, 8, 3, changes, filled,
        new long[][] {hist, hist.clone(), hist.clone()}, new long[][] {hist, hist.clone()},
        List.of("model", "consensus", "cl"), new long[] {9, 8, 7}, new long[] {6, 5, 4},
        new long[][] {{9, 3, 2}, {3, 8, 1}, {2, 1, 7}}, samples);
  }

  @Test
  void labelsAndDataAreEscapedAndOddUnicodeIsKept() {
    String html = HtmlReport.render(manifest(true, true), stats(CLASSES));
    assertFalse(html.toLowerCase(Locale.ROOT).contains("<script"), "a label became markup");
    assertTrue(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assertTrue(html.contains("<bdi>שלום</bdi>"), "RTL label isolated and intact");
    assertTrue(html.contains("cat 😀"));
    assertTrue(html.contains("a&amp;b &quot;q&quot;"));
    assertTrue(html.contains("/data/in &lt;b&gt;"));
    assertTrue(html.contains("&lt;i&gt;odd&lt;/i&gt;"));
    assertTrue(html.contains("id &lt;1&gt;"));
    assertTrue(html.contains("some text with &lt;tags&gt; &amp; \uFFFD bell"), "control character replaced");
    assertFalse(html.contains("<i>") || html.contains("<b>") || html.contains("<tags>"));
    assertTrue(html.startsWith("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">"));
  }

  @Test
  void escapingHandlesEveryMarkupCharacterAndBrokenSurrogates() {
    assertEquals("&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;", HtmlReport.esc("<a href=\"x\" title='y'>&"));
    assertEquals("\uFFFDx\uFFFD😀", HtmlReport.esc("\uD800x\u0000😀"));
    assertEquals("", HtmlReport.esc(null));
    assertEquals("0123456789abcde…", HtmlReport.cut("0123456789abcdefghij"));
    assertEquals("😀😀😀😀😀😀😀😀😀😀😀😀😀😀😀…", HtmlReport.cut("😀".repeat(20)));
  }

  @Test
  void nothingOnThePageIsLoadedFromElsewhere() {
    String html = HtmlReport.render(manifest(true, true), stats(CLASSES));
    String lower = html.toLowerCase(Locale.ROOT);
    for (String banned : List.of("http://", "https://", "<script", "<link", "<img", "<iframe", "<object", "<embed",
        "@import", "url(", "src=", "href=", "xlink:")) {
      assertFalse(lower.contains(banned), "found " + banned);
    }
    assertFalse(Pattern.compile("=\\s*[\"']?//").matcher(html).find(), "protocol-relative reference");
    assertTrue(html.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        + "style-src 'unsafe-inline'\">"));
  }

  /** The numbers printed in a heat map's cells, row by row, and the cells' fills. */
  static List<String[]> cells(String html, String name) {
    int start = html.indexOf("data-name=\"" + name + "\"");
    assertTrue(start >= 0, "no heat map " + name);
    String g = html.substring(start, html.indexOf("</g>", start));
    List<String> fills = new ArrayList<>();
    Matcher rect = Pattern.compile("<rect class=\"cell\"[^>]* fill=\"(#[0-9a-f]{6})\">").matcher(g);
    while (rect.find()) {
      fills.add(rect.group(1));
    }
    List<String> numbers = new ArrayList<>();
    Matcher text = Pattern.compile("class=\"cv[^\"]*\">([^<]*)</text>").matcher(g);
    while (text.find()) {
      numbers.add(text.group(1));
    }
    assertEquals(fills.size(), numbers.size());
    List<String[]> out = new ArrayList<>();
    for (int i = 0; i < fills.size(); i++) {
      out.add(new String[] {numbers.get(i), fills.get(i)});
    }
    return out;
  }

  @Test
  void theHeatMapsHaveOneCellPerClassPairWithItsNumberAndColour() {
    ReportStats.Stats s = stats(CLASSES);
    String html = HtmlReport.render(manifest(true, false), s);
    List<String[]> changes = cells(html, "changes");
    assertEquals(16, changes.size());
    for (int i = 0; i < 4; i++) {
      for (int j = 0; j < 4; j++) {
        assertEquals(Long.toString(s.changes()[i][j]), changes.get(i * 4 + j)[0], "cell " + i + "," + j);
      }
    }
    // colour by the row's share: row 0 is [20, 2, 1, 0] of 23, so the diagonal is dark and a 0 is the lightest
    assertEquals(HtmlReport.hex(HtmlReport.PALETTE[(int) Math.round(Math.sqrt(20 / 23.0) * 8)]), changes.get(0)[1]);
    assertEquals(HtmlReport.hex(HtmlReport.PALETTE[0]), changes.get(3)[1]);
    assertEquals(HtmlReport.EMPTY_CELL, changes.get(12)[1], "a row without labeled rows has no share");

    List<String[]> noise = cells(html, "noise");
    assertEquals(List.of("0.80", "0.10", "0.00", "0.05", "0.10", "0.70", "0.20", "0.05", "0.10", "0.20", "0.75",
        "0.10", "0.00", "0.00", "0.05", "0.80"), noise.stream().map(c -> c[0]).toList());
    assertEquals(HtmlReport.hex(HtmlReport.PALETTE[7]), noise.get(0)[1], "sqrt(0.8) of 8 steps rounds to 7");
    assertEquals(HtmlReport.hex(HtmlReport.PALETTE[0]), noise.get(2)[1]);
    assertTrue(html.contains("Estimated noise rate 0.210, 12 issues among 90 rows."));
  }

  @Test
  void everySectionIsThereAndOptionalOnesFollowTheManifest() {
    String html = HtmlReport.render(manifest(true, true), stats(CLASSES));
    for (String id : List.of("run", "counts", "matrices", "per-class", "histograms", "agreement", "samples",
        "evaluation")) {
      assertTrue(html.contains("<section id=\"" + id + "\">"), "missing section " + id);
    }
    assertTrue(html.contains("<tr><th>eval.train.correctedAccuracy</th><td>0.8500</td></tr>"));
    assertTrue(html.contains("<tr><th>eval.train.rows</th><td>90</td></tr>"));
    assertTrue(html.contains("<tr><th>relabel.decide.policy</th><td><bdi>vote</bdi></td></tr>"));
    assertTrue(html.contains("<tr><th>embed</th><td>2.0</td><td>100</td><td>100</td><td>50</td></tr>"));
    assertTrue(html.contains("<dd><bdi>2026-11-24 14:00:00 UTC</bdi></dd>"));
    assertTrue(html.contains("<tr><th>model</th><td>9</td><td>6</td><td>66.7%</td><td class=\"diag\">–</td>"
        + "<td>3</td><td>2</td></tr>"), "agreement row");
    assertTrue(html.contains("2 of 8 changed rows"));
    assertTrue(html.contains("<span class=\"why\">model: <bdi>שלום</bdi> (0.75)</span>"));
    assertTrue(html.contains("<h3>Label quality (cl_quality)</h3>"));

    ReportStats.Stats s = stats(CLASSES);
    ReportStats.Stats noQuality = new ReportStats.Stats(s.classes(), s.rows(), s.labeled(), s.unlabeled(),
        s.trusted(), s.heldOut(), s.changeable(), s.changed(), s.filled(), s.changes(), s.filledInto(),
        s.confidence(), null, s.methods(), s.flagged(), s.followed(), s.overlap(), List.of());
    String bare = HtmlReport.render(manifest(false, false), noQuality);
    assertFalse(bare.contains("<section id=\"evaluation\">"));
    assertFalse(bare.contains("data-name=\"noise\""));
    assertTrue(bare.contains("Confident learning did not run"));
    assertFalse(bare.contains("cl_quality)</h3>"));
    assertFalse(bare.contains("<table class=\"samples\">"));
    assertEquals(16, cells(bare, "changes").size());
  }

  @Test
  void aHundredClassesGetTheLargestCellsAndBarsInsteadOfAGrid() {
    List<String> classes = new ArrayList<>();
    for (int i = 0; i < 100; i++) {
      classes.add("c" + i);
    }
    String html = HtmlReport.render(manifest(false, false), stats(classes));
    assertFalse(html.contains("data-name=\"changes\" ") || html.contains("<rect class=\"cell\""), "no grid");
    assertTrue(html.contains("100 classes are too many for a grid: the 40 largest cells off the diagonal."));
    int table = html.indexOf("<table class=\"num top\" data-name=\"changes\">");
    assertTrue(table >= 0);
    String rows = html.substring(table, html.indexOf("</table>", table));
    assertEquals(1 + HtmlReport.TOP_CELLS, rows.split("<tr>").length - 1, "header and 40 cells");
    // every off-diagonal count is (i + 2j) mod 3, so the largest are 2s, first by given then corrected class
    assertTrue(rows.contains("<tr><th><bdi>c0</bdi></th><th><bdi>c1</bdi></th><td>2</td></tr><tr><th><bdi>c0"
        + "</bdi></th><th><bdi>c4</bdi></th><td>2</td></tr>"), rows.substring(0, 400));
    assertTrue(html.contains("The 60 of 100 classes with the most changed and filled rows."));
    assertTrue(html.length() < 200_000, "page of " + html.length() + " characters");
  }

  @Test
  void aNonFiniteMetricIsShownAsMissing() {
    String m = manifest(true, false).replace("[0.0, 0.0, 0.05, 0.8]", "[NaN, 0.0, 0.05, 0.8]");
    List<String[]> noise = cells(HtmlReport.render(m, stats(CLASSES)), "noise");
    assertEquals("–", noise.get(12)[0]);
    assertEquals(HtmlReport.EMPTY_CELL, noise.get(12)[1]);
  }

  @Test
  void manyClassesKeepTheirNamesReadable() {
    List<String> classes = new ArrayList<>();
    for (int i = 0; i < 26; i++) {
      classes.add("noun." + "abcdefghijklmnopqrstuvwxyz".charAt(i) + "-a-rather-long-lexicographer-file");
    }
    String html = HtmlReport.render(manifest(false, false), stats(classes));
    assertEquals(26 * 26, cells(html, "changes").size());
    String first = classes.get(0);
    assertTrue(html.contains("<title>" + first + "</title>" + HtmlReport.cut(first) + "</text>"));
    assertTrue(HtmlReport.cut(first).endsWith("…"));
    assertTrue(html.contains("rotate(-45"), "column names are rotated");
  }
}
