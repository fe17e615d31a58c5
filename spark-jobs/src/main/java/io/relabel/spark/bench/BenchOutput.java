package io.relabel.spark.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import org.apache.spark.sql.SparkSession;

/** What every benchmark shares: the JSON document's header, memory peaks, and writing JSON plus markdown. */
public final class BenchOutput {

  public static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private BenchOutput() {}

  /** A results document with the machine and the Spark master it ran on. */
  public static ObjectNode start(SparkSession spark) {
    ObjectNode doc = JSON.createObjectNode();
    doc.put("startedAt", Instant.now().toString());
    doc.put("machine", Runtime.getRuntime().availableProcessors() + " cores, "
        + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB max heap");
    doc.put("sparkMaster", spark.sparkContext().master());
    return doc;
  }

  /** Writes {@code <prefix>-<UTC time>.json} and {@code .md} under {@code out}, prints the table and the paths. */
  public static void write(Path out, String prefix, ObjectNode doc, String markdown) throws IOException {
    doc.put("finishedAt", Instant.now().toString());
    Files.createDirectories(out);
    String stamp = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(Instant.now());
    Path jsonFile = out.resolve(prefix + "-" + stamp + ".json");
    Path mdFile = out.resolve(prefix + "-" + stamp + ".md");
    Files.writeString(jsonFile, JSON.writeValueAsString(doc), StandardCharsets.UTF_8);
    Files.writeString(mdFile, markdown, StandardCharsets.UTF_8);
    System.out.println(markdown);
    System.out.println("wrote " + jsonFile + " and " + mdFile);
  }

  /** The header line of every markdown table: machine, master, start time. */
  public static String machineLine(ObjectNode doc) {
    return "Machine: " + doc.get("machine").asText() + "; Spark master " + doc.get("sparkMaster").asText()
        + "; started " + doc.get("startedAt").asText() + ".\n\n";
  }

  public static String f4(Object v) {
    return v instanceof Number n ? String.format(Locale.ROOT, "%.4f", n.doubleValue()) : "-";
  }

  /** A manifest figure read from JSON, to 4 decimals; "-" when it is missing or not a number. */
  public static String f4(com.fasterxml.jackson.databind.JsonNode v) {
    return f4(v.isNumber() ? (Object) v.asDouble() : null);
  }

  public static void resetPeaks() {
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      p.resetPeakUsage();
    }
  }

  public static long peakHeapBytes() {
    long sum = 0;
    for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
      if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) {
        sum += p.getPeakUsage().getUsed();
      }
    }
    return sum;
  }

  /** The process's peak resident set (VmHWM), which includes ND4J's off-heap memory; -1 where /proc is absent. */
  public static long peakRssKiB() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("[^0-9]", ""));
        }
      }
    } catch (IOException | NumberFormatException e) {
      return -1;
    }
    return -1;
  }
}
