package io.relabel.spark.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.spark.SparkTestSession;
import io.relabel.spark.cli.CliRun;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code relabel fetch wordnet --from DIR} on a small data.noun written here: no network, no apt. */
@Tag("spark")
class WordNetFetcherTest {

  /** Synsets per class of the fixture: noun.animal, noun.artifact, noun.motive. */
  private static final int ANIMALS = 40;
  private static final int ARTIFACTS = 17;
  private static final int MOTIVES = 3;

  private static SparkSession spark;

  @TempDir Path tmp;

  @BeforeAll
  static void session() {
    spark = SparkTestSession.get();
  }

  /**
   * A data.noun in the wndb(5WN) format under {@code dir/dict} (the layout of Princeton's tarball): a header, then
   * {@value #ANIMALS} animals (lex file 05, two words, a pointer, an example), {@value #ARTIFACTS} artifacts (06)
   * and {@value #MOTIVES} motives (16), each line carrying its byte offset.
   */
  private static Path wordnetDir(Path dir) throws IOException {
    List<String> lines = new ArrayList<>();
    for (int k = 0; k < ANIMALS; k++) {
      lines.add("05 n 02 beast_" + k + " 0 Bestia_" + k + " 1 001 @ 00015388 n 0000 | an animal of kind " + k
          + "; lives in herds; \"beast " + k + " grazed\"");
    }
    for (int k = 0; k < ARTIFACTS; k++) {
      lines.add("06 n 01 gadget_" + k + " 0 001 = 01234567 a 0000 | a device made by hand, model " + k);
    }
    for (int k = 0; k < MOTIVES; k++) {
      lines.add("16 n 01 reason_" + k + " 0 000 | a ground for action number " + k);
    }
    StringBuilder sb = new StringBuilder("  1 A header line.  \n  2   \n");
    for (String l : lines) {
      sb.append(String.format("%08d ", sb.length())).append(l).append("  \n");
    }
    Path dict = dir.resolve("dict");
    Files.createDirectories(dict);
    Files.writeString(dict.resolve("data.noun"), sb.toString());
    return dir;
  }

  private CliRun fetch(Path from, Path dataDir, String... more) {
    List<String> args = new ArrayList<>(List.of("fetch", "wordnet", "--from", from.toString(),
        "--set", "relabel.data.dir=" + dataDir, "--master", "local[2]"));
    args.addAll(List.of(more));
    return CliRun.of(args.toArray(new String[0]));
  }

  private static Map<Long, String> splits(Path table) {
    Map<Long, String> m = new HashMap<>();
    for (Row r : spark.read().parquet(table.toString()).select("id", "split").collectAsList()) {
      m.put(r.getLong(0), r.getString(1));
    }
    return m;
  }

  @Test
  void writesTheGlossTableWithAStratifiedSplit() throws IOException {
    Path data = tmp.resolve("data");
    CliRun run = fetch(wordnetDir(tmp.resolve("WordNet-3.0")), data);
    assertEquals(0, run.exitCode(), run.err());
    assertTrue(run.out().startsWith("fetched wordnet: 60 rows (train 48, test 12) from file "
        + tmp.resolve("WordNet-3.0/dict/data.noun") + " into " + data.resolve("wordnet") + " in "), run.out());

    Dataset<Row> t = spark.read().parquet(data.resolve("wordnet").toString());
    assertEquals("struct<id:bigint,text:string,label:string,split:string,lemmas:string>",
        t.schema().simpleString());
    List<Row> rows = t.orderBy("id").collectAsList();
    assertEquals(60, rows.size());
    Row first = rows.get(0);
    assertEquals(28L, first.getLong(0), "the offset after the 28-byte header");
    assertEquals("an animal of kind 0; lives in herds", first.getString(1));
    assertEquals("noun.animal", first.getString(2));
    assertEquals("beast 0, Bestia 0", first.getString(4));
    Row gadget = rows.get(ANIMALS);
    assertEquals("a device made by hand, model 0", gadget.getString(1));
    assertEquals("noun.artifact", gadget.getString(2));
    assertEquals("noun.motive", rows.get(59).getString(2));

    // round(0.2 * n_c) test rows per class: 8 of 40, 3 of 17 (3.4), 1 of 3 (0.6)
    Map<String, Long> test = new HashMap<>();
    for (Row r : t.where("split = 'test'").groupBy("label").count().collectAsList()) {
      test.put(r.getString(0), r.getLong(1));
    }
    assertEquals(Map.of("noun.animal", 8L, "noun.artifact", 3L, "noun.motive", 1L), test);
    assertEquals(0L, t.where("split not in ('train', 'test')").count());

    String sidecar = Files.readString(data.resolve("wordnet/_dataset.json"));
    assertTrue(sidecar.contains("\"splitSeed\" : 42,"), sidecar);
    assertTrue(sidecar.contains("\"noun.animal\" : {"), sidecar);
  }

