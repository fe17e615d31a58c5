package io.relabel.spark.embed;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.min;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.when;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.spark.cli.RelabelException;
import io.relabel.spark.io.InputValidator;
import io.relabel.spark.io.RunManifest;
import io.relabel.spark.io.TableWriter;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;
import java.util.OptionalInt;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;

/**
 * Embeddings stored for reuse: a Parquet table of (id, {@value #EMBEDDING}) written by {@code relabel embed}, with
 * {@value #SIDECAR} naming the encoder, its width and its model's hash. Embedding text with a transformer costs far
 * more than the rest of a run, and the same table is often relabeled many times with other settings; with
 * {@code relabel.embed.reuse} a run joins the stored embeddings by row id instead.
 *
 * <p>A stored embedding is only used when it is what this run would compute: the same encoder, the same width, and
 * for pretrained models the same weights. Anything else, or an input row without a stored embedding, stops the run
 * before it trains anything, with the path and the row id in the message.
 */
public final class EmbeddingStore {

  /** The sidecar file describing a stored embedding table. */
  public static final String SIDECAR = "_embedding.json";
  /** The embedding column of a stored table. */
  public static final String EMBEDDING = "embedding";

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
  private static final String REUSE = RelabelParams.EMBED_REUSE.key();

  private EmbeddingStore() {}

  /**
   * What {@value #SIDECAR} says.
   *
   * @param modelHash SHA-256 of the model (weights, tokenizer, fitted parameters); empty when the encoder cannot
   *                  name its model
   * @param idType    Spark SQL type of the id column, e.g. {@code bigint}
   * @param settings  every effective setting of the run that wrote the table
   */
  public record Info(String encoder, int dim, String modelHash, String idColumn, String idType, long rows,
      String runId, Map<String, String> settings) {

    public Info {
      settings = new TreeMap<>(settings);
    }

    Info withRows(long n) {
      return new Info(encoder, dim, modelHash, idColumn, idType, n, runId, settings);
    }

    String toJson() {
      try {
        return JSON.writeValueAsString(this);
      } catch (JsonProcessingException e) {
        throw new IllegalStateException(e);
      }
    }
  }

  /**
   * Writes the id column and the embeddings of {@code embedded} to {@code path}, atomically, with
   * {@value #SIDECAR} and the run manifest inside.
   *
   * @param embedded what the embed stage made: the embedding column and the id column {@code idCol}
   * @return the sidecar written
   */
  public static Info write(Embedding.Outcome embedded, String idCol, String embeddingCol, String path,
      boolean overwrite, RunManifest manifest) {
    Dataset<Row> t = embedded.table().select(col(idCol), col(embeddingCol).as(EMBEDDING));
    Info info = new Info(embedded.encoder(), embedded.dim(), embedded.modelHash(), idCol,
        t.schema().apply(idCol).dataType().simpleString(), -1, manifest.runId(), manifest.settings());
    long written = TableWriter.writeAtomically(t, path, overwrite, rows -> {
      manifest.setOutput(path, rows);
      manifest.finish();
      return Map.of(SIDECAR, info.withRows(rows).toJson(), RunManifest.FILE_NAME, manifest.toJson());
    });
    return info.withRows(written);
  }

  /** Reads {@value #SIDECAR} of a stored table; a clear error where there is none. */
  public static Info readInfo(SparkSession spark, String path) {
    try {
      Path dir = new Path(path);
      FileSystem fs = dir.getFileSystem(spark.sparkContext().hadoopConfiguration());
      if (!fs.exists(dir)) {
        throw new RelabelException(REUSE + ": " + path + " does not exist");
      }
      Path sidecar = new Path(dir, SIDECAR);
      if (!fs.isFile(sidecar)) {
        throw new RelabelException(REUSE + ": " + path + " holds no stored embeddings (no " + SIDECAR
            + "); write them with `relabel embed`");
      }
      try (InputStream in = fs.open(sidecar)) {
        return JSON.readValue(new String(in.readAllBytes(), StandardCharsets.UTF_8), Info.class);
      }
    } catch (IOException e) {
      throw new RelabelException(REUSE + ": cannot read " + SIDECAR + " of " + path + ": " + e.getMessage(), e);
    }
  }

