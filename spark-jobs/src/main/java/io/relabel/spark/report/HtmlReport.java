package io.relabel.spark.report;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The run report: one self-contained HTML page (inline CSS and inline SVG, no script, no external resource; a
 * Content-Security-Policy forbids loading anything), rendered from the run manifest and {@link ReportStats}. Every
 * string that comes from data (class names, ids, paths, text) is escaped, and labels sit in {@code <bdi>} so that
 * right-to-left names do not reorder the text around them.
 */
public final class HtmlReport {

  /** The sidecar file name inside the output table (a leading '_' makes Parquet readers skip it). */
  public static final String FILE_NAME = "_report.html";

  /** The heat maps' colour steps, lightest (0) to darkest (1), as 0xRRGGBB. */
  public static final int[] PALETTE = palette();

  /** Fill of a heat-map cell with no value (a class without rows). */
  static final String EMPTY_CELL = "#e4e4e4";
  static final String CHANGED = "#e0762f";
  static final String KEPT = "#8c96a8";
  static final String FILLED = "#8a63c2";

  /** Classes up to which the matrices are drawn as heat maps and every class gets a bar. */
  static final int MAX_GRID_CLASSES = 60;
  /** Cells listed instead of a heat map for more classes. */
  static final int TOP_CELLS = 40;

  /** Code points of a class name in chart axes before it is cut (the full name is in the tooltip). */
  static final int LABEL_CHARS = 16;

