package io.relabel.spark.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RunManifestTest {

  private static RunManifest sample() {
    Map<String, String> settings = new LinkedHashMap<>();
    settings.put("relabel.seed", "42");
    settings.put("relabel.input.classes", "");
    RunManifest m = new RunManifest("run-1", "run", "0.1.0", Instant.parse("2024-03-01T10:00:00.123456Z"),
        "local[2]", 2, settings);
    Map<String, Long> counts = new LinkedHashMap<>();
    counts.put("rows", 100L);
    counts.put("labeledRows", 90L);
    m.setInput("/data/in", counts);
    m.setOutput("/data/out", 100L);
    m.addStage(new RunManifest.StageRecord("validate", 1.25, 100L, 100L));
    m.addStage(new RunManifest.StageRecord("embed", 3.5, 100L, null));
    m.putMetric("eval.test.baseline", 0.83);
    m.putMetric("eval.test.corrected", 0.9f);
    m.putMetric("eval.n", 7);
    m.putMetric("decide.changed", 12L);
    m.putMetric("decide.policy", "majority");
    m.putMetric("perClass", List.of(1, 2.5, "x"));
    m.finish(Instant.parse("2024-03-01T10:05:00Z"));
    return m;
  }

  @Test
  void jsonHasAFixedLayout() {
    String expected = """
        {
          "runId" : "run-1",
          "command" : "run",
          "relabelVersion" : "0.1.0",
          "startedAt" : "2024-03-01T10:00:00.123Z",
          "endedAt" : "2024-03-01T10:05:00Z",
          "spark" : {
            "master" : "local[2]",
            "defaultParallelism" : 2
          },
          "settings" : {
            "relabel.input.classes" : "",
            "relabel.seed" : "42"
          },
          "input" : {
            "path" : "/data/in",
            "rows" : 100,
            "labeledRows" : 90
          },
          "output" : {
            "path" : "/data/out",
            "rows" : 100
          },
          "stages" : [ {
            "name" : "validate",
            "seconds" : 1.25,
            "rowsIn" : 100,
            "rowsOut" : 100
          }, {
            "name" : "embed",
            "seconds" : 3.5,
            "rowsIn" : 100,
            "rowsOut" : null
          } ],
          "metrics" : {
            "decide" : {
              "changed" : 12,
              "policy" : "majority"
            },
            "eval" : {
              "n" : 7,
              "test" : {
                "baseline" : 0.83,
                "corrected" : 0.9
              }
            },
            "perClass" : [ 1, 2.5, "x" ]
          }
        }
        """;
    assertEquals(expected, sample().toJson());
  }

  @Test
  void roundTripGivesAnEqualManifest() {
    RunManifest m = sample();
    RunManifest back = RunManifest.fromJson(m.toJson());
    assertEquals(m.toJson(), back.toJson());
    assertEquals("run-1", back.runId());
    assertEquals(Instant.parse("2024-03-01T10:00:00.123Z"), back.startedAt());
    assertEquals(Instant.parse("2024-03-01T10:05:00Z"), back.endedAt());
    assertEquals(m.settings(), back.settings());
    assertEquals(m.inputCounts(), back.inputCounts());
    assertEquals(m.stages(), back.stages());
    assertEquals(m.metrics(), back.metrics());
    assertEquals(0.83, back.getMetric("eval.test.baseline"));
    assertEquals(7L, back.getMetric("eval.n"));
    assertEquals(List.of(1L, 2.5, "x"), back.getMetric("perClass"));
    assertNull(back.getMetric("eval.test.missing"));
    assertNull(back.getMetric("eval.n.deeper"));
  }

  @Test
  void anUnfinishedManifestHasANullEnd() {
    RunManifest m = new RunManifest("r", "demo", "0.1.0", Instant.parse("2024-01-01T00:00:00Z"), null, 1, Map.of());
    assertTrue(m.toJson().contains("\"endedAt\" : null"), m.toJson());
    RunManifest back = RunManifest.fromJson(m.toJson());
    assertNull(back.endedAt());
    assertNull(back.sparkMaster());
    assertNull(back.outputPath());
    assertEquals(List.of(), back.stages());
  }

  @Test
  void aValueCannotAlsoBeAnObject() {
    RunManifest m = sample();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> m.putMetric("eval.n.sub", 1));
    assertEquals("metric 'eval.n' holds a value, so it cannot hold 'eval.n.sub'", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> m.putMetric("eval..x", 1));
    assertEquals("metric path 'eval..x' has an empty part", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> m.putMetric("x", new Object()));
    assertEquals("a metric must be a number, string, boolean, list or map, not java.lang.Object", e.getMessage());
  }

  @Test
  void versionComesFromTheJarOrTheCommandLine() {
    assertEquals("0.1.0", RunManifest.currentVersion());
  }
}
