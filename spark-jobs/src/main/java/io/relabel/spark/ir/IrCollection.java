package io.relabel.spark.ir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A retrieval test collection: documents and queries by id (in file order) and graded judgements per query. Used by
 * the retriever benchmarks and tests only; the product never needs one.
 *
 * @param qrels query id to (document id to gain); a gain of 0 is a judged, non-relevant document
 */
public record IrCollection(String name, Map<String, String> docs, Map<String, String> queries,
    Map<String, Map<String, Integer>> qrels) {

  private static final ObjectMapper JSON = new ObjectMapper();

  public IrCollection {
    docs = Collections.unmodifiableMap(new LinkedHashMap<>(docs));
    queries = Collections.unmodifiableMap(new LinkedHashMap<>(queries));
    Map<String, Map<String, Integer>> q = new LinkedHashMap<>();
    qrels.forEach((k, v) -> q.put(k, Collections.unmodifiableMap(new LinkedHashMap<>(v))));
    qrels = Collections.unmodifiableMap(q);
    for (Map.Entry<String, Map<String, Integer>> e : qrels.entrySet()) {
      if (!queries.containsKey(e.getKey())) {
        throw new IllegalArgumentException(name + ": judgements for unknown query " + e.getKey());
      }
      for (String d : e.getValue().keySet()) {
        if (!docs.containsKey(d)) {
          throw new IllegalArgumentException(name + ": query " + e.getKey() + " judges unknown document " + d);
        }
      }
    }
  }

  /** Number of (query, document) judgements. */
  public int judgements() {
    return qrels.values().stream().mapToInt(Map::size).sum();
  }

  /**
   * Cranfield in the JSON layout of {@code ../shared/data/ir/cranfield}: documents {@code {id, title, body, ...}}
   * (text = title, a newline, body), queries identified by their position 1..225 in the file (the "query number"
   * field is not what the judgements use), judgements {@code {query_num, id, position}} with gain 5 − position.
   */
  public static IrCollection cranfield(Path dir) {
    Map<String, String> docs = new LinkedHashMap<>();
    for (JsonNode d : read(dir.resolve("cran_docs.json"))) {
      docs.put(d.path("id").asText(), (d.path("title").asText("").trim() + "\n" + d.path("body").asText("").trim())
          .trim());
    }
    Map<String, String> queries = new LinkedHashMap<>();
    int position = 0;
    for (JsonNode q : read(dir.resolve("cran_queries.json"))) {
      queries.put(String.valueOf(++position), q.path("query").asText().trim());
    }
    Map<String, Map<String, Integer>> qrels = new LinkedHashMap<>();
    for (JsonNode r : read(dir.resolve("cran_qrels.json"))) {
      int p = r.path("position").asInt();
      if (p < 1 || p > 4) {
        throw new IllegalArgumentException("cranfield: judgement " + r + " has position " + p + ", not 1..4");
      }
      qrels.computeIfAbsent(r.path("query_num").asText(), k -> new LinkedHashMap<>())
          .put(r.path("id").asText(), 5 - p);
    }
    return new IrCollection("cranfield", docs, queries, qrels);
  }

  /**
   * CISI in the SMART layout of {@code ../shared/data/ir/cisi}: {@code .I id} then {@code .W} and the text, for
   * documents and queries; judgements are tab-separated (query id, document id), binary (gain 1).
   */
  public static IrCollection cisi(Path dir) {
    Map<String, String> docs = smart(dir.resolve("CISI_simplified.ALL"));
    Map<String, String> queries = smart(dir.resolve("CISI_simplified.QRY"));
    Map<String, Map<String, Integer>> qrels = new LinkedHashMap<>();
    for (String line : lines(dir.resolve("CISI_simplified.REL"))) {
      String[] f = line.trim().split("\\s+");
      if (f.length == 1 && f[0].isEmpty()) {
        continue;
      }
      if (f.length < 2) {
        throw new IllegalArgumentException("cisi: judgement line '" + line + "' is not 'query doc'");
      }
      qrels.computeIfAbsent(f[0], k -> new LinkedHashMap<>()).put(f[1], 1);
    }
    return new IrCollection("cisi", docs, queries, qrels);
  }

  private static Map<String, String> smart(Path file) {
    Map<String, String> out = new LinkedHashMap<>();
    String id = null;
    StringBuilder text = null;
    for (String line : lines(file)) {
      if (line.startsWith(".I ")) {
        if (id != null) {
          out.put(id, text.toString().trim());
        }
        id = line.substring(3).trim();
        text = null;
      } else if (line.startsWith(".W")) {
        text = new StringBuilder();
      } else if (text != null) {
        text.append(line.trim()).append(' ');
      } else if (!line.isBlank()) {
        throw new IllegalArgumentException(file + ": text '" + line + "' outside a .W field");
      }
    }
    if (id != null) {
      out.put(id, text == null ? "" : text.toString().trim());
    }
    return out;
  }

  private static JsonNode read(Path file) {
    try {
      return JSON.readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  private static List<String> lines(Path file) {
    try {
      return Files.readAllLines(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
