package io.relabel.spark.embed;

import io.relabel.spark.cli.RelabelException;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

/**
 * Where an encoder's model bytes come from on an executor, and their SHA-256, which names the model in the
 * {@link ModelCache} and in the manifest of stored embeddings. Four sources:
 * <ul>
 *   <li>{@link #broadcast}: bytes the driver read (a user's DL4J model, a large fitted basis). Spark sends a
 *   broadcast to each executor once, not with every task as it would a field of the serialised encoder.</li>
 *   <li>{@link #classpath}: a resource of the application jar, which every executor already has (the ONNX models
 *   inside the langchain4j jars). Nothing is sent; the executor reads its own copy and checks that its hash is the
 *   driver's, so an executor with another version of the jar fails instead of computing other embeddings.</li>
 *   <li>{@link #hadoopFile}: a file the user names on a Hadoop file system ({@code hdfs://}, {@code s3a://}, a local
 *   path), which may be too large to broadcast comfortably (a cross-encoder). Only its path travels; each JVM reads
 *   the file itself, once (when {@link ModelCache} builds the model), and checks that its hash is the driver's.</li>
 *   <li>{@link #inline}: small bytes that may as well travel inside the task.</li>
 * </ul>
 */
public abstract class ModelBytes implements Serializable {

  private static final long serialVersionUID = 1L;

  private final String sha256;

  private ModelBytes(String sha256) {
    this.sha256 = sha256;
  }

  /** Hex SHA-256 of the bytes. */
  public String sha256() {
    return sha256;
  }

  /** The bytes (on an executor: from the broadcast, the jar or the task). */
  public abstract byte[] load();

  public static ModelBytes broadcast(SparkSession spark, byte[] bytes) {
    Broadcast<byte[]> b = JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(bytes);
    return new FromBroadcast(sha256(bytes), b);
  }

  /**
   * A resource of this class's class loader (the application jar); read once here to hash it.
   *
   * @throws IllegalStateException if the resource is absent
   */
  public static ModelBytes classpath(String resource) {
    return new FromClasspath(sha256(readResource(resource)), resource);
  }

  /**
   * A file on a Hadoop file system whose bytes the caller has just read with {@link #readHadoopFile(String, String)}
   * (to build its model from them at once, so the driver reads the file once): hashes them and keeps only the path
   * and the hash.
   *
   * @param setting the setting that named the file, which every error message starts with
   */
  public static ModelBytes hadoopFile(String path, String setting, byte[] bytes) {
    return new FromHadoopFile(sha256(bytes), path, setting);
  }

  /**
   * The whole file at {@code path} on its Hadoop file system ({@link #hadoopConf()}).
   *
   * @throws RelabelException naming {@code setting} and the path if there is no file there or it cannot be read
   */
  public static byte[] readHadoopFile(String path, String setting) {
    return readHadoopFile(hadoopConf(), path, setting);
  }

  public static ModelBytes inline(byte[] bytes) {
    return new Inline(sha256(bytes), bytes.clone());
  }

  public static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  static byte[] readResource(String resource) {
    try (InputStream in = ModelBytes.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new IllegalStateException("resource " + resource + " is not on the classpath (is the jar that"
            + " carries it missing?)");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read resource " + resource, e);
    }
  }

  /** The whole file at {@code path}, opened with {@code conf}. */
  static byte[] readHadoopFile(Configuration conf, String path, String setting) {
    try {
      Path p = new Path(path);
      FileSystem fs = p.getFileSystem(conf);
      if (!fs.isFile(p)) {
        throw new RelabelException(setting + ": no file at " + path);
      }
      try (InputStream in = fs.open(p)) {
        return in.readAllBytes();
      }
    } catch (IOException e) {
      throw new RelabelException(setting + ": cannot read " + path + ": " + e.getMessage(), e);
    }
  }

  /**
   * The Hadoop configuration to open a user's file with: on the driver, the active session's; elsewhere (an
   * executor, or no Spark at all) the cluster's {@code core-site.xml} plus the application's {@code spark.hadoop.*}
   * settings. A setting made only at run time on the driver's {@code hadoopConfiguration()} is not seen there.
   */
  static Configuration hadoopConf() {
    scala.Option<SparkSession> active = SparkSession.getActiveSession();
    if (active.isDefined()) {
      return active.get().sparkContext().hadoopConfiguration();
    }
    Configuration conf = new Configuration();
    SparkEnv env = SparkEnv.get();
    if (env != null) {
      for (scala.Tuple2<String, String> kv : env.conf().getAllWithPrefix("spark.hadoop.")) {
        conf.set(kv._1(), kv._2());
      }
    }
    return conf;
  }

  private static final class FromBroadcast extends ModelBytes {
    private static final long serialVersionUID = 1L;
    private final Broadcast<byte[]> bytes;

    FromBroadcast(String sha256, Broadcast<byte[]> bytes) {
      super(sha256);
      this.bytes = bytes;
    }

    @Override
    public byte[] load() {
      return bytes.value();
    }
  }

  private static final class FromClasspath extends ModelBytes {
    private static final long serialVersionUID = 1L;
    private final String resource;

    FromClasspath(String sha256, String resource) {
      super(sha256);
      this.resource = resource;
    }

    @Override
    public byte[] load() {
      byte[] b = readResource(resource);
      String here = sha256(b);
      if (!here.equals(sha256())) {
        throw new IllegalStateException("resource " + resource + " has SHA-256 " + here + " here but "
            + sha256() + " on the driver: executors and driver run different jars");
      }
      return b;
    }
  }

  private static final class FromHadoopFile extends ModelBytes {
    private static final long serialVersionUID = 1L;
    private final String path;
    private final String setting;

    FromHadoopFile(String sha256, String path, String setting) {
      super(sha256);
      this.path = path;
      this.setting = setting;
    }

    @Override
    public byte[] load() {
      byte[] b = readHadoopFile(path, setting);
      String here = sha256(b);
      if (!here.equals(sha256())) {
        throw new IllegalStateException(setting + ": " + path + " has SHA-256 " + here + " here but " + sha256()
            + " when the driver read it: the file changed while the job ran");
      }
      return b;
    }
  }

  private static final class Inline extends ModelBytes {
    private static final long serialVersionUID = 1L;
    private final byte[] bytes;

    Inline(String sha256, byte[] bytes) {
      super(sha256);
      this.bytes = bytes;
    }

    @Override
    public byte[] load() {
      return bytes;
    }
  }
}