  // a metric that is not a finite number must not make the report, and with it the run's commit, fail
  private static final ObjectMapper JSON = JsonMapper.builder()
      .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS).build();

  /** The settings the header lists (all of them are in a folded table below it). */
  private static final List<String> KEY_SETTINGS = List.of("relabel.seed", "relabel.embed.encoder",
      "relabel.train.workers", "relabel.consensus.predict", "relabel.consensus.folds", "relabel.consensus.retrain",
      "relabel.cl.enabled", "relabel.hdl.mode", "relabel.emlc.mode", "relabel.privacy.mechanism",
      "relabel.decide.policy", "relabel.decide.voters", "relabel.decide.minVotes", "relabel.decide.minConfidence");

  private HtmlReport() {}

  /** The page for a run: {@code manifestJson} as the run manifest writes it, {@code stats} from its final rows. */
  public static String render(String manifestJson, ReportStats.Stats stats) {
    JsonNode m;
    try {
      m = JSON.readTree(manifestJson);
    } catch (IOException e) {
      throw new UncheckedIOException("the run manifest is not JSON", e);
    }
    StringBuilder h = new StringBuilder(64 * 1024);
    h.append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
        .append("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; ")
        .append("style-src 'unsafe-inline'\">\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
        .append("<title>relabel run ").append(esc(m.path("runId").asText())).append("</title>\n<style>")
        .append(CSS).append("</style>\n</head>\n<body>\n");
    header(h, m);
    h.append("<main>\n");
    settingsAndStages(h, m);
    counts(h, stats);
    matrices(h, m, stats);
    perClass(h, stats);
    histograms(h, stats);
    agreement(h, stats);
    samples(h, stats);
    evaluation(h, m);
    h.append("</main>\n</body>\n</html>\n");
    return h.toString();
  }

  // ------------------------------------------------------------------------------------------------ sections

  private static void header(StringBuilder h, JsonNode m) {
    h.append("<header>\n<h1>relabel run report</h1>\n<dl class=\"meta\">");
    meta(h, "run id", m.path("runId").asText());
    meta(h, "command", m.path("command").asText() + " (relabel " + m.path("relabelVersion").asText() + ")");
    meta(h, "input", m.path("input").path("path").asText());
    meta(h, "output", m.path("output").path("path").asText());
    meta(h, "started", when(m.path("startedAt").asText()));
    meta(h, "ended", when(m.path("endedAt").asText()));
    meta(h, "Spark", m.path("spark").path("master").asText() + ", parallelism "
        + m.path("spark").path("defaultParallelism").asText());
    h.append("</dl>\n</header>\n");
  }

  private static void meta(StringBuilder h, String name, String value) {
    h.append("<div><dt>").append(esc(name)).append("</dt><dd><bdi>").append(esc(value)).append("</bdi></dd></div>");
  }

  /** An ISO instant as "2026-11-24 14:15:37 UTC" (the manifest's instants are UTC). */
  static String when(String iso) {
    if (iso == null || iso.isEmpty() || iso.equals("null")) {
      return "-";
    }
    return iso.replace('T', ' ').replaceFirst("(\\.\\d+)?Z$", " UTC");
  }

  private static void settingsAndStages(StringBuilder h, JsonNode m) {
    JsonNode settings = m.path("settings");
    h.append("<section id=\"run\">\n<h2>Run</h2>\n<div class=\"row\">\n<div>\n<h3>Settings</h3>\n<table>");
    for (String k : KEY_SETTINGS) {
      if (settings.has(k)) {
        h.append("<tr><th>").append(esc(k)).append("</th><td><bdi>").append(esc(settings.get(k).asText()))
            .append("</bdi></td></tr>");
      }
    }
    h.append("</table>\n<details><summary>all ").append(settings.size()).append(" settings</summary><table>");
    for (Iterator<Map.Entry<String, JsonNode>> it = settings.fields(); it.hasNext();) {
      Map.Entry<String, JsonNode> e = it.next();
      h.append("<tr><th>").append(esc(e.getKey())).append("</th><td><bdi>").append(esc(e.getValue().asText()))
          .append("</bdi></td></tr>");
    }
    h.append("</table></details>\n</div>\n<div>\n<h3>Stages</h3>\n");
    JsonNode stages = m.path("stages");
    h.append("<table class=\"num\"><tr><th>stage</th><th>seconds</th><th>rows in</th><th>rows out</th>"
        + "<th>rows/s</th></tr>");
    double total = 0;
    for (JsonNode s : stages) {
      double sec = s.path("seconds").asDouble();
      total += sec;
      long in = s.path("rowsIn").asLong(-1);
      h.append("<tr><th>").append(esc(s.path("name").asText())).append("</th><td>").append(fixed(sec, 1))
          .append("</td><td>").append(s.path("rowsIn").isNumber() ? count(in) : "-").append("</td><td>")
          .append(s.path("rowsOut").isNumber() ? count(s.path("rowsOut").asLong()) : "-").append("</td><td>")
          .append(sec > 0 && in > 0 ? count(Math.round(in / sec)) : "-").append("</td></tr>");
    }
    h.append("<tr class=\"total\"><th>total</th><td>").append(fixed(total, 1))
        .append("</td><td></td><td></td><td></td></tr></table>\n")
        .append("<p class=\"note\">The write stage, which commits this report, is not included.</p>\n")
        .append("</div>\n</div>\n</section>\n");
  }

  private static void counts(StringBuilder h, ReportStats.Stats s) {
    h.append("<section id=\"counts\">\n<h2>Counts</h2>\n<div class=\"cards\">");
    card(h, "rows", s.rows(), null);
    card(h, "labeled", s.labeled(), share(s.labeled(), s.rows()) + " of rows");
    card(h, "unlabeled", s.unlabeled(), share(s.unlabeled(), s.rows()) + " of rows");
    card(h, "trusted", s.trusted(), "never changed");
    card(h, "held out", s.heldOut(), "never changed");
    card(h, "changed", s.changed(), share(s.changed(), s.changeable()) + " of " + count(s.changeable())
        + " changeable");
    card(h, "filled", s.filled(), share(s.filled(), s.unlabeled()) + " of unlabeled");
    h.append("</div>\n<p class=\"note\">Changed: a labeled row whose corrected label differs from the given one. "
        + "Filled: an unlabeled row that got a label. Changeable: labeled, neither trusted nor held out.</p>\n"
        + "</section>\n");
  }

  private static void card(StringBuilder h, String name, long value, String note) {
    h.append("<div class=\"card\"><div class=\"k\">").append(esc(name)).append("</div><div class=\"v\">")
        .append(count(value)).append("</div>");
    if (note != null) {
      h.append("<div class=\"s\">").append(esc(note)).append("</div>");
    }
    h.append("</div>");
  }

  private static void matrices(StringBuilder h, JsonNode m, ReportStats.Stats s) {
    List<String> classes = s.classes();
    int k = classes.size();
    h.append("<section id=\"matrices\">\n<h2>Noise and changes</h2>\n<div class=\"row\">\n<div class=\"panel\">\n");
    JsonNode cl = m.path("metrics").path("cl");
    JsonNode noise = cl.path("noiseMatrix");
    if (noise.isArray() && noise.size() == k) {
      h.append("<h3>Estimated noise-transition matrix</h3>\n<p class=\"note\">Confident learning's estimate of "
          + "p(given = row | true = column); each column sums to 1. Estimated noise rate ")
          .append(cl.path("estimatedNoiseRate").isNumber() ? fixed(cl.path("estimatedNoiseRate").asDouble(), 3) : "-")
          .append(", ").append(count(cl.path("issues").asLong())).append(" issues among ")
          .append(count(cl.path("rows").asLong())).append(" rows.</p>\n");
      double[][] shade = new double[k][k];
      double[][] values = new double[k][k];
      String[][] text = new String[k][k];
      String[][] tips = new String[k][k];
      for (int i = 0; i < k; i++) {
        for (int j = 0; j < k; j++) {
          JsonNode v = noise.path(i).path(j);
          double p = v.isNumber() ? v.asDouble() : Double.NaN;
          values[i][j] = p;
          shade[i][j] = Double.isNaN(p) ? Double.NaN : Math.sqrt(Math.max(0, Math.min(1, p)));
          text[i][j] = Double.isNaN(p) ? "–" : fixed(p, 2);
          tips[i][j] = "given " + classes.get(i) + ", true " + classes.get(j) + ": " + text[i][j];
        }
      }
      h.append(matrix("noise", classes, shade, values, text, tips, "given class", "true class"));
    } else {
      h.append("<h3>Estimated noise-transition matrix</h3>\n<p class=\"note\">Confident learning did not run "
          + "(relabel.cl.enabled=false), so there is no estimate.</p>\n");
    }
    h.append("</div>\n<div class=\"panel\">\n<h3>Given → corrected</h3>\n<p class=\"note\">Labeled rows by "
        + "given (row) and corrected (column) class; off the diagonal are the changes. Colour: share of the row "
        + "(square-root scale).</p>\n");
    double[][] shade = new double[k][k];
    double[][] values = new double[k][k];
    String[][] text = new String[k][k];
    String[][] tips = new String[k][k];
    for (int i = 0; i < k; i++) {
      long rowTotal = 0;
      for (long v : s.changes()[i]) {
        rowTotal += v;
      }
      for (int j = 0; j < k; j++) {
        long v = s.changes()[i][j];
        values[i][j] = v;
        shade[i][j] = rowTotal == 0 ? Double.NaN : Math.sqrt((double) v / rowTotal);
        text[i][j] = Long.toString(v);
        tips[i][j] = "given " + classes.get(i) + " → " + classes.get(j) + ": " + count(v) + " rows";
      }
    }
    h.append(matrix("changes", classes, shade, values, text, tips, "given class", "corrected class"));
    h.append("</div>\n</div>\n</section>\n");
  }

  private static void perClass(StringBuilder h, ReportStats.Stats s) {
    List<String> classes = s.classes();
    int k = classes.size();
    long[] from = new long[k];
    long[] into = new long[k];
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k; j++) {
        if (i != j) {
          from[i] += s.changes()[i][j];
          into[j] += s.changes()[i][j];
        }
      }
    }
    // with many classes, the ones with the most changes (in class-list order)
    List<Integer> shown = new ArrayList<>();
    for (int i = 0; i < k; i++) {
      shown.add(i);
    }
    if (k > MAX_GRID_CLASSES) {
      shown.sort((a, b) -> Long.compare(from[b] + into[b] + s.filledInto()[b], from[a] + into[a] + s.filledInto()[a]));
      shown = new ArrayList<>(shown.subList(0, MAX_GRID_CLASSES));
      shown.sort(null);
    }
    long max = 1;
    for (int i : shown) {
      max = Math.max(max, Math.max(from[i], into[i] + s.filledInto()[i]));
    }
    int labelW = labelWidth(shown.stream().map(classes::get).toList());
    int half = 300;
    int rowH = 20;
    int top = 34;
    int width = labelW + 2 * half + 120;
    int height = top + shown.size() * rowH + 10;
    StringBuilder g = new StringBuilder();
    int axis = labelW + half + 50;
    g.append(svgOpen(width, height, "changes per class"));
    g.append(text(axis - 8, 14, "end", "changed away from the class", "legend"));
    g.append(text(axis + 8, 14, "start", "changed into the class", "legend"));
    g.append(legendBox(axis + 200, 5, FILLED)).append(text(axis + 214, 14, "start", "filled", "legend"));
    for (int row = 0; row < shown.size(); row++) {
      int i = shown.get(row);
      int y = top + row * rowH;
      g.append(label(labelW - 6, y + 14, "end", classes.get(i)));
      int wf = (int) Math.round((double) from[i] / max * half);
      int wi = (int) Math.round((double) into[i] / max * half);
      int wfl = (int) Math.round((double) s.filledInto()[i] / max * half);
      g.append(rect(axis - wf, y + 3, wf, rowH - 6, CHANGED, classes.get(i) + ": " + count(from[i])
          + " changed away"));
      g.append(rect(axis, y + 3, wi, rowH - 6, CHANGED, classes.get(i) + ": " + count(into[i]) + " changed into"));
      g.append(rect(axis + wi, y + 3, wfl, rowH - 6, FILLED, classes.get(i) + ": " + count(s.filledInto()[i])
          + " filled"));
      g.append(text(axis - wf - 4, y + 14, "end", count(from[i]), "val"));
      g.append(text(axis + wi + wfl + 4, y + 14, "start", count(into[i])
          + (s.filledInto()[i] > 0 ? " + " + count(s.filledInto()[i]) : ""), "val"));
    }
    g.append("<line x1=\"").append(axis).append("\" y1=\"").append(top - 2).append("\" x2=\"").append(axis)
        .append("\" y2=\"").append(height - 6).append("\" class=\"axis\"/>");
    g.append("</svg>");
    h.append("<section id=\"per-class\">\n<h2>Changes per class</h2>\n");
    if (shown.size() < k) {
      h.append("<p class=\"note\">The ").append(shown.size()).append(" of ").append(k)
          .append(" classes with the most changed and filled rows.</p>\n");
    }
    h.append(g).append("\n</section>\n");
  }

  private static void histograms(StringBuilder h, ReportStats.Stats s) {
    h.append("<section id=\"histograms\">\n<h2>Confidence</h2>\n<p class=\"note\">label_confidence of changeable "
        + "rows (changed or kept) and of filled rows, ").append(ReportStats.BINS).append(" bins over [0, 1].</p>\n")
        .append("<div class=\"row\">");
    h.append(histogram("changed", s.confidence()[0], CHANGED));
    h.append(histogram("kept", s.confidence()[1], KEPT));
    if (s.filled() > 0) {
      h.append(histogram("filled", s.confidence()[2], FILLED));
    }
    h.append("</div>\n");
    if (s.quality() != null) {
      h.append("<h3>Label quality (cl_quality)</h3>\n<p class=\"note\">Confident learning's self-confidence, the "
          + "out-of-fold probability of the given label (lower = more suspect).</p>\n<div class=\"row\">");
      h.append(histogram("changed", s.quality()[0], CHANGED));
      h.append(histogram("kept", s.quality()[1], KEPT));
      h.append("</div>\n");
    }
    h.append("</section>\n");
  }

  private static String histogram(String name, long[] bins, String colour) {
    long total = 0;
    long max = 1;
    for (long b : bins) {
      total += b;
      max = Math.max(max, b);
    }
    int w = 360;
    int hgt = 170;
    int left = 44;
    int top = 24;
    int plotW = w - left - 10;
    int plotH = hgt - top - 26;
    double bw = (double) plotW / bins.length;
    StringBuilder g = new StringBuilder(svgOpen(w, hgt, name + " histogram"));
    g.append(text(left, 14, "start", name + " (" + count(total) + " rows)", "legend"));
    for (int i = 0; i < bins.length; i++) {
      int bh = (int) Math.round((double) bins[i] / max * plotH);
      g.append(rect(left + i * bw + 1, top + plotH - bh, bw - 2, bh, colour,
          fixed((double) i / bins.length, 2) + "–" + fixed((double) (i + 1) / bins.length, 2) + ": "
              + count(bins[i]) + " rows"));
    }
    g.append("<line x1=\"").append(left).append("\" y1=\"").append(top + plotH).append("\" x2=\"")
        .append(left + plotW).append("\" y2=\"").append(top + plotH).append("\" class=\"axis\"/>");
    for (int t = 0; t <= 4; t++) {
      double x = left + plotW * t / 4.0;
      g.append(text(x, top + plotH + 16, "middle", fixed(t / 4.0, 2), "tick"));
    }
    g.append(text(left - 4, top + 8, "end", count(max), "tick"));
    g.append(text(left - 4, top + plotH, "end", "0", "tick"));
    return g.append("</svg>").toString();
  }

  private static void agreement(StringBuilder h, ReportStats.Stats s) {
    List<String> methods = s.methods();
    h.append("<section id=\"agreement\">\n<h2>Per-method agreement</h2>\n<p class=\"note\">Over changeable rows: "
        + "flagged = the method named a class other than the given label (relabel_reasons); followed = the row "
        + "changed to that class. The right-hand columns count rows two methods flagged with the same class.</p>\n");
    h.append("<table class=\"num\"><tr><th>method</th><th>flagged</th><th>followed</th><th>share followed</th>");
    for (String m : methods) {
      h.append("<th>").append(esc(m)).append("</th>");
    }
    h.append("</tr>");
    for (int a = 0; a < methods.size(); a++) {
      h.append("<tr><th>").append(esc(methods.get(a))).append("</th><td>").append(count(s.flagged()[a]))
          .append("</td><td>").append(count(s.followed()[a])).append("</td><td>")
          .append(share(s.followed()[a], s.flagged()[a])).append("</td>");
      for (int b = 0; b < methods.size(); b++) {
        h.append(a == b ? "<td class=\"diag\">" : "<td>").append(a == b ? "–" : count(s.overlap()[a][b]))
            .append("</td>");
      }
      h.append("</tr>");
    }
    h.append("</table>\n</section>\n");
  }

  private static void samples(StringBuilder h, ReportStats.Stats s) {
    List<ReportStats.Sample> rows = s.samples();
    h.append("<section id=\"samples\">\n<h2>Sample of changed rows</h2>\n<p class=\"note\">")
        .append(count(rows.size())).append(" of ").append(count(s.changed()))
        .append(" changed rows, drawn by a seeded per-row key (relabel.report.samples).</p>\n");
    if (rows.isEmpty()) {
      h.append("</section>\n");
      return;
    }
    boolean text = rows.stream().anyMatch(r -> r.preview() != null);
    h.append("<table class=\"samples\"><tr><th>id</th><th>given</th><th>corrected</th><th>confidence</th>"
        + "<th>reasons</th>").append(text ? "<th>text</th>" : "").append("</tr>");
    for (ReportStats.Sample r : rows) {
      h.append("<tr><td class=\"id\"><bdi>").append(esc(r.id())).append("</bdi></td><td><bdi>")
          .append(esc(r.given())).append("</bdi></td><td><bdi>").append(esc(r.corrected()))
          .append("</bdi></td><td class=\"n\">")
          .append(r.confidence() == null ? "-" : fixed(r.confidence(), 3)).append("</td><td>");
      List<String> parts = new ArrayList<>();
      for (ReportStats.Reason why : r.reasons()) {
        parts.add("<span class=\"why\">" + esc(why.method()) + ": <bdi>" + esc(why.label()) + "</bdi>"
            + (why.confidence() == null ? "" : " (" + fixed(why.confidence(), 2) + ")") + "</span>");
      }
      h.append(String.join(" ", parts)).append("</td>");
      if (text) {
        h.append("<td class=\"text\"><bdi>").append(esc(r.preview() == null ? "" : r.preview()))
            .append("</bdi></td>");
      }
      h.append("</tr>");
    }
    h.append("</table>\n</section>\n");
  }

  private static void evaluation(StringBuilder h, JsonNode m) {
    JsonNode eval = m.path("metrics").path("eval");
    if (!eval.isObject() || eval.size() == 0) {
      return;
    }
    h.append("<section id=\"evaluation\">\n<h2>Evaluation against the true labels</h2>\n<table class=\"num\">");
    flatten(h, "eval", eval);
    h.append("</table>\n</section>\n");
  }

  private static void flatten(StringBuilder h, String path, JsonNode node) {
    if (node.isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext();) {
        Map.Entry<String, JsonNode> e = it.next();
        flatten(h, path + "." + e.getKey(), e.getValue());
      }
      return;
    }
    String value;
    if (node.isIntegralNumber()) {
      value = count(node.asLong());
    } else if (node.isNumber()) {
      value = fixed(node.asDouble(), 4);
    } else if (node.isValueNode()) {
      value = node.asText();
    } else {
      value = node.toString();
    }
    h.append("<tr><th>").append(esc(path)).append("</th><td>").append(esc(value)).append("</td></tr>");
  }

  // ------------------------------------------------------------------------------------------------ charts

  /**
   * A heat map, or for more than {@link #MAX_GRID_CLASSES} classes (whose grid would be unreadable and its page
   * huge) a table of the {@link #TOP_CELLS} largest cells off the diagonal.
   */
  static String matrix(String name, List<String> classes, double[][] shade, double[][] values, String[][] text,
      String[][] tips, String rowAxis, String colAxis) {
    int k = classes.size();
    if (k <= MAX_GRID_CLASSES) {
      return heatMap(name, classes, shade, text, tips, rowAxis, colAxis);
    }
    List<int[]> cells = new ArrayList<>();
    for (int i = 0; i < k; i++) {
      for (int j = 0; j < k; j++) {
        if (i != j && !Double.isNaN(values[i][j]) && values[i][j] > 0) {
          cells.add(new int[] {i, j});
        }
      }
    }
    cells.sort((a, b) -> a[0] == b[0] && a[1] == b[1] ? 0
        : values[a[0]][a[1]] != values[b[0]][b[1]] ? Double.compare(values[b[0]][b[1]], values[a[0]][a[1]])
        : a[0] != b[0] ? Integer.compare(a[0], b[0]) : Integer.compare(a[1], b[1]));
    StringBuilder t = new StringBuilder("<p class=\"note\">").append(k).append(" classes are too many for a grid: the ")
        .append(Math.min(TOP_CELLS, cells.size())).append(" largest cells off the diagonal.</p>\n")
        .append("<table class=\"num top\" data-name=\"").append(esc(name)).append("\"><tr><th>")
        .append(esc(rowAxis)).append("</th><th>").append(esc(colAxis)).append("</th><th>value</th></tr>");
    for (int[] c : cells.subList(0, Math.min(TOP_CELLS, cells.size()))) {
      t.append("<tr><th><bdi>").append(esc(classes.get(c[0]))).append("</bdi></th><th><bdi>")
          .append(esc(classes.get(c[1]))).append("</bdi></th><td>").append(esc(text[c[0]][c[1]])).append("</td></tr>");
    }
    return t.append("</table>").toString();
  }

  /**
   * A C×C heat map: one cell per (row, column) with its number printed, cells coloured by {@code shade} in [0, 1]
   * (NaN: no value) on {@link #PALETTE}. Column names are rotated and cut to {@link #LABEL_CHARS}; every cell and
   * cut name carries the full text as a tooltip.
   */
  static String heatMap(String name, List<String> classes, double[][] shade, String[][] text, String[][] tips,
      String rowAxis, String colAxis) {
    int k = classes.size();
    int cell = k <= 6 ? 56 : k <= 12 ? 42 : 30;
    int labelW = labelWidth(classes);
    int left = labelW + 22;
    int top = (int) Math.round(0.72 * labelW) + 30;
    int width = left + k * cell + (int) Math.round(0.72 * labelW) + 8;
    int height = top + k * cell + 40;
    StringBuilder g = new StringBuilder(svgOpen(width, height, name + " heat map"));
    g.append("<g class=\"heat\" data-name=\"").append(esc(name)).append("\">");
    g.append(text(12, top + k * cell / 2.0, "middle", rowAxis + " ↓", "axislabel", -90));
    g.append(text(left + k * cell / 2.0, 14, "middle", colAxis + " →", "axislabel"));
    for (int j = 0; j < k; j++) {
      double x = left + j * cell + cell / 2.0;
      g.append(label(x, top - 6, "start", classes.get(j), -45));
    }
    for (int i = 0; i < k; i++) {
      g.append(label(left - 6, top + i * cell + cell / 2.0 + 4, "end", classes.get(i)));
      for (int j = 0; j < k; j++) {
        double v = shade[i][j];
        int step = Double.isNaN(v) ? -1 : (int) Math.round(Math.max(0, Math.min(1, v)) * (PALETTE.length - 1));
        String fill = step < 0 ? EMPTY_CELL : hex(PALETTE[step]);
        double x = left + j * cell;
        double y = top + i * cell;
        g.append("<rect class=\"cell\" x=\"").append(num(x)).append("\" y=\"").append(num(y))
            .append("\" width=\"").append(cell).append("\" height=\"").append(cell).append("\" fill=\"")
            .append(fill).append("\"><title>").append(esc(tips[i][j])).append("</title></rect>");
        String t = text[i][j];
        double size = Math.min(cell * 0.32, (cell - 6) / (0.62 * Math.max(1, t.length())));
        g.append("<text x=\"").append(num(x + cell / 2.0)).append("\" y=\"").append(num(y + cell / 2.0 + size * 0.36))
            .append("\" text-anchor=\"middle\" font-size=\"").append(num(size)).append("\" class=\"")
            .append(step > (PALETTE.length - 1) / 2 ? "cv dark" : "cv").append("\">").append(esc(t))
            .append("</text>");
      }
    }
    // the colour key: every palette step, from the lowest value to the highest
    double ky = top + k * cell + 14;
    g.append(text(left - 6, ky + 10, "end", "low", "tick"));
    for (int i = 0; i < PALETTE.length; i++) {
      g.append(legendBox(left + i * 14, ky, hex(PALETTE[i])));
    }
    g.append(text(left + PALETTE.length * 14 + 4, ky + 10, "start", "high", "tick"));
    g.append("</g></svg>");
    return g.toString();
  }

  private static int labelWidth(List<String> classes) {
    int longest = 1;
    for (String c : classes) {
      longest = Math.max(longest, Math.min(LABEL_CHARS + 1, c.codePointCount(0, c.length())));
    }
    return 14 + longest * 7;
  }

  private static String svgOpen(int width, int height, String title) {
    return "<svg class=\"chart\" width=\"" + width + "\" height=\"" + height + "\" viewBox=\"0 0 " + width + " "
        + height + "\" role=\"img\" aria-label=\"" + esc(title) + "\">";
  }

  private static String rect(double x, double y, double w, double h, String fill, String tip) {
    if (w <= 0 || h <= 0) {
      return "";
    }
    return "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"" + num(w) + "\" height=\"" + num(h)
        + "\" fill=\"" + fill + "\"><title>" + esc(tip) + "</title></rect>";
  }

  private static String legendBox(double x, double y, String fill) {
    return "<rect x=\"" + num(x) + "\" y=\"" + num(y) + "\" width=\"12\" height=\"12\" fill=\"" + fill + "\"/>";
  }

  private static String text(double x, double y, String anchor, String s, String cls) {
    return "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" text-anchor=\"" + anchor + "\" class=\"" + cls + "\">"
        + esc(s) + "</text>";
  }

  private static String text(double x, double y, String anchor, String s, String cls, int rotate) {
    return "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" text-anchor=\"" + anchor + "\" class=\"" + cls
        + "\" transform=\"rotate(" + rotate + " " + num(x) + " " + num(y) + ")\">" + esc(s) + "</text>";
  }

  /** A class name on an axis, cut to {@link #LABEL_CHARS} code points, the full name as its tooltip. */
  private static String label(double x, double y, String anchor, String name) {
    return "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" text-anchor=\"" + anchor + "\" class=\"label\">"
        + "<title>" + esc(name) + "</title>" + esc(cut(name)) + "</text>";
  }

  private static String label(double x, double y, String anchor, String name, int rotate) {
    return "<text x=\"" + num(x) + "\" y=\"" + num(y) + "\" text-anchor=\"" + anchor + "\" class=\"label\""
        + " transform=\"rotate(" + rotate + " " + num(x) + " " + num(y) + ")\"><title>" + esc(name) + "</title>"
        + esc(cut(name)) + "</text>";
  }

  /** The first {@link #LABEL_CHARS} code points of {@code s}, with "…" when cut (never splits a surrogate pair). */
  static String cut(String s) {
    if (s.codePointCount(0, s.length()) <= LABEL_CHARS) {
      return s;
    }
    return s.substring(0, s.offsetByCodePoints(0, LABEL_CHARS - 1)) + "…";
  }

  // ------------------------------------------------------------------------------------------------ text

  /**
   * Text for HTML content or a quoted attribute: the five markup characters become entities, and control
   * characters that HTML forbids (and unpaired surrogates) become U+FFFD. Everything else, RTL and emoji included,
   * stays as it is (the page is UTF-8).
   */
  public static String esc(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> b.append("&amp;");
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> {
          if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
            b.append(c).append(s.charAt(++i));
          } else if (Character.isSurrogate(c) || c < 0x20 && c != '\n' && c != '\t' || c >= 0x7f && c < 0xa0) {
            b.append('\uFFFD');
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.toString();
  }

  private static String count(long v) {
    return String.format(Locale.ROOT, "%,d", v);
  }

  private static String fixed(double v, int decimals) {
    return String.format(Locale.ROOT, "%." + decimals + "f", v);
  }

  private static String share(long part, long whole) {
    return whole == 0 ? "-" : String.format(Locale.ROOT, "%.1f%%", 100.0 * part / whole);
  }

  private static String num(double v) {
    return v == Math.rint(v) ? Long.toString((long) v) : String.format(Locale.ROOT, "%.1f", v);
  }

  static String hex(int rgb) {
    return String.format(Locale.ROOT, "#%06x", rgb & 0xffffff);
  }

  /** Nine steps from a pale grey-green through teal to a deep blue, interpolated in two straight segments. */
  private static int[] palette() {
    int[][] stops = {{0xf3, 0xf8, 0xf4}, {0x3a, 0x9c, 0xa8}, {0x10, 0x2a, 0x6b}};
    int[] p = new int[9];
    for (int i = 0; i < p.length; i++) {
      double t = i / 8.0 * 2;
      int seg = Math.min(1, (int) t);
      double f = t - seg;
      int rgb = 0;
      for (int ch = 0; ch < 3; ch++) {
        rgb = rgb << 8 | (int) Math.round(stops[seg][ch] + (stops[seg + 1][ch] - stops[seg][ch]) * f);
      }
      p[i] = rgb;
    }
    return p;
  }

  private static final String CSS = """
      body{margin:0;background:#f3f4f6;color:#1d2330;font:14px/1.45 "DejaVu Sans","Liberation Sans",Arial,sans-serif}
      header{background:#1f2a44;color:#fff;padding:18px 28px}
      header h1{margin:0 0 8px;font-size:22px}
      .meta{display:flex;flex-wrap:wrap;gap:4px 28px;margin:0}
      .meta div{min-width:0}
      .meta dt{font-size:11px;text-transform:uppercase;letter-spacing:.05em;color:#aab4c8}
      .meta dd{margin:0;word-break:break-all}
      main{max-width:1220px;margin:0 auto;padding:8px 20px 28px}
      section{background:#fff;border:1px solid #dde1e7;border-radius:6px;padding:14px 20px;margin:14px 0}
      h2{font-size:18px;margin:0 0 10px}
      h3{font-size:15px;margin:6px 0 6px}
      .note{color:#5a6373;font-size:12.5px;margin:2px 0 8px;max-width:70em}
      .row{display:flex;flex-wrap:wrap;gap:12px 36px;align-items:flex-start}
      .panel{flex:0 0 auto}
      .panel .note{max-width:540px}
      table{border-collapse:collapse;font-size:13px}
      th,td{padding:3px 10px;border-bottom:1px solid #e6e9ee;text-align:left;vertical-align:top}
      th{font-weight:600}
      table.num td{text-align:right;font-variant-numeric:tabular-nums}
      td.n{text-align:right;font-variant-numeric:tabular-nums}
      td.diag{color:#9aa2b0}
      tr.total th,tr.total td{border-top:2px solid #c9ced6}
      details{margin-top:8px;font-size:13px}
      details table{margin-top:6px}
      .cards{display:flex;flex-wrap:wrap;gap:12px}
      .card{border:1px solid #dde1e7;border-radius:6px;padding:8px 14px;min-width:120px;background:#fafbfc}
      .card .k{font-size:12px;color:#5a6373}
      .card .v{font-size:22px;font-weight:600;font-variant-numeric:tabular-nums}
      .card .s{font-size:11.5px;color:#5a6373}
      svg.chart{display:block;overflow:visible}
      svg text{font-family:"DejaVu Sans","Liberation Sans",Arial,sans-serif;fill:#1d2330}
      svg text.label{font-size:12px}
      svg text.legend{font-size:12px;font-weight:600}
      svg text.val,svg text.tick{font-size:11px;fill:#5a6373}
      svg text.axislabel{font-size:11px;fill:#5a6373;font-style:italic}
      svg .axis{stroke:#5a6373;stroke-width:1}
      svg rect.cell{stroke:#ffffff;stroke-width:1}
      svg text.cv.dark{fill:#ffffff}
      table.samples td{font-size:12.5px}
      td.text{min-width:280px;max-width:460px;color:#394150}
      td.id{white-space:nowrap}
      .why{display:inline-block;background:#eef1f5;border-radius:3px;padding:0 5px;margin:1px 2px;white-space:nowrap}
      """;
}
