package io.relabel.core.retrieval;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Extractive pseudo queries: spans of the document itself, the most salient first. GPL generates its queries with a
 * T5 model fine-tuned on MS MARCO (methods.md section 4, step 1); no such seq2seq model ships with relabel, so this is
 * the default generator, and a generative one can take its place behind {@link QueryGenerator}.
 *
 * <p>The candidates:
 *
 * <ol>
 *   <li>The text is cut into sentences at {@code . ! ? ;} and line breaks. A full stop does not end a sentence when a
 *       letter or digit follows it at once (3.5, U.S.A, e.g), after a common abbreviation (Dr., Fig., et al.),
 *       after single letters joined by full stops (e.g., U.S.A.) or after a single capital letter (an initial,
 *       J. Smith). The price is that a sentence ending in such a word runs on into the next.</li>
 *   <li>A word is a run of non-space characters with at least one term ({@link Terms#terms}); a dash standing alone
 *       is not a word.</li>
 *   <li>A sentence of at least minWords words is a candidate whole if it has at most maxWords words; a longer one
 *       gives the one window of maxWords consecutive words with the highest salience (the earliest among equals).</li>
 * </ol>
 *
 * <p>The salience of a span of n words whose distinct non-stop-word terms are T is
 *
 * <pre>   salience = (Σ_{t ∈ T} idf(t)) / √n</pre>
 *
 * with idf from the corpus statistics ({@link HashedDocumentFrequency#idf}): rare content words make a span a good
 * query, and the square root keeps a long span from winning by length alone. Candidates are ranked by salience
 * descending, then by position in the text; a candidate whose text equals an earlier one's (ignoring case) is
 * dropped, and the first {@code count} are returned. A query's text is the span as written, white space folded to
 * single spaces and trailing punctuation ({@code . , ; : ! ?} and dashes) removed.
 *
 * <p>A document with no candidate (every sentence shorter than minWords) falls back to its first maxWords words as
 * its one query; a document without words has none.
 *
 * <p>The generator holds the corpus statistics (4 MB at the default bucket count): ship it to executors in a
 * broadcast, not in every task's closure.
 */
public final class ExtractiveQueryGenerator implements QueryGenerator {

  private static final long serialVersionUID = 1L;

  /** Words before a full stop that does not end the sentence, lower case, their own inner stops kept. */
  private static final Set<String> ABBREVIATIONS = Set.of(
      "cf", "vs", "al", "approx", "ca", "dr", "mr", "mrs", "ms", "prof", "jr", "sr", "st",
      "fig", "figs", "eq", "eqs", "ref", "refs", "sec", "vol", "pp", "resp");

  /** Single letters joined by full stops, before the last: U.S.A., e.g., i.e. */
  private static final Pattern ACRONYM = Pattern.compile("\\p{L}(\\.\\p{L})+");

  private final HashedDocumentFrequency df;
  private final int minWords;
  private final int maxWords;

  public ExtractiveQueryGenerator(HashedDocumentFrequency df, int minWords, int maxWords) {
    if (minWords < 1) {
      throw new IllegalArgumentException("minWords must be at least 1: " + minWords);
    }
    if (maxWords < minWords) {
      throw new IllegalArgumentException("maxWords (" + maxWords + ") must be at least minWords (" + minWords + ")");
    }
    this.df = df;
    this.minWords = minWords;
    this.maxWords = maxWords;
  }

  @Override
  public List<String> generate(String text, int count) {
    if (count < 0) {
      throw new IllegalArgumentException("count must not be negative: " + count);
    }
    List<String> out = new ArrayList<>();
    if (count == 0) {
      return out;
    }
    List<Word> all = new ArrayList<>();
    List<Candidate> candidates = new ArrayList<>();
    for (int[] sentence : sentences(text)) {
      List<Word> words = words(text, sentence[0], sentence[1]);
      all.addAll(words);
      if (words.size() >= minWords) {
        candidates.add(bestWindow(text, words));
      }
    }
    if (candidates.isEmpty()) {
      if (!all.isEmpty()) {
        out.add(spanText(text, all.get(0), all.get(Math.min(maxWords, all.size()) - 1)));
      }
      return out;
    }
    candidates.sort(Comparator.comparingDouble((Candidate c) -> -c.salience).thenComparingInt(c -> c.start));
    Set<String> seen = new HashSet<>();
    for (Candidate c : candidates) {
      if (out.size() == count) {
        break;
      }
      if (seen.add(c.query.toLowerCase(Locale.ROOT))) {
        out.add(c.query);
      }
    }
    return out;
  }

  /** The whole sentence when it is short enough, else its most salient window of maxWords words. */
  private Candidate bestWindow(String text, List<Word> words) {
    int width = Math.min(maxWords, words.size());
    int bestFrom = 0;
    double best = Double.NEGATIVE_INFINITY;
    for (int from = 0; from + width <= words.size(); from++) {
      double s = salience(words.subList(from, from + width));
      if (s > best) {
        best = s;
        bestFrom = from;
      }
    }
    Word first = words.get(bestFrom);
    return new Candidate(first.start, spanText(text, first, words.get(bestFrom + width - 1)), best);
  }

  /**
   * (Σ idf over the span's distinct non-stop-word terms) / √(words). The terms are summed in sorted order, so that two
   * spans with the same terms get the same salience to the bit and tie.
   */
  private double salience(List<Word> span) {
    Set<String> distinct = new TreeSet<>();
    for (Word w : span) {
      for (String t : w.terms) {
        if (!Terms.isStopWord(t)) {
          distinct.add(t);
        }
      }
    }
    double sum = 0;
    for (String t : distinct) {
      sum += df.idf(t);
    }
    return sum / Math.sqrt(span.size());
  }

  /** [start, end) character ranges of the sentences, empty ones left out. */
  private static List<int[]> sentences(String text) {
    List<int[]> out = new ArrayList<>();
    int start = 0;
    for (int i = 0; i < text.length(); i++) {
      boolean end = switch (text.charAt(i)) {
        case '!', '?', ';', '\n', '\r' -> true;
        case '.' -> fullStop(text, i);
        default -> false;
      };
      if (end) {
        if (i > start) {
          out.add(new int[] {start, i});
        }
        start = i + 1;
      }
    }
    if (start < text.length()) {
      out.add(new int[] {start, text.length()});
    }
    return out;
  }

  /** Whether the '.' at {@code dot} ends a sentence. */
  private static boolean fullStop(String text, int dot) {
    if (dot + 1 < text.length() && Character.isLetterOrDigit(text.charAt(dot + 1))) {
      return false;
    }
    int from = dot;
    while (from > 0 && !Character.isWhitespace(text.charAt(from - 1))) {
      from--;
    }
    while (from < dot && !Character.isLetterOrDigit(text.charAt(from))) {
      from++;
    }
    String before = text.substring(from, dot);
    boolean initial = before.length() == 1 && Character.isUpperCase(before.charAt(0));
    return !initial && !ACRONYM.matcher(before).matches() && !ABBREVIATIONS.contains(before.toLowerCase(Locale.ROOT));
  }

  /** The words of text[start, end): white-space separated runs that hold at least one term. */
  private static List<Word> words(String text, int start, int end) {
    List<Word> out = new ArrayList<>();
    int i = start;
    while (i < end) {
      while (i < end && Character.isWhitespace(text.charAt(i))) {
        i++;
      }
      int from = i;
      while (i < end && !Character.isWhitespace(text.charAt(i))) {
        i++;
      }
      List<String> terms = Terms.terms(text.substring(from, i));
      if (!terms.isEmpty()) {
        out.add(new Word(from, i, terms));
      }
    }
    return out;
  }

  /** The text from the first word to the last, white space folded and trailing punctuation removed. */
  private static String spanText(String text, Word first, Word last) {
    String s = text.substring(first.start, last.end).replaceAll("\\s+", " ").trim();
    int end = s.length();
    while (end > 0 && isTrailingPunctuation(s.charAt(end - 1))) {
      end--;
    }
    return s.substring(0, end);
  }

  private static boolean isTrailingPunctuation(char c) {
    return ".,;:!?".indexOf(c) >= 0 || Character.getType(c) == Character.DASH_PUNCTUATION;
  }

  /** A word: its characters text[start, end) and its terms. */
  private record Word(int start, int end, List<String> terms) {}

  /** A candidate query: where its span starts, its text and its salience. */
  private record Candidate(int start, String query, double salience) {}
}
