package io.relabel.core.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.relabel.core.data.WordNetNouns.Synset;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WordNetNounsTest {

  @TempDir Path tmp;

  /** Header lines as WordNet writes them: two spaces, a line number, text, two trailing spaces. */
  private static final List<String> HEADER = List.of(
      "  1 A license header in the WordNet style: these lines are skipped.  ",
      "  2   ");

  /**
   * Synset lines in the wndb(5WN) format (written for this test); {@code @@@@@@@@} stands for the synset's own
   * byte offset, filled in by {@link #dataFile}.
   */
  private static final List<String> SYNSETS = List.of(
      // multiword lemmas, a hypernym, an attribute pointer to an adjective, a lexical pointer; examples
      "@@@@@@@@ 05 n 02 sea_otter 0 Enhydra_lutris 0 003 @ 02441326 n 0000 = 01385773 a 0000 + 00145678 a 0201"
          + " | large marine otter of northern Pacific coasts; cracks shellfish on a stone held on its chest;"
          + " \"a sea otter floated by\"; \"they watched the otters\"  ",
      // no pointers at all, lex_id 1, no examples
      "@@@@@@@@ 18 n 01 Smith 1 000 | Scottish economist who held that free markets serve the common good"
          + " (1723-1790)  ",
      // an example after a colon: kept in the definition; a trailing semicolon
      "@@@@@@@@ 04 n 01 substitution 0 001 @ 00030358 n 0000 | the act of putting one thing in the place of"
          + " another: \"the substitution came late\";  ",
      "@@@@@@@@ 28 n 01 teatime 0 001 @ 15165637 n 0000 | the hour at which tea is served  ");

  /** Writes the header and synset lines with '\n' ends, each synset carrying its real byte offset. */
  private Path dataFile(List<String> header, List<String> synsets) throws IOException {
    StringBuilder sb = new StringBuilder();
    for (String h : header) {
      sb.append(h).append('\n');
    }
    for (String s : synsets) {
      sb.append(s.replace("@@@@@@@@", String.format("%08d", sb.length()))).append('\n');
    }
    Path p = tmp.resolve("data.noun");
    Files.writeString(p, sb.toString(), StandardCharsets.UTF_8);
    return p;
  }

  private static List<Synset> readAll(Path p) {
    List<Synset> out = new ArrayList<>();
    long n = WordNetNouns.read(p, out::add);
    assertEquals(out.size(), n);
    return out;
  }

  private static String parseError(String line) {
    return assertThrows(WordNetFormatException.class, () -> WordNetNouns.parseLine(line, "data.noun line 7"))
        .getMessage();
  }

  @Test
  void readsEverySynsetWithItsOffsetLabelWordsAndDefinition() throws IOException {
    Path p = dataFile(HEADER, SYNSETS);
    List<Synset> s = readAll(p);
    assertEquals(4, s.size());
    long headerBytes = HEADER.get(0).length() + 1 + HEADER.get(1).length() + 1;
    assertEquals(headerBytes, s.get(0).offset());
    assertEquals(headerBytes + SYNSETS.get(0).length() + 1, s.get(1).offset());

    Synset otter = s.get(0);
    assertEquals(5, otter.lexFile());
    assertEquals("noun.animal", otter.label());
    assertEquals(List.of("sea_otter", "Enhydra_lutris"), otter.words());
    assertEquals("sea otter, Enhydra lutris", otter.lemmas());
    assertEquals("large marine otter of northern Pacific coasts; cracks shellfish on a stone held on its chest;"
        + " \"a sea otter floated by\"; \"they watched the otters\"", otter.gloss());
    assertEquals("large marine otter of northern Pacific coasts; cracks shellfish on a stone held on its chest",
        otter.definition());

    assertEquals("noun.person", s.get(1).label());
    assertEquals("Smith", s.get(1).lemmas());
    assertEquals("Scottish economist who held that free markets serve the common good (1723-1790)",
        s.get(1).definition());
    assertEquals("noun.act", s.get(2).label());
    assertEquals("the act of putting one thing in the place of another: \"the substitution came late\"",
        s.get(2).definition());
    assertEquals("noun.time", s.get(3).label());
    assertEquals("the hour at which tea is served", s.get(3).definition());
  }

  @Test
  void theTwentySixNounFilesByNumber() {
    assertEquals(26, WordNetNouns.classes().size());
    assertEquals("noun.Tops", WordNetNouns.lexName(3));
    assertEquals("noun.act", WordNetNouns.lexName(4));
    assertEquals("noun.animal", WordNetNouns.lexName(5));
    assertEquals("noun.artifact", WordNetNouns.lexName(6));
    assertEquals("noun.communication", WordNetNouns.lexName(10));
    assertEquals("noun.motive", WordNetNouns.lexName(16));
    assertEquals("noun.person", WordNetNouns.lexName(18));
    assertEquals("noun.plant", WordNetNouns.lexName(20));
    assertEquals("noun.substance", WordNetNouns.lexName(27));
    assertEquals("noun.time", WordNetNouns.lexName(28));
    assertEquals("lexicographer file 2 is not a noun file (3..28)",
        assertThrows(IllegalArgumentException.class, () -> WordNetNouns.lexName(2)).getMessage());
    assertEquals("lexicographer file 29 is not a noun file (3..28)",
        assertThrows(IllegalArgumentException.class, () -> WordNetNouns.lexName(29)).getMessage());
  }

  @Test
  void definitionStopsAtTheFirstExample() {
    assertEquals("a b", WordNetNouns.definition("a b; \"x\"; \"y\""));
    assertEquals("a; b", WordNetNouns.definition("a; b"));
    assertEquals("a workplace; as in \"on the job\"", WordNetNouns.definition("a workplace; as in \"on the job\";"));
    assertEquals("", WordNetNouns.definition("; \"only an example\""));
  }

  @Test
  void hexadecimalWordCountsAndLexIds() {
    StringBuilder line = new StringBuilder("00000100 26 n 0b");
    for (int i = 0; i < 11; i++) {
      line.append(" w").append(i).append(' ').append(Integer.toHexString(i % 16));
    }
    line.append(" 000 | a state of affairs  ");
    Synset s = WordNetNouns.parseLine(line.toString(), "data.noun line 1");
    assertEquals(11, s.words().size());
    assertEquals("w10", s.words().get(10));
    assertEquals("noun.state", s.label());
  }

  @Test
  void anOffsetThatIsNotTheLineStartIsRefused() throws IOException {
    Path p = dataFile(HEADER, SYNSETS);
    String text = Files.readString(p).replace("\n", "\r\n");
    Files.writeString(p, text);
    WordNetFormatException e = assertThrows(WordNetFormatException.class, () -> readAll(p));
    // the first synset's offset counts two '\n' header ends; with '\r\n' it starts two bytes later
    long written = HEADER.get(0).length() + 1 + HEADER.get(1).length() + 1;
    assertEquals("data.noun line 3 (synset " + String.format("%08d", written) + "): the offset should be the byte at"
        + " which the line starts, " + (written + 2) + "; the file is not an unmodified WordNet data file (changed"
        + " line ends or a copy of part of it?)", e.getMessage());
  }

  @Test
  void aVerbLineIsRefused() {
    assertEquals("data.noun line 7 (synset 00001740): lex_filenum '29' is not a noun lexicographer file (03..28)",
        parseError("00001740 29 n 01 shave 0 000 | remove body hair  "));
    assertEquals("data.noun line 7 (synset 00001740): ss_type 'v' is not 'n'; is this data.noun?",
        parseError("00001740 06 v 01 shave 0 000 | remove body hair  "));
  }

  @Test
  void aPointerCountThatDisagreesWithTheFieldsIsRefused() {
    assertEquals("data.noun line 7 (synset 00001740): p_cnt '002' announces 2 pointers (8 fields), but 4 fields come"
        + " before the gloss", parseError("00001740 06 n 01 kettle 0 002 @ 00012345 n 0000 | a pot  "));
  }

  @Test
  void aBadPointerPartOfSpeechIsRefused() {
    assertEquals("data.noun line 7 (synset 00001740): pos 'x' of pointer 1 is not one of n, v, a, s, r",
        parseError("00001740 06 n 01 kettle 0 001 @ 00012345 x 0000 | a pot  "));
  }

  @Test
  void malformedNumbersAreRefused() {
    assertEquals("data.noun line 7 (synset 00001740): w_cnt '1' is not a 2-digit hexadecimal number",
        parseError("00001740 06 n 1 kettle 0 000 | a pot  "));
    assertEquals("data.noun line 7 (synset 00001740): lex_id of word 'kettle' 'g' is not a 1-digit hexadecimal"
        + " number", parseError("00001740 06 n 01 kettle g 000 | a pot  "));
    assertEquals("data.noun line 7: synset_offset '1740' is not a 8-digit decimal number",
        parseError("1740 06 n 01 kettle 0 000 | a pot  "));
  }

  @Test
  void aLineWithoutAGlossOrADefinitionIsRefused() {
    assertEquals("data.noun line 7 (synset 00001740): no gloss (' | ' not found)",
        parseError("00001740 06 n 01 kettle 0 000"));
    assertEquals("data.noun line 7 (synset 00001740): the gloss has no definition: '; \"put the kettle on\"'",
        parseError("00001740 06 n 01 kettle 0 000 | ; \"put the kettle on\"  "));
  }

  @Test
  void tooFewWordsForTheWordCountAreRefused() {
    assertEquals("data.noun line 7 (synset 00001740): w_cnt '03' announces 3 words, but the line ends after 1",
        parseError("00001740 06 n 03 kettle 0 | a pot  "));
  }

  @Test
  void aFileWithoutSynsetsIsRefused() throws IOException {
    Path p = dataFile(HEADER, List.of());
    assertEquals(p + ": no synsets (only header lines or nothing at all)",
        assertThrows(WordNetFormatException.class, () -> readAll(p)).getMessage());
  }

  @Test
  void aMissingFileIsNamed() {
    Path p = tmp.resolve("nothing/data.noun");
    assertEquals(p + ": no such file", assertThrows(WordNetFormatException.class, () -> readAll(p)).getMessage());
  }

  @Test
  void bytesThatAreNotUtf8AreRefusedWithTheLine() throws IOException {
    Path p = dataFile(HEADER, SYNSETS);
    byte[] b = Files.readAllBytes(p);
    int at = new String(b, StandardCharsets.UTF_8).indexOf("teatime");
    b[at] = (byte) 0xff;
    Files.write(p, b);
    assertEquals("data.noun line 6: not UTF-8 text",
        assertThrows(WordNetFormatException.class, () -> readAll(p)).getMessage());
  }

  @Test
  void aLastLineWithoutANewlineIsRead() throws IOException {
    Path p = dataFile(HEADER, SYNSETS);
    String text = Files.readString(p);
    Files.writeString(p, text.substring(0, text.length() - 1));
    assertEquals(4, readAll(p).size());
  }
}
