package io.relabel.core.retrieval;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The terms of a text as the corpus statistics and the query generator count them: maximal runs of Unicode letters and
 * digits, lower-cased. Apostrophes are dropped rather than split on, so "don't" is the one term "dont" and "wing's"
 * is "wings" instead of "wing" plus a stray "s"; combining marks stay with the letter they follow, so decomposed
 * accented letters do not break a word in two. Lower-casing uses {@link Locale#ROOT}, so the terms (and the buckets
 * they hash to) are the same on every machine whatever its default locale.
 */
public final class Terms {

  /**
   * A short English stop-word list: function words that say nothing about what a passage is about. Spelled as
   * {@link #terms} spells them, apostrophes dropped ("dont", "isnt").
   */
  private static final Set<String> STOP_WORDS = Set.of(
      "a", "about", "above", "after", "again", "against", "all", "also", "am", "among", "an", "and", "any", "are",
      "as", "at", "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can",
      "cannot", "could", "did", "do", "does", "doing", "down", "during", "each", "either", "etc", "few", "for",
      "from", "further", "had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself",
      "his", "how", "however", "i", "if", "in", "into", "is", "it", "its", "itself", "just", "may", "me", "might",
      "more", "most", "must", "my", "myself", "neither", "no", "nor", "not", "of", "off", "on", "once", "only", "or",
      "other", "our", "ours", "ourselves", "out", "over", "own", "same", "shall", "she", "should", "so", "some",
      "such", "than", "that", "the", "their", "theirs", "them", "themselves", "then", "there", "these", "they",
      "this", "those", "through", "thus", "to", "too", "under", "until", "up", "upon", "very", "was", "we", "were",
      "what", "when", "where", "whether", "which", "while", "who", "whom", "whose", "why", "will", "with", "within",
      "without", "would", "yet", "you", "your", "yours", "yourself", "yourselves",
      // contractions, apostrophe dropped; "id", "lets", "well" and "shell" are left out, being words too
      "arent", "cant", "couldnt", "didnt", "doesnt", "dont", "hadnt", "hasnt", "havent", "hes", "im", "isnt", "ive",
      "shes", "shouldnt", "thats", "theres", "theyre", "theyve", "wasnt", "werent", "weve", "wont", "wouldnt",
      "youre", "youve");

  private Terms() {}

  /** The terms of {@code text} in order, repeats kept. */
  public static List<String> terms(String text) {
    List<String> out = new ArrayList<>();
    StringBuilder term = new StringBuilder();
    for (int i = 0; i < text.length(); ) {
      int cp = text.codePointAt(i);
      i += Character.charCount(cp);
      if (Character.isLetterOrDigit(cp) || (term.length() > 0 && isMark(cp))) {
        term.appendCodePoint(cp);
      } else if (!isApostrophe(cp)) {
        flush(term, out);
      }
    }
    flush(term, out);
    return out;
  }

  /** Whether a term (as {@link #terms} spells it) is on the stop-word list. */
  public static boolean isStopWord(String term) {
    return STOP_WORDS.contains(term);
  }

  private static void flush(StringBuilder term, List<String> out) {
    if (term.length() > 0) {
      out.add(term.toString().toLowerCase(Locale.ROOT));
      term.setLength(0);
    }
  }

  private static boolean isApostrophe(int cp) {
    return cp == '\'' || cp == '\u2019' || cp == '\u2018' || cp == '\u02BC';
  }

  private static boolean isMark(int cp) {
    int type = Character.getType(cp);
    return type == Character.NON_SPACING_MARK || type == Character.COMBINING_SPACING_MARK
        || type == Character.ENCLOSING_MARK;
  }
}
