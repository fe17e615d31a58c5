package io.relabel.spark.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.relabel.spark.SparkTestSession;
import io.relabel.spark.Tools;
import io.relabel.spark.cli.CliRun;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real thing: {@code relabel fetch wordnet} through apt (downloads about 6.5 MB). Skipped, not passed, where
 * apt-get or dpkg is missing.
 */
@Tag("spark")
@Tag("e2e")
class WordNetAptE2eTest {

  @TempDir Path tmp;

  /** Synsets per lexicographer file in WordNet 3.0's data.noun (counted from the file, lex_filenum field). */
  private static final Map<String, Long> SYNSETS_PER_CLASS = new LinkedHashMap<>();

  static {
    String[] names = {"noun.Tops", "noun.act", "noun.animal", "noun.artifact", "noun.attribute", "noun.body",
        "noun.cognition", "noun.communication", "noun.event", "noun.feeling", "noun.food", "noun.group",
        "noun.location", "noun.motive", "noun.object", "noun.person", "noun.phenomenon", "noun.plant",
        "noun.possession", "noun.process", "noun.quantity", "noun.relation", "noun.shape", "noun.state",
        "noun.substance", "noun.time"};
    long[] counts = {51, 6650, 7509, 11587, 3039, 2016, 2964, 5607, 1074, 428, 2573, 2624, 3209, 42, 1545, 11087,
        641, 8030, 1061, 770, 1275, 437, 341, 3544, 2983, 1028};
    for (int i = 0; i < names.length; i++) {
      SYNSETS_PER_CLASS.put(names[i], counts[i]);
    }
  }

  @Test
  void fetchesTheEightyTwoThousandNounGlosses() {
    assumeTrue(Tools.onPath("apt-get"), "apt-get is not on the PATH");
    assumeTrue(Tools.onPath("dpkg"), "dpkg is not on the PATH");
    SparkTestSession.get();
    Path data = tmp.resolve("data");
    CliRun run = CliRun.of("fetch", "wordnet", "--set", "relabel.data.dir=" + data, "--master", "local[2]");
    assertEquals(0, run.exitCode(), run.err());

    Dataset<Row> t = SparkTestSession.get().read().parquet(data.resolve("wordnet").toString());
    Row stats = t.selectExpr("count(*)", "count(distinct id)", "sum(if(split = 'test', 1, 0))",
        "min(length(text))", "sum(if(text like '%; \"%', 1, 0))").first();
    assertEquals(82115L, stats.getLong(0));
    assertEquals(82115L, stats.getLong(1));
    assertEquals(16423L, stats.getLong(2), "sum over classes of round(0.2 * n_c)");
    assertEquals(0L, stats.getLong(4), "no example sentence is left in a definition");

    Map<String, Long> all = new TreeMap<>();
    Map<String, Long> test = new TreeMap<>();
    for (Row r : t.groupBy("label", "split").count().collectAsList()) {
      all.merge(r.getString(0), r.getLong(2), Long::sum);
      if (r.getString(1).equals("test")) {
        test.put(r.getString(0), r.getLong(2));
      }
    }
    assertEquals(new TreeMap<>(SYNSETS_PER_CLASS), all);
    for (Map.Entry<String, Long> e : SYNSETS_PER_CLASS.entrySet()) {
      assertEquals(Math.round(0.2 * e.getValue()), test.get(e.getKey()), e.getKey());
    }

    List<Row> dog = t.where("id = 2084071").collectAsList();
    assertEquals(1, dog.size());
    assertEquals("a member of the genus Canis (probably descended from the common wolf) that has been domesticated"
        + " by man since prehistoric times; occurs in many breeds", dog.get(0).getAs("text"));
    assertEquals("noun.animal", dog.get(0).getAs("label"));
    assertEquals("dog, domestic dog, Canis familiaris", dog.get(0).getAs("lemmas"));
    // the first synset of the file, right after the license header
    assertEquals("noun.Tops", t.where("id = 1740").first().getAs("label"));
  }
}
