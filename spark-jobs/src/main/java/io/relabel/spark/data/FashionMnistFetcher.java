package io.relabel.spark.data;

import io.relabel.core.data.IdxReader;
import io.relabel.core.data.IdxReader.IdxArray;
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
import java.util.Spliterator;
import java.util.Spliterators;
import java.util.function.Supplier;
import java.util.stream.StreamSupport;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fashion-MNIST as a relabel input table: {@code id} (train rows 0..59999 in file order, test rows 60000..69999),
 * {@code features} (784 pixels scaled to [0, 1]), {@code label} (0..9) and {@code split} (train / test).
 *
 * <p>It is relabel's benchmark because it is real, small enough to run on a laptop, and its classes are confusable
 * in known pairs (T-shirt and shirt, pullover and coat), which makes pair noise meaningful. The files come from
 * Debian's {@code dataset-fashion-mnist} package via {@link DebianPackage}, or from a directory the user filled by
 * hand. The IDX files are read on the driver (they are local files, 55 MB of bytes in all) and reach the executors
 * as raw bytes in one broadcast, so tasks stay small; each of the {@value #OUTPUT_FILES} tasks expands its share of
 * {@value #CHUNK_ROWS}-row chunks into rows, so the driver never holds the float table (four times larger).
 */
public final class FashionMnistFetcher implements DatasetFetcher {

  public static final String NAME = "fashion-mnist";
  public static final String DEBIAN_PACKAGE = "dataset-fashion-mnist";
  /** Where the package puts the IDX files, relative to the root it is unpacked into. */
  public static final String PACKAGE_DIR = "usr/share/datasets/fashion-mnist";
  public static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
  public static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
  public static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
  public static final String TEST_LABELS = "t10k-labels-idx1-ubyte";
  public static final List<String> FILES = List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS);
  /** Class names by label, from the data set's README. */
  public static final List<String> CLASS_NAMES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
      "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");
  public static final int SIDE = 28;
  public static final int PIXELS = SIDE * SIDE;
  /** Parquet files of the output table. */
  public static final int OUTPUT_FILES = 8;
  static final int CHUNK_ROWS = 1000;

  /** The schema of the output table. */
  public static final StructType SCHEMA = new StructType(new StructField[] {
      DataTypes.createStructField("id", DataTypes.LongType, false),
      DataTypes.createStructField("features", DataTypes.createArrayType(DataTypes.FloatType, false), false),
      DataTypes.createStructField("label", DataTypes.IntegerType, false),
      DataTypes.createStructField("split", DataTypes.StringType, false)});

  private static final Logger LOG = LoggerFactory.getLogger(FashionMnistFetcher.class);

  private final DebianPackage debian;

  public FashionMnistFetcher() {
    this(DebianPackage.onPath(DEBIAN_PACKAGE));
  }

  /** With a given package source (tests use one with an empty or fake PATH). */
  public FashionMnistFetcher(DebianPackage debian) {
    this.debian = debian;
  }

  /** How to get the files without apt: appended to every fetch error. */
  public static String manualHelp() {
    return "Get the files by hand: either download " + DEBIAN_PACKAGE + "_*.deb from a Debian mirror"
        + " (https://deb.debian.org/debian/pool/main/d/" + DEBIAN_PACKAGE + "/) and unpack it with"
        + " 'dpkg -x FILE.deb DIR' (or 'ar x FILE.deb' and untar data.tar.xz into DIR), or download the four IDX"
        + " files (" + String.join(".gz, ", FILES) + ".gz) from https://github.com/zalandoresearch/fashion-mnist"
        + " into DIR; then run: relabel fetch " + NAME + " --from DIR";
  }

  @Override
  public Result fetch(Request request, Supplier<SparkSession> spark) {
    String table = tablePath(request.dataDir());
    if (!request.force() && FetchSupport.exists(table)) {
      LOG.info("{} is already at {}; nothing to do (--force fetches it again)", NAME, table);
      return new Result(table, true, Map.of(), "existing table");
    }
    long t0 = System.nanoTime();
    FetchSupport.Origin origin = FetchSupport.origin(request, debian, NAME, DEBIAN_PACKAGE, manualHelp());
    Path dir = locate(origin.root(), origin.what());
    String source = origin.source("files in " + dir);
    LOG.info("reading the IDX files in {}", dir);
    List<Chunk> chunks = new ArrayList<>();
    int train = readSplit(dir, TRAIN_IMAGES, TRAIN_LABELS, "train", 0, chunks);
    int test = readSplit(dir, TEST_IMAGES, TEST_LABELS, "test", train, chunks);
    LOG.info("read {} train and {} test images in {} s", train, test, FetchSupport.seconds(t0));

    FetchSupport.Shared<List<Chunk>> df = FetchSupport.table(spark.get(), chunks, chunks.size(), OUTPUT_FILES,
        FashionMnistFetcher::rowsOf, SCHEMA);
    Map<String, Long> perSplit = new LinkedHashMap<>();
    perSplit.put("train", (long) train);
    perSplit.put("test", (long) test);
    TableWriter.writeAtomically(df.table(), table, request.force(),
        Map.of(FetchSupport.SIDECAR, sidecar(source, perSplit)));
    df.broadcast().destroy();
    LOG.info("wrote {} rows ({} train, {} test) to {} in {} s", train + test, train, test, table,
        FetchSupport.seconds(t0));
    return new Result(table, false, perSplit, source);
  }

  /** {@code <dataDir>/fashion-mnist}. */
  public static String tablePath(String dataDir) {
    return FetchSupport.tablePath(dataDir, NAME);
  }

  /**
   * Finds the four files in {@code dir} or in {@code dir/usr/share/datasets/fashion-mnist} (the root of an unpacked
   * package), each plain or gzipped.
   */
  static Path locate(Path dir, String what) {
    if (!Files.isDirectory(dir)) {
      throw new RelabelException(what + ": no such directory");
    }
    for (Path candidate : new Path[] {dir, dir.resolve(PACKAGE_DIR)}) {
      if (FILES.stream().allMatch(f -> file(candidate, f) != null)) {
        return candidate;
      }
    }
    List<String> missing = new ArrayList<>();
    for (String f : FILES) {
      if (file(dir, f) == null) {
        missing.add(f + "[.gz]");
      }
    }
    throw new RelabelException(what + ": missing " + String.join(", ", missing) + " (looked in " + dir + " and in "
        + dir.resolve(PACKAGE_DIR) + "). " + manualHelp());
  }

  /** The file {@code name} or {@code name.gz} in {@code dir}, or null. */
  private static Path file(Path dir, String name) {
    for (Path p : new Path[] {dir.resolve(name), dir.resolve(name + ".gz")}) {
      if (Files.isRegularFile(p)) {
        return p;
      }
    }
    return null;
  }

  /** Reads one split's images and labels, checks them and appends its chunks; returns its row count. */
  private static int readSplit(Path dir, String imagesName, String labelsName, String split, long firstId,
      List<Chunk> chunks) {
    Path imagesFile = file(dir, imagesName);
    Path labelsFile = file(dir, labelsName);
    IdxArray images = IdxReader.readUnsignedBytes(imagesFile, 3);
    IdxArray labels = IdxReader.readUnsignedBytes(labelsFile, 1);
    if (images.dims()[1] != SIDE || images.dims()[2] != SIDE) {
      throw new RelabelException(imagesFile + " holds images of " + images.dims()[1] + " x " + images.dims()[2]
          + " pixels; Fashion-MNIST images are " + SIDE + " x " + SIDE);
    }
    if (images.count() != labels.count()) {
      throw new RelabelException(labelsFile + " holds " + labels.count() + " labels but " + imagesFile + " holds "
          + images.count() + " images");
    }
    for (int i = 0; i < labels.count(); i++) {
      int label = labels.value(i, 0);
      if (label >= CLASS_NAMES.size()) {
        throw new RelabelException(labelsFile + ": label " + label + " of image " + i + " (id " + (firstId + i)
            + ") is outside 0.." + (CLASS_NAMES.size() - 1));
      }
    }
    int n = images.count();
    for (int start = 0; start < n; start += CHUNK_ROWS) {
      int end = Math.min(n, start + CHUNK_ROWS);
      chunks.add(new Chunk(firstId + start, split,
          Arrays.copyOfRange(images.data(), start * PIXELS, end * PIXELS),
          Arrays.copyOfRange(labels.data(), start, end)));
    }
    LOG.info("{}: {} images of {} x {} pixels with labels ({} and {})", split, n, SIDE, SIDE,
        imagesFile.getFileName(), labelsFile.getFileName());
    return n;
  }

  private static String sidecar(String source, Map<String, Long> perSplit) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("dataset", NAME);
    m.put("source", source);
    m.put("rowsPerSplit", perSplit);
    m.put("classes", CLASS_NAMES);
    m.put("features", "784 pixels of a 28x28 image, row-major, scaled from 0..255 to [0, 1]");
    return FetchSupport.json(m);
  }

  /** The rows of chunks [from, to), made on an executor. */
  private static Iterator<Row> rowsOf(List<Chunk> chunks, int from, int to) {
    return chunks.subList(from, to).stream().flatMap(c -> StreamSupport.stream(
        Spliterators.spliteratorUnknownSize(c.rows(), Spliterator.ORDERED), false)).iterator();
  }

  /** Consecutive rows of one split as raw bytes, as the driver read them. */
  static final class Chunk implements Serializable {
    private static final long serialVersionUID = 1L;
    final long firstId;
    final String split;
    final byte[] pixels;
    final byte[] labels;

    Chunk(long firstId, String split, byte[] pixels, byte[] labels) {
      this.firstId = firstId;
      this.split = split;
      this.pixels = pixels;
      this.labels = labels;
    }

    Iterator<Row> rows() {
      return new Iterator<>() {
        private int i;

        @Override
        public boolean hasNext() {
          return i < labels.length;
        }

        @Override
        public Row next() {
          float[] f = new float[PIXELS];
          int off = i * PIXELS;
          for (int j = 0; j < PIXELS; j++) {
            f[j] = (pixels[off + j] & 0xff) / 255f;
          }
          Row r = RowFactory.create(firstId + i, f, labels[i] & 0xff, split);
          i++;
          return r;
        }
      };
    }
  }
}