  /**
   * Refuses stored embeddings that are not what the configured encoder {@code name} would make: another encoder,
   * another width, or (for the pretrained text models, whose identity is known without fitting) other weights.
   */
  public static void checkCompatible(String path, Info info, String name, Settings settings, int inputDim) {
    if (!info.encoder().equals(name)) {
      throw new RelabelException(REUSE + ": the embeddings in " + path + " were made by encoder " + info.encoder()
          + ", but this run is configured for " + name + " (" + RelabelParams.EMBED_ENCODER.key() + "="
          + settings.get(RelabelParams.EMBED_ENCODER) + ")");
    }
    OptionalInt dim = expectedDim(name, settings, inputDim);
    if (dim.isPresent() && dim.getAsInt() != info.dim()) {
      throw new RelabelException(REUSE + ": the embeddings in " + path + " have " + info.dim() + " dimensions, but"
          + " encoder " + name + " as configured gives " + dim.getAsInt());
    }
    if (EncoderFactory.TEXT.contains(name)) {
      String here = OnnxTextEncoder.create(OnnxTextEncoder.Model.named(name), 3).modelHash();
      if (!here.equals(info.modelHash())) {
        throw new RelabelException(REUSE + ": the embeddings in " + path + " were made by model " + info.modelHash()
            + ", but encoder " + name + " here runs model " + here);
      }
    }
  }

  /** The width encoder {@code name} will have, where it is known before fitting or loading anything. */
  static OptionalInt expectedDim(String name, Settings settings, int inputDim) {
    return switch (name) {
      case "vectors" -> OptionalInt.of(inputDim);
      case "pca" -> OptionalInt.of(settings.get(RelabelParams.EMBED_PCA_DIMS));
      case "text-minilm", "text-bge" -> OptionalInt.of(OnnxTextEncoder.DIM);
      default -> OptionalInt.empty();
    };
  }

  /**
   * {@code table} left-joined with the stored embeddings of {@code path} on its id column, as {@code outCol}. The
   * join shuffles: the caller restores its own layout. Checked afterwards by {@link #checkJoined}.
   */
  public static Dataset<Row> join(Dataset<Row> table, String idCol, String path, Info info, String outCol) {
    Dataset<Row> stored = table.sparkSession().read().parquet(path);
    if (!Arrays.asList(stored.columns()).contains(info.idColumn())
        || !Arrays.asList(stored.columns()).contains(EMBEDDING)) {
      throw new RelabelException(REUSE + ": " + path + " lacks column '" + info.idColumn() + "' or '" + EMBEDDING
          + "'; it has " + String.join(", ", stored.columns()));
    }
    DataType storedId = stored.schema().apply(info.idColumn()).dataType();
    DataType inputId = table.schema().apply(idCol).dataType();
    if (!storedId.equals(inputId)) {
      throw new RelabelException(REUSE + ": column '" + info.idColumn() + "' of " + path + " is "
          + storedId.simpleString() + ", but the input's id column '" + idCol + "' is " + inputId.simpleString());
    }
    DataType embType = stored.schema().apply(EMBEDDING).dataType();
    if (!embType.equals(DataTypes.createArrayType(DataTypes.FloatType))
        && !embType.equals(DataTypes.createArrayType(DataTypes.FloatType, false))) {
      throw new RelabelException(REUSE + ": column '" + EMBEDDING + "' of " + path + " is " + embType.simpleString()
          + ", not array<float>");
    }
    String key = "_rl_reuse_id";
    Dataset<Row> s = stored.select(col(info.idColumn()).as(key), col(EMBEDDING).as(outCol));
    return table.join(s, table.col(idCol).equalTo(s.col(key)), "left").drop(key);
  }

  /**
   * One pass over the joined table: every input row found exactly one stored embedding of the stored width.
   *
   * @param inputRows the input's row count
   */
  public static void checkJoined(Dataset<Row> joined, String idCol, String outCol, long inputRows, String path,
      Info info) {
    Row r = joined.agg(count(lit(1)),
        count(when(col(outCol).isNull(), lit(1))), min(when(col(outCol).isNull(), col(idCol))),
        count(when(size(col(outCol)).notEqual(info.dim()), lit(1))),
        min(when(size(col(outCol)).notEqual(info.dim()), col(idCol)))).first();
    long rows = r.getLong(0);
    long missing = r.getLong(1);
    if (missing > 0) {
      throw new RelabelException(REUSE + ": no stored embedding in " + path + " for row id "
          + InputValidator.formatValue(normalizeId(r.get(2))) + " (" + missing + " of " + inputRows
          + " rows have none); embed this input again with `relabel embed`");
    }
    long wrongLength = r.getLong(3);
    if (wrongLength > 0) {
      throw new RelabelException(REUSE + ": the stored embedding of row id "
          + InputValidator.formatValue(normalizeId(r.get(4))) + " in " + path + " does not have "
          + info.dim() + " values (" + wrongLength + " rows)");
    }
    if (rows != inputRows) {
      throw new RelabelException(REUSE + ": " + path + " holds more than one embedding for some row ids ("
          + rows + " rows joined to " + inputRows + " input rows)");
    }
  }

  private static Object normalizeId(Object id) {
    return id instanceof Number n ? (Object) n.longValue() : id;
  }
}