  @Test
  void theSplitIsAFunctionOfTheSeed() throws IOException {
    Path from = wordnetDir(tmp.resolve("wn"));
    assertEquals(0, fetch(from, tmp.resolve("a"), "--set", "relabel.seed=5").exitCode());
    assertEquals(0, fetch(from, tmp.resolve("b"), "--set", "relabel.seed=5").exitCode());
    assertEquals(0, fetch(from, tmp.resolve("c"), "--set", "relabel.seed=6").exitCode());
    Map<Long, String> a = splits(tmp.resolve("a/wordnet"));
    assertEquals(a, splits(tmp.resolve("b/wordnet")));
    assertNotEquals(a, splits(tmp.resolve("c/wordnet")));
  }

  @Test
  void aTableDrawnWithAnotherSeedIsNotReused() throws IOException {
    Path from = wordnetDir(tmp.resolve("wn"));
    Path data = tmp.resolve("data");
    assertEquals(0, fetch(from, data).exitCode());
    CliRun same = fetch(from, data);
    assertEquals(0, same.exitCode(), same.err());
    assertEquals("wordnet is already at " + data.resolve("wordnet") + "; nothing to do (--force fetches it again)\n",
        same.out());
    CliRun other = fetch(from, data, "--set", "relabel.seed=7");
    assertEquals(2, other.exitCode());
    assertEquals("relabel fetch: error: " + data.resolve("wordnet") + " was written with relabel.seed=42, which drew"
        + " its train/test split; this run has relabel.seed=7. Pass --force to write it again with this seed, or"
        + " --set relabel.seed=42 to use it\n", other.err());
    CliRun forced = fetch(from, data, "--set", "relabel.seed=7", "--force");
    assertEquals(0, forced.exitCode(), forced.err());
    assertTrue(Files.readString(data.resolve("wordnet/_dataset.json")).contains("\"splitSeed\" : 7,"));
  }

  @Test
  void aDirectoryWithoutDataNounIsNamed() throws IOException {
    Path empty = tmp.resolve("empty");
    Files.createDirectories(empty);
    CliRun run = fetch(empty, tmp.resolve("data"));
    assertEquals(2, run.exitCode());
    assertEquals("relabel fetch: error: --from " + empty + ": no data.noun (looked in " + empty + ", in "
        + empty.resolve("usr/share/wordnet") + " and in " + empty.resolve("dict") + "). "
        + WordNetFetcher.manualHelp() + "\n", run.err());
    assertTrue(!Files.exists(tmp.resolve("data/wordnet")));
  }

  @Test
  void aBrokenLineStopsTheFetchWithTheLineNamed() throws IOException {
    Path from = wordnetDir(tmp.resolve("wn"));
    Path file = from.resolve("dict/data.noun");
    Files.writeString(file, Files.readString(file).replace(" 16 n 01 reason_1 ", " 31 n 01 reason_1 "));
    CliRun run = fetch(from, tmp.resolve("data"));
    assertEquals(2, run.exitCode());
    assertTrue(run.err().matches("relabel fetch: error: data.noun line 61 \\(synset [0-9]{8}\\): lex_filenum '31'"
        + " is not a noun lexicographer file \\(03..28\\)\n"), run.err());
    assertTrue(!Files.exists(tmp.resolve("data/wordnet")));
  }
}
