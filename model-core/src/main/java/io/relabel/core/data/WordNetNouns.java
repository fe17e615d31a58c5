package io.relabel.core.data;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Reads WordNet's noun data file, {@code data.noun}, in the {@code wndb(5WN)} format: a license header of lines that
 * start with two spaces, then one line per synset,
 * {@code offset lex_filenum ss_type w_cnt word lex_id [word lex_id...] p_cnt [ptr...] | gloss}, where a pointer is
 * four fields ({@code symbol offset pos source/target}) and the gloss runs to the end of the line.
 *
 * <p>The label of a synset is its lexicographer file ({@code noun.animal}, {@code noun.artifact}, ...), which
 * WordNet's lexicographers assigned by hand: 26 coarse, long-tailed classes that make the glosses a real text
 * classification task. Each line is checked field by field against the format, and each synset's offset against the
 * byte at which its line really starts (the format defines the offset as exactly that), so a truncated, re-encoded
 * or hand-edited file stops the fetch with the line and field named instead of yielding wrong ids or labels.
 */
public final class WordNetNouns {

  /** The file this class reads. */
  public static final String FILE = "data.noun";
  /** The lexicographer file number of the first noun file ({@code noun.Tops}). */
  public static final int FIRST_NOUN_FILE = 3;

  /**
   * The noun lexicographer files by number, from {@code lexnames(5WN)}: 03 is {@code noun.Tops}, 28 is
   * {@code noun.time}. Numbers 00-02 are adjective and adverb files and 29-44 verb and participle files, so a noun
   * synset outside 03-28 means the file is not {@code data.noun}.
   */
  private static final List<String> NOUN_FILES = List.of("noun.Tops", "noun.act", "noun.animal", "noun.artifact",
      "noun.attribute", "noun.body", "noun.cognition", "noun.communication", "noun.event", "noun.feeling",
      "noun.food", "noun.group", "noun.location", "noun.motive", "noun.object", "noun.person", "noun.phenomenon",
      "noun.plant", "noun.possession", "noun.process", "noun.quantity", "noun.relation", "noun.shape", "noun.state",
      "noun.substance", "noun.time");
  /** The lexicographer file number of the last noun file ({@code noun.time}). */
  public static final int LAST_NOUN_FILE = FIRST_NOUN_FILE + NOUN_FILES.size() - 1;

  /** What separates a gloss's definition from its first example sentence. */
  private static final String EXAMPLE_START = "; \"";
  private static final String POINTER_POS = "nvasr";

  private WordNetNouns() {}

  /**
   * One noun synset.
   *
   * @param offset  the synset offset, WordNet's id of the synset (unique within {@code data.noun})
   * @param lexFile the lexicographer file number, in [{@value #FIRST_NOUN_FILE}, 28]
   * @param words   the synset's words as stored: spaces written as underscores, case preserved
   * @param gloss   the whole gloss: definition, then any example sentences
   */
  public record Synset(long offset, int lexFile, List<String> words, String gloss) {

    /** The lexicographer file name, e.g. {@code noun.animal}: the class label. */
    public String label() {
      return lexName(lexFile);
    }

    /** The gloss without its example sentences (see {@link WordNetNouns#definition}). */
    public String definition() {
      return WordNetNouns.definition(gloss);
    }

    /** The words as people write them, comma-separated: {@code dog, domestic dog, Canis familiaris}. */
    public String lemmas() {
      List<String> out = new ArrayList<>();
      for (String w : words) {
        out.add(w.replace('_', ' '));
      }
      return String.join(", ", out);
    }
  }

  /** The 26 noun lexicographer file names in file-number order (03 first). */
  public static List<String> classes() {
    return NOUN_FILES;
  }

  /** The name of noun lexicographer file {@code number}. */
  public static String lexName(int number) {
    if (number < FIRST_NOUN_FILE || number > LAST_NOUN_FILE) {
      throw new IllegalArgumentException("lexicographer file " + number + " is not a noun file ("
          + FIRST_NOUN_FILE + ".." + LAST_NOUN_FILE + ")");
    }
    return NOUN_FILES.get(number - FIRST_NOUN_FILE);
  }

  /**
   * The definition part of a gloss: the text before the first {@code ; "}, the separator WordNet puts before its
   * example sentences (8,727 of the 8,743 noun glosses that quote anything use it; the other 16 quote inside the
   * definition or after a colon and are kept whole), with trailing semicolons and spaces removed. Examples are left
   * out because they are sentences that use the word, often in a context that says nothing of its class, and they
   * quote the word itself; only about one gloss in ten has any.
   */
  public static String definition(String gloss) {
    int cut = gloss.indexOf(EXAMPLE_START);
    String d = (cut < 0 ? gloss : gloss.substring(0, cut)).strip();
    while (d.endsWith(";")) {
      d = d.substring(0, d.length() - 1).strip();
    }
    return d;
  }

