package io.relabel.spark.ir;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.relabel.spark.embed.OnnxTextEncoder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The pretrained encoders' zero-shot scores on Cranfield against the reference figures measured with the same
 * quantized ONNX models (../shared/data/ir/README.md: MiniLM 0.504, bge-small 0.534 graded nDCG@10, bge with its
 * query instruction): the collection reader, the encoders, the ranking and the metric together.
 */
class DenseRetrievalEvalTest {

  private static Path cranfield() {
    Path p = Path.of(System.getProperty("relabel.project.dir", ".."), "..", "shared", "data", "ir", "cranfield")
        .normalize();
    assumeTrue(Files.isDirectory(p), "no ../shared/data/ir beside the project");
    return p;
  }

  @Test
  void zeroShotMiniLmAndBgeOnCranfieldMatchTheReference() {
    IrCollection c = IrCollection.cranfield(cranfield());
    DenseRetrievalEval.Scores minilm = DenseRetrievalEval.evaluate(c,
        OnnxTextEncoder.create(OnnxTextEncoder.Model.MINILM, 128), "");
    DenseRetrievalEval.Scores bge = DenseRetrievalEval.evaluate(c,
        OnnxTextEncoder.create(OnnxTextEncoder.Model.BGE, 512), DenseRetrievalEval.BGE_QUERY_PREFIX);
    assertEquals(225, minilm.queries());
    // measured here: MiniLM 0.5066 (128 tokens), bge 0.5341 (512 tokens; at 128 it scores 0.5037, so the reference
    // read whole documents)
    assertEquals(0.504, minilm.ndcg10(), 0.005);
    assertEquals(0.534, bge.ndcg10(), 0.005);
  }

  @Test
  void topKKeepsTheBestInOrderWithTiesToTheEarlierDocument() {
    float[][] docs = {{1, 0}, {0, 1}, {0.6f, 0.8f}, {1, 0}};
    List<String> ids = List.of("a", "b", "c", "d");
    assertEquals(List.of("a", "d", "c"), DenseRetrievalEval.topK(new float[] {1, 0}, docs, ids, 3));
    assertEquals(List.of("b"), DenseRetrievalEval.topK(new float[] {0, 1}, docs, ids, 1));
  }
}
