package io.relabel.spark.embed;

import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.SparkSession;

/**
 * Where an encoder's model bytes come from on an executor, and their SHA-256, which names the model in the
 * {@link ModelCache} and in the manifest of stored embeddings. Three sources:
 * <ul>
 *   <li>{@link #broadcast}: bytes the driver read (a user's DL4J model, a large fitted basis). Spark sends a
 *   broadcast to each executor once, not with every task as it would a field of the serialised encoder.</li>
 *   <li>{@link #classpath}: a resource of the application jar, which every executor already has (the ONNX models
 *   inside the langchain4j jars). Nothing is sent; the executor reads its own copy and checks that its hash is the
 *   driver's, so an executor with another version of the jar fails instead of computing other embeddings.</li>
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
