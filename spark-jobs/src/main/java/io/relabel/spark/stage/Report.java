package io.relabel.spark.stage;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Locale;

/** The table a person reads after a run, rendered from the run manifest (so it shows exactly what was recorded). */
public final class Report {

  private Report() {}

  public static String render(String manifestJson) {
    JsonNode m;
    try {
      m = new ObjectMapper().readTree(manifestJson);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    StringBuilder sb = new StringBuilder();
    JsonNode metrics = m.path("metrics");
    sb.append(String.format(Locale.ROOT, "%nrelabel run %s%n", m.path("runId").asText()));
    JsonNode eval = metrics.path("eval");
    if (!eval.isMissingNode()) {
      sb.append(String.format(Locale.ROOT, "%-44s %10s%n", "metric", "value"));
      row(sb, "training rows evaluated", eval.path("train").path("rows"), false);
      row(sb, "real noise rate of the given labels", eval.path("train").path("noiseRate"), true);
      row(sb, "noisy (given) label accuracy", eval.path("train").path("givenAccuracy"), true);
      row(sb, "out-of-fold predicted label accuracy", eval.path("train").path("predictedLabelAccuracy"), true);
      row(sb, "corrected label accuracy", eval.path("train").path("correctedAccuracy"), true);
      row(sb, "rows changed", eval.path("train").path("changed"), false);
      row(sb, "precision of changes (truly wrong)", eval.path("train").path("changePrecision"), true);
      row(sb, "recall of wrong labels", eval.path("train").path("changeRecall"), true);
      row(sb, "consensus set share |S|/n", metrics.path("consensus").path("share"), true);
      row(sb, "label accuracy inside S", eval.path("consensus").path("labelAccuracyInS"), true);
      row(sb, "corrected label accuracy inside S", eval.path("consensus").path("correctedAccuracyInS"), true);
      row(sb, "test accuracy: baseline (noisy labels)", eval.path("test").path("baselineAccuracy"), true);
      row(sb, "test accuracy: retrained", eval.path("test").path("retrainedAccuracy"), true);
      row(sb, "test accuracy: ceiling (true labels)", eval.path("test").path("ceilingAccuracy"), true);
    }
    JsonNode inc = metrics.path("incremental");
    if (inc.has("rowsUnchanged")) {
      sb.append(String.format(Locale.ROOT, "%nincremental (%s) against the run of %s:%n", inc.path("mode").asText(),
          inc.path("previousRunDate").asText()));
      row(sb, "rows unchanged (kept)", inc.path("rowsUnchanged"), false);
      row(sb, "rows new", inc.path("rowsNew"), false);
      row(sb, "rows changed", inc.path("rowsChanged"), false);
      row(sb, "rows gone", inc.path("rowsGone"), false);
      row(sb, "rows embedded", inc.path("rowsEmbedded"), false);
      row(sb, "rows scored", inc.path("rowsScored"), false);
      row(sb, "embedding seconds saved (estimate)", inc.path("embedSecondsSaved"), true);
      row(sb, "training seconds saved (estimate)", inc.path("trainSecondsSaved"), true);
    }
    JsonNode stages = m.path("stages");
    if (stages.isArray() && stages.size() > 0) {
      sb.append(String.format(Locale.ROOT, "%n%-18s %9s %12s %12s%n", "stage", "seconds", "rows in", "rows/s"));
      double total = 0;
      for (JsonNode s : stages) {
        double sec = s.path("seconds").asDouble();
        long rows = s.path("rowsIn").asLong();
        total += sec;
        sb.append(String.format(Locale.ROOT, "%-18s %9.1f %12d %12s%n", s.path("name").asText(), sec, rows,
            sec > 0 && rows > 0 ? String.format(Locale.ROOT, "%.0f", rows / sec) : "-"));
      }
      sb.append(String.format(Locale.ROOT, "%-18s %9.1f%n", "total", total));
    }
    return sb.toString();
  }

  private static void row(StringBuilder sb, String name, JsonNode v, boolean ratio) {
    if (v.isMissingNode() || v.isNull()) {
      return;
    }
    String text = ratio ? (v.isNumber() ? String.format(Locale.ROOT, "%.4f", v.asDouble()) : v.asText())
        : v.asText();
    sb.append(String.format(Locale.ROOT, "%-44s %10s%n", name, text));
  }
}
