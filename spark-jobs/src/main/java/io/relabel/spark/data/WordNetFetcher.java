package io.relabel.spark.data;

import io.relabel.core.data.WordNetNouns;
import io.relabel.core.noise.ExactSelection;
import io.relabel.core.noise.InMemoryRows;
import io.relabel.core.noise.NoisePlan;
import io.relabel.core.noise.Threshold;
import io.relabel.spark.cli.RelabelException;
import io.relabel.spark.io.TableWriter;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * WordNet 3.0's noun glosses as a text classification table: {@code id} (the synset offset, WordNet's own id of the
 * synset), {@code text} (the gloss's definition), {@code label} (the synset's lexicographer file, one of the 26
 * {@code noun.*} classes), {@code split} (train / test) and {@code lemmas} (the synset's words, for people reading
 * the output; no stage uses it). 82,115 rows from Debian's {@code wordnet-base} package.
 *
 * <p>It is relabel's text benchmark because its labels were assigned by hand by lexicographers, its classes are
 * long-tailed (from 11,587 artifacts down to 42 motives) and several overlap in meaning (acts, events and
 * processes; cognition and communication), which is where label noise lives in real corpora.
 *
 * <p>Choices, fixed so that every user gets the same table:
 * <ul>
 *   <li>{@code text} is the definition only: the gloss up to its first example sentence
 *   ({@link WordNetNouns#definition}). The lemma is not prepended: it often names the class outright (an
 *   "-ist" is a person, a "-itis" a state), which would make the task an exercise in reading word endings; and the
 *   examples use the word in a sentence, which mostly repeats the lemma. Whoever wants the easier task can
 *   concatenate {@code lemmas} and {@code text}.</li>
 *   <li>WordNet has no published split, so the split is drawn: within each class exactly
 *   round({@value #TEST_SHARE} * n_c) synsets, those with the smallest per-row keys of stage {@value #SPLIT_STAGE}
 *   under {@code relabel.seed}, go to {@code test}. Stratifying keeps even the 42-synset class in both splits. The
 *   seed is recorded in {@code _dataset.json}; a later fetch with another seed refuses to reuse the table rather
 *   than hand out a split that seed would not have drawn.</li>
 * </ul>
 *
 * <p>{@code data.noun} (15 MB) is parsed on the driver as a stream into compact columns, which reach the executors
 * as one broadcast; each task makes its own range of rows.
 */
public final class WordNetFetcher implements DatasetFetcher {

  public static final String NAME = "wordnet";
  public static final String DEBIAN_PACKAGE = "wordnet-base";
  /** Where the package puts the database files, relative to the root it is unpacked into. */
  public static final String PACKAGE_DIR = "usr/share/wordnet";
  /** Where Princeton's WordNet-3.0.tar.gz keeps them, relative to its top directory. */
  public static final String TARBALL_DIR = "dict";
  /** Share of each class that goes to the test split. */
  public static final double TEST_SHARE = 0.2;
  /** The stage name of the split draw's per-row keys ({@link ExactSelection#key}). */
  public static final String SPLIT_STAGE = "wordnet.split";
  /** Parquet files of the output table. */
  public static final int OUTPUT_FILES = 4;

  /** The schema of the output table. */
  public static final StructType SCHEMA = new StructType(new StructField[] {
      DataTypes.createStructField("id", DataTypes.LongType, false),
      DataTypes.createStructField("text", DataTypes.StringType, false),
      DataTypes.createStructField("label", DataTypes.StringType, false),
      DataTypes.createStructField("split", DataTypes.StringType, false),
      DataTypes.createStructField("lemmas", DataTypes.StringType, false)});

  private static final Logger LOG = LoggerFactory.getLogger(WordNetFetcher.class);

  private final DebianPackage debian;

  public WordNetFetcher() {
    this(DebianPackage.onPath(DEBIAN_PACKAGE));
  }

  /** With a given package source (tests use one with an empty or fake PATH). */
  public WordNetFetcher(DebianPackage debian) {
    this.debian = debian;
  }

  /** How to get the file without apt: appended to every fetch error. */
  public static String manualHelp() {
    return "Get the file by hand: either download " + DEBIAN_PACKAGE + "_*.deb from a Debian mirror"
        + " (https://deb.debian.org/debian/pool/main/w/wordnet/) and unpack it with 'dpkg -x FILE.deb DIR' (or"
        + " 'ar x FILE.deb' and untar data.tar.xz into DIR), or download WordNet-3.0.tar.gz from"
        + " https://wordnet.princeton.edu/download and unpack it, DIR being its WordNet-3.0 directory; then run:"
        + " relabel fetch " + NAME + " --from DIR";
  }

  @Override
  public Result fetch(Request request, Supplier<SparkSession> spark) {
    String table = tablePath(request.dataDir());
    if (!request.force() && FetchSupport.exists(table)) {
      checkSeed(table, request.seed());
      LOG.info("{} is already at {}; nothing to do (--force fetches it again)", NAME, table);
      return new Result(table, true, Map.of(), "existing table");
    }
    long t0 = System.nanoTime();
    FetchSupport.Origin origin = FetchSupport.origin(request, debian, NAME, DEBIAN_PACKAGE, manualHelp());
    Path file = locate(origin.root(), origin.what());
    String source = origin.source("file " + file);
    LOG.info("reading {}", file);
    Synsets synsets = Synsets.read(file);
    long[][] perClass = synsets.drawSplit(request.seed());
    LOG.info("read {} noun synsets in {} s", synsets.size(), FetchSupport.seconds(t0));

    Map<String, Long> perSplit = new LinkedHashMap<>();
    perSplit.put("train", Arrays.stream(perClass[0]).sum());
    perSplit.put("test", Arrays.stream(perClass[1]).sum());
    FetchSupport.Shared<Synsets> df = FetchSupport.table(spark.get(), synsets, synsets.size(), OUTPUT_FILES,
        Synsets::rows, SCHEMA);
    TableWriter.writeAtomically(df.table(), table, request.force(),
        Map.of(FetchSupport.SIDECAR, sidecar(source, request.seed(), perSplit, perClass)));
    df.broadcast().destroy();
    List<String> classes = WordNetNouns.classes();
    for (int c = 0; c < classes.size(); c++) {
      LOG.info("  {}: {} train, {} test", classes.get(c), perClass[0][c], perClass[1][c]);
    }
    LOG.info("wrote {} rows ({}) to {} in {} s", synsets.size(), perSplit, table, FetchSupport.seconds(t0));
    return new Result(table, false, perSplit, source);
  }

  /** {@code <dataDir>/wordnet}. */
  public static String tablePath(String dataDir) {
    return FetchSupport.tablePath(dataDir, NAME);
  }

  /** Finds {@code data.noun} in {@code dir}, in {@code dir/usr/share/wordnet} or in {@code dir/dict}. */
  static Path locate(Path dir, String what) {
    if (!Files.isDirectory(dir)) {
      throw new RelabelException(what + ": no such directory");
    }
    for (Path candidate : new Path[] {dir, dir.resolve(PACKAGE_DIR), dir.resolve(TARBALL_DIR)}) {
      Path f = candidate.resolve(WordNetNouns.FILE);
      if (Files.isRegularFile(f)) {
        return f;
      }
    }
    throw new RelabelException(what + ": no " + WordNetNouns.FILE + " (looked in " + dir + ", in "
        + dir.resolve(PACKAGE_DIR) + " and in " + dir.resolve(TARBALL_DIR) + "). " + manualHelp());
  }

  /** Refuses to reuse a table whose split another seed drew. */
  private static void checkSeed(String table, long seed) {
    Map<?, ?> sidecar = FetchSupport.readSidecar(table);
    Object written = sidecar == null ? null : sidecar.get("splitSeed");
    if (written == null) {
      LOG.warn("{} has no split seed in its {}; reusing it as it is", table, FetchSupport.SIDECAR);
    } else if (((Number) written).longValue() != seed) {
      throw new RelabelException(table + " was written with relabel.seed=" + written + ", which drew its train/test"
          + " split; this run has relabel.seed=" + seed + ". Pass --force to write it again with this seed, or"
          + " --set relabel.seed=" + written + " to use it");
    }
  }

  private static String sidecar(String source, long seed, Map<String, Long> perSplit, long[][] perClass) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("dataset", NAME);
    m.put("source", source);
    m.put("rowsPerSplit", perSplit);
    m.put("splitSeed", seed);
    m.put("split", "per class, exactly round(" + TEST_SHARE + " * n_c) rows with the smallest keys of stage '"
        + SPLIT_STAGE + "' go to test");
    List<String> classes = WordNetNouns.classes();
    m.put("classes", classes);
    Map<String, Map<String, Long>> rows = new LinkedHashMap<>();
    for (int c = 0; c < classes.size(); c++) {
      rows.put(classes.get(c), Map.of("train", perClass[0][c], "test", perClass[1][c]));
    }
    m.put("rowsPerClass", rows);
    m.put("text", "the gloss's definition: the text before its first example sentence ('; \"'), no lemma");
    m.put("label", "the synset's lexicographer file (lexnames(5WN), 03 noun.Tops .. 28 noun.time)");
    m.put("lemmas", "the synset's words, comma-separated, underscores as spaces (not used by relabel)");
    return FetchSupport.json(m);
  }

  /** The parsed synsets as columns, in file order, with the drawn split; broadcast as one object. */
  static final class Synsets implements Serializable {
    private static final long serialVersionUID = 1L;
    private long[] ids = new long[1 << 17];
    private byte[] classes = new byte[1 << 17];
    private final List<String> texts = new ArrayList<>();
    private final List<String> lemmas = new ArrayList<>();
    private boolean[] test;
    private int size;

    static Synsets read(Path file) {
      Synsets s = new Synsets();
      WordNetNouns.read(file, s::add);
      s.ids = Arrays.copyOf(s.ids, s.size);
      s.classes = Arrays.copyOf(s.classes, s.size);
      return s;
    }

    private void add(WordNetNouns.Synset synset) {
      if (size == ids.length) {
        ids = Arrays.copyOf(ids, size * 2);
        classes = Arrays.copyOf(classes, size * 2);
      }
      ids[size] = synset.offset();
      classes[size] = (byte) (synset.lexFile() - WordNetNouns.FIRST_NOUN_FILE);
      texts.add(synset.definition());
      lemmas.add(synset.lemmas());
      size++;
    }

    int size() {
      return size;
    }

    /**
     * Marks the test rows: per class, the round(TEST_SHARE * n_c) rows with the smallest (key, id) of
     * {@link #SPLIT_STAGE}, by the same exact selection noise injection uses (here over driver-side rows).
     *
     * @return rows per class, {train, test}
     */
    long[][] drawSplit(long seed) {
      int numClasses = WordNetNouns.classes().size();
      InMemoryRows rows = new InMemoryRows(1);
      long[] sizes = new long[numClasses];
      for (int i = 0; i < size; i++) {
        rows.add(ids[i], classes[i]);
        sizes[classes[i]]++;
      }
      long[] ks = new long[numClasses];
      for (int c = 0; c < numClasses; c++) {
        ks[c] = NoisePlan.exactCount(TEST_SHARE, sizes[c]);
      }
      Threshold[] cut = ExactSelection.select(rows, (id, cls) -> cls, seed, SPLIT_STAGE, sizes, ks,
          ExactSelection.DEFAULT_CANDIDATE_LIMIT);
      test = new boolean[size];
      long[][] perClass = new long[2][numClasses];
      for (int i = 0; i < size; i++) {
        test[i] = cut[classes[i]].selects(ExactSelection.key(seed, SPLIT_STAGE, ids[i]), ids[i]);
        perClass[test[i] ? 1 : 0][classes[i]]++;
      }
      return perClass;
    }

    /** Rows [from, to) in the output schema; runs on an executor. */
    Iterator<Row> rows(int from, int to) {
      List<String> names = WordNetNouns.classes();
      return new Iterator<>() {
        private int i = from;

        @Override
        public boolean hasNext() {
          return i < to;
        }

        @Override
        public Row next() {
          Row r = RowFactory.create(ids[i], texts.get(i), names.get(classes[i]), test[i] ? "test" : "train",
              lemmas.get(i));
          i++;
          return r;
        }
      };
    }
  }
}
