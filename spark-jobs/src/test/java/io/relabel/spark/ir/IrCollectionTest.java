package io.relabel.spark.ir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.relabel.core.ir.RankingMetrics;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The two collections in ../shared/data/ir read as their README describes them (counts from that README). */
class IrCollectionTest {

  private static Path ir() {
    Path p = Path.of(System.getProperty("relabel.project.dir", ".."), "..", "shared", "data", "ir").normalize();
    if (!Files.isDirectory(p)) {
      p = Path.of("..", "..", "shared", "data", "ir").toAbsolutePath().normalize();
    }
    assumeTrue(Files.isDirectory(p.resolve("cranfield")), "no ../shared/data/ir beside the project");
    return p;
  }

  @Test
  void cranfieldHasItsDocumentsQueriesAndGradedJudgements() {
    IrCollection c = IrCollection.cranfield(ir().resolve("cranfield"));
    assertEquals(1400, c.docs().size());
    assertEquals(225, c.queries().size());
    assertEquals(1837, c.judgements());
    assertEquals(225, c.qrels().size());
    // the first judgement, query 1 position 2 for document 184, gains 5 - 2
    assertEquals(3, c.qrels().get("1").get("184"));
    assertTrue(c.docs().get("1").startsWith("experimental investigation of the aerodynamics of a wing"));
    assertEquals("what similarity laws must be obeyed when constructing aeroelastic models of heated high speed"
        + " aircraft .", c.queries().get("1"));
    // ranking each query's judged documents by gain is the ideal ranking
    for (Map.Entry<String, Map<String, Integer>> e : c.qrels().entrySet()) {
      List<String> ideal = new ArrayList<>(e.getValue().keySet());
      ideal.sort((a, b) -> Integer.compare(e.getValue().get(b), e.getValue().get(a)));
      assertEquals(1.0, RankingMetrics.ndcgAt(10, ideal, e.getValue()), 1e-12, "query " + e.getKey());
    }
  }

  @Test
  void cisiHasItsDocumentsQueriesAndBinaryJudgements() {
    IrCollection c = IrCollection.cisi(ir().resolve("cisi"));
    assertEquals(1460, c.docs().size());
    assertEquals(76, c.queries().size());
    assertEquals(3114, c.judgements());
    assertEquals(76, c.qrels().size());
    assertEquals(1, c.qrels().get("1").get("28"));
    assertTrue(c.docs().get("1").startsWith("The present study is a history of the DEWEY Decimal Classification."),
        c.docs().get("1"));
    assertTrue(c.queries().get("1").startsWith("What problems and concerns are there in making up descriptive"
        + " titles?"), c.queries().get("1"));
  }
}