  /**
   * Parses one synset line (without its line terminator).
   *
   * @param where the line's place for messages, e.g. {@code data.noun line 31}
   * @throws WordNetFormatException naming {@code where}, the synset offset when it was read, the field and its value
   */
  public static Synset parseLine(String line, String where) {
    int bar = line.indexOf(" | ");
    String[] f = (bar < 0 ? line : line.substring(0, bar)).split(" ", -1);
    String at = where + (f[0].matches("[0-9]{8}") ? " (synset " + f[0] + ")" : "");
    if (f.length < 6) {
      throw new WordNetFormatException(at + ": expected 'offset lex_filenum ss_type w_cnt word lex_id ... p_cnt"
          + " ... | gloss', found " + f.length + " fields: '" + abbreviate(line) + "'");
    }
    long offset = digits(f[0], 8, 10, at, "synset_offset");
    int lexFile = (int) digits(f[1], 2, 10, at, "lex_filenum");
    if (lexFile < FIRST_NOUN_FILE || lexFile > LAST_NOUN_FILE) {
      throw new WordNetFormatException(at + ": lex_filenum '" + f[1] + "' is not a noun lexicographer file (03.."
          + LAST_NOUN_FILE + ")");
    }
    if (!f[2].equals("n")) {
      throw new WordNetFormatException(at + ": ss_type '" + f[2] + "' is not 'n'; is this data.noun?");
    }
    int wordCount = (int) digits(f[3], 2, 16, at, "w_cnt");
    if (wordCount == 0) {
      throw new WordNetFormatException(at + ": w_cnt '00': a synset has at least one word");
    }
    int pointerField = 4 + 2 * wordCount;
    if (f.length <= pointerField) {
      throw new WordNetFormatException(at + ": w_cnt '" + f[3] + "' announces " + wordCount + " words, but the line"
          + " ends after " + (f.length - 4) / 2);
    }
    List<String> words = new ArrayList<>(wordCount);
    for (int i = 0; i < wordCount; i++) {
      String word = f[4 + 2 * i];
      if (word.isEmpty()) {
        throw new WordNetFormatException(at + ": word " + (i + 1) + " is empty");
      }
      digits(f[5 + 2 * i], 1, 16, at, "lex_id of word '" + word + "'");
      words.add(word);
    }
    int pointers = (int) digits(f[pointerField], 3, 10, at, "p_cnt");
    int expected = pointerField + 1 + 4 * pointers;
    if (f.length != expected) {
      throw new WordNetFormatException(at + ": p_cnt '" + f[pointerField] + "' announces " + pointers + " pointers"
          + " (" + 4 * pointers + " fields), but " + (f.length - pointerField - 1) + " fields come before the gloss");
    }
    for (int p = 0; p < pointers; p++) {
      int k = pointerField + 1 + 4 * p;
      if (f[k].isEmpty()) {
        throw new WordNetFormatException(at + ": pointer " + (p + 1) + " has an empty symbol");
      }
      digits(f[k + 1], 8, 10, at, "offset of pointer " + (p + 1));
      if (f[k + 2].length() != 1 || POINTER_POS.indexOf(f[k + 2].charAt(0)) < 0) {
        throw new WordNetFormatException(at + ": pos '" + f[k + 2] + "' of pointer " + (p + 1) + " is not one of n,"
            + " v, a, s, r");
      }
      digits(f[k + 3], 4, 16, at, "source/target of pointer " + (p + 1));
    }
    if (bar < 0) {
      throw new WordNetFormatException(at + ": no gloss (' | ' not found)");
    }
    String gloss = line.substring(bar + 3).strip();
    if (definition(gloss).isEmpty()) {
      throw new WordNetFormatException(at + ": the gloss has no definition: '" + abbreviate(gloss) + "'");
    }
    return new Synset(offset, lexFile, List.copyOf(words), gloss);
  }

  /**
   * Reads every synset of a {@code data.noun} file, in file order, handing each to {@code sink} as soon as it is
   * read (the caller decides what to keep). Header lines (two leading spaces) are skipped.
   *
   * @return the number of synsets read
   * @throws WordNetFormatException when the file is missing, not UTF-8, or a line breaks the format or its offset
   *                                differs from the byte where the line starts
   */
  public static long read(Path file, Consumer<Synset> sink) {
    String name = file.getFileName().toString();
    long count = 0;
    try (InputStream in = new BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
      ByteArrayOutputStream buf = new ByteArrayOutputStream(8192);
      long lineStart = 0;
      long position = 0;
      int lineNo = 0;
      int b;
      boolean more = true;
      while (more) {
        b = in.read();
        if (b >= 0) {
          position++;
          if (b != '\n') {
            buf.write(b);
            continue;
          }
        } else {
          more = false;
          if (buf.size() == 0) {
            break;
          }
        }
        lineNo++;
        String where = name + " line " + lineNo;
        String line = decode(buf.toByteArray(), where);
        buf.reset();
        if (!line.startsWith("  ")) {
          Synset s = parseLine(line, where);
          if (s.offset() != lineStart) {
            throw new WordNetFormatException(where + " (synset " + String.format("%08d", s.offset()) + "): the"
                + " offset should be the byte at which the line starts, " + lineStart + "; the file is not an"
                + " unmodified WordNet data file (changed line ends or a copy of part of it?)");
          }
          sink.accept(s);
          count++;
        }
        lineStart = position;
      }
    } catch (NoSuchFileException e) {
      throw new WordNetFormatException(file + ": no such file", e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    if (count == 0) {
      throw new WordNetFormatException(file + ": no synsets (only header lines or nothing at all)");
    }
    return count;
  }

  private static String decode(byte[] bytes, String where) {
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      throw new WordNetFormatException(where + ": not UTF-8 text", e);
    }
  }

  /** A fixed-width number field, checked for its width and radix. */
  private static long digits(String field, int width, int radix, String at, String what) {
    boolean ok = field.length() == width;
    for (int i = 0; ok && i < width; i++) {
      ok = Character.digit(field.charAt(i), radix) >= 0;
    }
    if (!ok) {
      throw new WordNetFormatException(at + ": " + what + " '" + field + "' is not a " + width + "-digit "
          + (radix == 16 ? "hexadecimal" : "decimal") + " number");
    }
    return Long.parseLong(field, radix);
  }

  private static String abbreviate(String s) {
    return s.length() <= 80 ? s : s.substring(0, 77) + "...";
  }
}
