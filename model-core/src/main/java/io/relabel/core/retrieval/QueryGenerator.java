package io.relabel.core.retrieval;

import java.io.Serializable;
import java.util.List;

/**
 * Step 1 of GPL (methods.md section 4): pseudo queries for a document of the target corpus, each paired with that
 * document as its positive. Serializable so that a generator can be shipped to the executors that hold the corpus.
 */
public interface QueryGenerator extends Serializable {

  /**
   * At most {@code count} distinct pseudo queries for one document, best first. Deterministic: the same text and
   * count give the same list, on any machine.
   *
   * @throws IllegalArgumentException if count is negative
   */
  List<String> generate(String text, int count);
}
