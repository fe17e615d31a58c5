package io.relabel.core.retrieval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.util.List;
import org.junit.jupiter.api.Test;

class HashedDocumentFrequencyTest {

  private static final List<String> CORPUS = List.of(
      "Experimental investigation of the aerodynamics of a wing in a slipstream.",
      "Flutter of panels at supersonic speeds; panel flutter is a wing problem too.",
      "Heat transfer in laminar flow over a flat plate.",
      "",
      "Laminar flow, turbulent flow and the transition between them.",
      "Don't panic: the wing's flutter isn't laminar.");

  @Test
  void aDocumentCountsEachDistinctTermOnce() {
    HashedDocumentFrequency df = new HashedDocumentFrequency();
    df.add("Flow, flow and FLOW: the flow.");
    assertEquals(1, df.documents());
    assertEquals(1, df.documentFrequency("flow"));
    assertEquals(1, df.documentFrequency("and"));
    df.add("flow");
    assertEquals(2, df.documentFrequency("flow"));
    assertEquals(0, df.documentFrequency("wing"));
  }

  @Test
  void idfOfAHandWorkedCorpus() {
    HashedDocumentFrequency df = new HashedDocumentFrequency();
    df.add("The cat sat on the mat.");
    df.add("The dog sat.");
    df.add("Dogs and cats!");
    // N = 3; df: the 2, sat 2, cat 1, mat 1, dog 1, dogs 1 ("dogs" is not "dog": no stemming), zebra 0
    assertEquals(3, df.documents());
    assertEquals(2, df.documentFrequency("the"));
    assertEquals(2, df.documentFrequency("sat"));
    assertEquals(1, df.documentFrequency("dog"));
    assertEquals(1, df.documentFrequency("dogs"));
    // idf = ln((N + 1) / (df + 1)) + 1:
    //   the:   ln(4 / 3) + 1 = 1.2876820724517808
    //   cat:   ln(4 / 2) + 1 = 1.6931471805599454
    //   zebra: ln(4 / 1) + 1 = 2.386294361119891
    assertEquals(1.2876820724517808, df.idf("the"), 1e-15);
    assertEquals(1.6931471805599454, df.idf("cat"), 1e-15);
    assertEquals(2.386294361119891, df.idf("zebra"), 1e-15);
    // unseen anything on an empty corpus: ln(1 / 1) + 1
    assertEquals(1.0, new HashedDocumentFrequency().idf("cat"));
  }

  @Test
  void collidingTermsCountADocumentOncePerBucket() {
    // one bucket: every term collides, so the bucket counts documents with any term at all
    HashedDocumentFrequency df = new HashedDocumentFrequency(1);
    df.add("wing flutter speed");
    df.add("");
    df.add("flow");
    assertEquals(3, df.documents());
    assertEquals(2, df.documentFrequency("anything"));
    assertEquals(Math.log(4.0 / 3) + 1, df.idf("wing"), 1e-15);
  }

  @Test
  void mergeEqualsAddingEverything() {
    for (int buckets : new int[] {1, 7, 64, HashedDocumentFrequency.DEFAULT_BUCKETS}) {
      HashedDocumentFrequency all = new HashedDocumentFrequency(buckets);
      CORPUS.forEach(all::add);
      HashedDocumentFrequency first = new HashedDocumentFrequency(buckets);
      HashedDocumentFrequency second = new HashedDocumentFrequency(buckets);
      for (int i = 0; i < CORPUS.size(); i++) {
        (i % 3 == 1 ? first : second).add(CORPUS.get(i));
      }
      HashedDocumentFrequency merged = new HashedDocumentFrequency(buckets).merge(second).merge(first);
      assertEquals(all.documents(), merged.documents(), "buckets " + buckets);
      assertArrayEquals(all.bucketCounts(), merged.bucketCounts(), "buckets " + buckets);
    }
  }

  @Test
  void bucketsAreFixedAcrossBuilds() {
    // the hash is part of the statistics' format: counts made by another build must land in the same buckets
    // (values checked against an independent Python FNV-1a + SplitMix64, reduced mod 2^20)
    HashedDocumentFrequency df = new HashedDocumentFrequency();
    assertEquals(263144, df.bucket("flow"));
    assertEquals(748872, df.bucket("flows"));
    assertEquals(387227, df.bucket(""));
  }

  @Test
  void survivesJavaSerialisation() throws Exception {
    HashedDocumentFrequency df = new HashedDocumentFrequency(64);
    CORPUS.forEach(df::add);
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    try (ObjectOutputStream out = new ObjectOutputStream(bytes)) {
      out.writeObject(df);
    }
    HashedDocumentFrequency back;
    try (ObjectInputStream in = new ObjectInputStream(new ByteArrayInputStream(bytes.toByteArray()))) {
      back = (HashedDocumentFrequency) in.readObject();
    }
    assertEquals(df.documents(), back.documents());
    assertArrayEquals(df.bucketCounts(), back.bucketCounts());
  }

  @Test
  void badArgumentsAreRefused() {
    assertEquals("buckets must be at least 1: 0",
        assertThrows(IllegalArgumentException.class, () -> new HashedDocumentFrequency(0)).getMessage());
    assertEquals("cannot merge document frequencies over 16 buckets into 1048576",
        assertThrows(IllegalArgumentException.class,
            () -> new HashedDocumentFrequency().merge(new HashedDocumentFrequency(16))).getMessage());
  }

}
