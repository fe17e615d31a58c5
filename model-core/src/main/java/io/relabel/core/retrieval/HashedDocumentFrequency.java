package io.relabel.core.retrieval;

import io.relabel.core.util.RowSeeds;
import java.io.Serializable;
import java.util.Arrays;
import java.util.List;

/**
 * Document frequencies of a corpus's terms ({@link Terms#terms}) in a fixed number of hash buckets, for the inverse
 * document frequencies the pseudo-query generator weighs words by (methods.md section 4, step 1).
 *
 * <p>A vocabulary grows with the corpus; the buckets do not. The statistics therefore have one bounded size (4 MB at
 * the default 2²⁰ buckets) whatever the corpus, can be counted per partition, merged in any order (treeAggregate) and
 * broadcast. The price is collisions: terms that share a bucket share a count, which can only raise a document
 * frequency and so lower an idf. At 2²⁰ buckets and a vocabulary of a few hundred thousand terms most terms have a
 * bucket of their own.
 *
 * <p>A bucket counts the documents that contain at least one term hashing to it, so a document counts once per
 * bucket however often, and under however many colliding terms, its words land there; a count never exceeds
 * {@link #documents()}. A document without terms still counts as a document.
 *
 * <p>The hash is FNV-1a over the term's UTF-16 code units, finished with SplitMix64's mixer ({@link RowSeeds#mix}) so
 * that every bit of the 64-bit word depends on every character before it is reduced to a bucket. Unlike
 * {@link String#hashCode()} (also stable across JVMs, but 32 bits with weak low bits), it spreads similar terms
 * ("flow", "flows") over unrelated buckets; like it, it depends on nothing but the term, so counts made on different
 * machines merge.
 */
public final class HashedDocumentFrequency implements Serializable {

  private static final long serialVersionUID = 1L;

  /** 2²⁰ buckets: int counts of 4 MB. */
  public static final int DEFAULT_BUCKETS = 1 << 20;

  private static final long FNV_OFFSET_BASIS = 0xcbf29ce484222325L;
  private static final long FNV_PRIME = 0x100000001b3L;

  private final int[] counts;
  private long documents;

  public HashedDocumentFrequency() {
    this(DEFAULT_BUCKETS);
  }

  public HashedDocumentFrequency(int buckets) {
    if (buckets < 1) {
      throw new IllegalArgumentException("buckets must be at least 1: " + buckets);
    }
    counts = new int[buckets];
  }

  /** Counts one document: every bucket its terms reach gains one. Returns this, for aggregation. */
  public HashedDocumentFrequency add(String text) {
    List<String> terms = Terms.terms(text);
    int[] reached = new int[terms.size()];
    for (int i = 0; i < reached.length; i++) {
      reached[i] = bucket(terms.get(i));
    }
    Arrays.sort(reached);
    for (int i = 0; i < reached.length; i++) {
      if (i == 0 || reached[i] != reached[i - 1]) {
        counts[reached[i]] = Math.addExact(counts[reached[i]], 1);
      }
    }
    documents++;
    return this;
  }

  /** Adds another corpus's counts to these (the union of the two corpora). Returns this, for aggregation. */
  public HashedDocumentFrequency merge(HashedDocumentFrequency other) {
    if (other.counts.length != counts.length) {
      throw new IllegalArgumentException("cannot merge document frequencies over " + other.counts.length
          + " buckets into " + counts.length);
    }
    for (int b = 0; b < counts.length; b++) {
      counts[b] = Math.addExact(counts[b], other.counts[b]);
    }
    documents += other.documents;
    return this;
  }

  /** N, the documents counted. */
  public long documents() {
    return documents;
  }

  public int buckets() {
    return counts.length;
  }

  /** df(t): the documents counted in the bucket of {@code term} (a single term as {@link Terms#terms} spells it). */
  public int documentFrequency(String term) {
    return counts[bucket(term)];
  }

  /**
   * The smoothed inverse document frequency idf(t) = ln((N + 1) / (df(t) + 1)) + 1: as if one more document held
   * every term, so an unseen term gets a finite weight (ln(N + 1) + 1), and the + 1 keeps a term found in every
   * document at weight 1 rather than 0.
   */
  public double idf(String term) {
    return Math.log((documents + 1.0) / (documentFrequency(term) + 1.0)) + 1;
  }

  int bucket(String term) {
    long h = FNV_OFFSET_BASIS;
    for (int i = 0; i < term.length(); i++) {
      h = (h ^ term.charAt(i)) * FNV_PRIME;
    }
    return Math.floorMod(RowSeeds.mix(h), counts.length);
  }

  /** A copy of the counts, bucket by bucket (for tests). */
  int[] bucketCounts() {
    return counts.clone();
  }
}
