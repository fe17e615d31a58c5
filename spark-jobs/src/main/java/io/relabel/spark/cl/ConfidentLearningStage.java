package io.relabel.spark.cl;

import io.relabel.core.cl.ConfidentLearning;
import io.relabel.core.cl.PruneRule;
import io.relabel.core.cl.ScoredRows;
import io.relabel.core.cl.ScoredScan;
import io.relabel.core.noise.ExactSelection;
import io.relabel.core.noise.RowIds;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF4;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Confident learning on a table (Northcutt, Jiang, Chuang, JAIR 70, 2021; {@code methods.md} section 5; the math is
 * in {@link ConfidentLearning}): per-class thresholds, the confident joint, its calibration into the joint Q and the
 * noise transition matrix, and pruning by noise rate, which flags the rows whose given label is likely wrong.
 *
 * <p>Every step is a pass over the partitions of a narrow projection (id, probabilities, label, eligible mark),
 * merged with {@code treeAggregate}: class counts and exact probability sums, the confident joint, the histograms of
 * the exact margin selection, and a count of the flagged rows. Only the selection's small candidate buckets reach the
 * driver; the table is neither collected nor shuffled, and the result does not depend on its partitioning. Nothing
 * is cached here: each pass reads the input again, so the caller should persist it.
 *
 * <p>The output is the input with three columns: {@link #ISSUE} and {@link #QUALITY} for the rows that took part
 * (null for the others) and {@link #CLASS}, the class a flagged row's label likely should be (null when not flagged).
 */
public final class ConfidentLearningStage {

  /** boolean: the row is flagged by pruning by noise rate; null for rows that take no part. */
  public static final String ISSUE = "cl_issue";
  /** double: self-confidence p_given, the label quality score; null for rows that take no part. */
  public static final String QUALITY = "cl_quality";
  /** int: the issue class of a flagged row (the class with the largest margin among those that flagged it). */
  public static final String CLASS = "_rl_cl_class";

  private static final String TMP = "_rl_cl_out";
  private static final StructType OUT = new StructType()
      .add("issue", DataTypes.BooleanType, true)
      .add("quality", DataTypes.DoubleType, true)
      .add("cls", DataTypes.IntegerType, true);
  private static final Logger LOG = LoggerFactory.getLogger(ConfidentLearningStage.class);

  private ConfidentLearningStage() {}

  /**
   * The input columns.
   *
   * @param id       row id, integer or string, unique; ties in margin are broken by it
   * @param probs    array&lt;float&gt;, the out-of-fold predicted probabilities, one per class
   * @param label    integer class index of the given label; null: the row takes no part
   * @param eligible boolean: the row takes part (labeled, untrusted training rows); false or null: it does not
   */
  public record Columns(String id, String probs, String label, String eligible) {}

  /**
   * What confident learning found. Matrices are indexed [given class i][other class j].
   *
   * @param table          the input with {@link #ISSUE}, {@link #QUALITY} and {@link #CLASS}
   * @param thresholds     t_j, the mean p_j over rows labeled j (NaN for a class no row is labeled with)
   * @param confidentJoint C[i][j], rows labeled i whose confident class is j
   * @param joint          Q[i][j], the calibrated joint estimate of p(given = i, true = j)
   * @param noiseMatrix    p(given = i | true = j): row i is the given class, column j the true class
   * @param pruneCounts    rows labeled i flagged for class j (before rows flagged for several j are merged)
   * @param issues         rows flagged
   * @param rows           rows that took part
   */
  public record Result(Dataset<Row> table, double[] thresholds, long[][] confidentJoint, double[][] joint,
      double[][] noiseMatrix, long[][] pruneCounts, long issues, long rows) {

    /** The estimated share of wrong labels, 1 - trace(Q). */
    public double estimatedNoiseRate() {
      return ConfidentLearning.noiseRate(joint);
    }

    /**
     * Metrics for the run manifest: {@code cl.rows}, {@code cl.issues}, {@code cl.estimatedNoiseRate},
     * {@code cl.thresholds} (null for a class without rows), {@code cl.confidentJoint} (row i = given class,
     * column j = confident class) and {@code cl.noiseMatrix}, p(given = i | true = j) with row i = given class and
     * column j = true class.
     */
    public Map<String, Object> metrics() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("cl.rows", rows);
      m.put("cl.issues", issues);
      m.put("cl.estimatedNoiseRate", estimatedNoiseRate());
      List<Double> t = new ArrayList<>();
      for (double v : thresholds) {
        t.add(Double.isNaN(v) ? null : v);
      }
      m.put("cl.thresholds", t);
      List<List<Long>> c = new ArrayList<>();
      for (long[] row : confidentJoint) {
        c.add(Arrays.stream(row).boxed().toList());
      }
      m.put("cl.confidentJoint", c);
      List<List<Double>> p = new ArrayList<>();
      for (double[] row : noiseMatrix) {
        p.add(Arrays.stream(row).boxed().toList());
      }
      m.put("cl.noiseMatrix", p);
      return m;
    }
  }

  /** {@link #apply(Dataset, Columns, int, int)} with {@link ExactSelection#DEFAULT_CANDIDATE_LIMIT}. */
  public static Result apply(Dataset<Row> table, Columns c, int classes) {
    return apply(table, c, classes, ExactSelection.DEFAULT_CANDIDATE_LIMIT);
  }

  /**
   * Runs confident learning over the eligible rows of {@code table}.
   *
   * @param classes        C: every eligible row has C probabilities and a label in [0, C)
   * @param candidateLimit largest bucket of the exact selection gathered to the driver
   * @throws IllegalArgumentException for a missing or mistyped column, an output column that exists already, or an
   *                                  eligible row with a label outside [0, C), probabilities of another length, or
   *                                  a null, negative or non-finite probability
   */
  public static Result apply(Dataset<Row> table, Columns c, int classes, int candidateLimit) {
    check(table.schema(), c);
    RowReader reader = new RowReader(classes);
    JavaRDD<Row> narrow = table.select(column(table, c.id()), column(table, c.probs()), column(table, c.label()),
        column(table, c.eligible())).javaRDD();
    ConfidentLearning.Outcome o = ConfidentLearning.run(new SparkRows(narrow, reader), classes, candidateLimit);
    LOG.info("confident learning: {} rows take part, {} issues, estimated noise rate {}, prune counts {}", o.rows(),
        o.issues(), o.noiseRate(), Arrays.deepToString(o.pruneCounts()));
    UserDefinedFunction flag = functions.udf(new Flag(reader, o.rule()), OUT);
    Dataset<Row> out = table.withColumn(TMP, flag.apply(column(table, c.id()), column(table, c.probs()),
            column(table, c.label()), column(table, c.eligible())))
        .withColumn(ISSUE, functions.col(TMP + ".issue"))
        .withColumn(QUALITY, functions.col(TMP + ".quality"))
        .withColumn(CLASS, functions.col(TMP + ".cls"))
        .drop(TMP);
    return new Result(out, o.thresholds(), o.confidentJoint(), o.joint(), o.noiseMatrix(), o.pruneCounts(),
        o.issues(), o.rows());
  }

  private static Column column(Dataset<Row> table, String name) {
    return table.col("`" + name.replace("`", "``") + "`");
  }

  private static void check(StructType schema, Columns c) {
    List<String> names = Arrays.asList(schema.fieldNames());
    for (String out : List.of(ISSUE, QUALITY, CLASS, TMP)) {
      if (names.stream().anyMatch(out::equalsIgnoreCase)) {
        throw new IllegalArgumentException("the table already has a column '" + out + "'; confident learning"
            + " writes it");
      }
    }
    DataType id = type(schema, c.id(), "id");
    if (!isIntegral(id) && !id.equals(DataTypes.StringType)) {
      throw new IllegalArgumentException("column '" + c.id() + "' has type " + id.simpleString()
          + "; row ids must be integers or strings");
    }
    DataType probs = type(schema, c.probs(), "probabilities");
    if (!(probs instanceof ArrayType a) || !a.elementType().equals(DataTypes.FloatType)) {
      throw new IllegalArgumentException("column '" + c.probs() + "' has type " + probs.simpleString()
          + "; predicted probabilities must be array<float>");
    }
    DataType label = type(schema, c.label(), "label");
    if (!isIntegral(label)) {
      throw new IllegalArgumentException("column '" + c.label() + "' has type " + label.simpleString()
          + "; the given label must be an integer class index");
    }
    DataType eligible = type(schema, c.eligible(), "eligible");
    if (!eligible.equals(DataTypes.BooleanType)) {
      throw new IllegalArgumentException("column '" + c.eligible() + "' has type " + eligible.simpleString()
          + "; the eligible mark must be boolean");
    }
  }

  private static DataType type(StructType schema, String name, String what) {
    if (name == null || !Arrays.asList(schema.fieldNames()).contains(name)) {
      throw new IllegalArgumentException("the table has no " + what + " column '" + name + "'; its columns: "
          + String.join(", ", schema.fieldNames()));
    }
    return schema.apply(name).dataType();
  }

  private static boolean isIntegral(DataType t) {
    return t.equals(DataTypes.LongType) || t.equals(DataTypes.IntegerType) || t.equals(DataTypes.ShortType)
        || t.equals(DataTypes.ByteType);
  }

  /** Reads the (id, probabilities, label, eligible) of a row and checks what confident learning needs of it. */
  private static final class RowReader implements Serializable {
    private static final long serialVersionUID = 1L;
    private final int classes;

    RowReader(int classes) {
      this.classes = classes;
    }

    /** The probabilities of a row that takes part (its label checked), or null when it takes no part. */
    float[] probs(Object id, List<?> probs, Object label, Object eligible) {
      if (!Boolean.TRUE.equals(eligible) || probs == null || label == null) {
        return null;
      }
      long given = ((Number) label).longValue();
      if (given < 0 || given >= classes) {
        throw new IllegalArgumentException("row " + id + ": label " + given + " is not a class index in [0, "
            + classes + ")");
      }
      float[] p = new float[probs.size()];
      for (int j = 0; j < p.length; j++) {
        Object v = probs.get(j);
        if (v == null) {
          throw new IllegalArgumentException("row " + id + ": probability of class " + j + " is null");
        }
        p[j] = ((Number) v).floatValue();
      }
      return p;
    }

    <A> A add(ScoredScan<A> scan, A acc, Row row) {
      float[] p = probs(row.get(0), row.isNullAt(1) ? null : row.getList(1), row.get(2), row.get(3));
      return p == null ? acc : scan.add(acc, RowIds.normalize(row.get(0)), p, row.<Number>getAs(2).intValue());
    }
  }

  /** The rows of the narrow projection, scanned per partition and merged as a tree. */
  private static final class SparkRows implements ScoredRows {
    private final JavaRDD<Row> rdd;
    private final RowReader reader;

    SparkRows(JavaRDD<Row> rdd, RowReader reader) {
      this.rdd = rdd;
      this.reader = reader;
    }

    @Override
    public <A> A scan(ScoredScan<A> scan) {
      RowReader r = reader;
      Function2<A, Row, A> seq = (acc, row) -> r.add(scan, acc, row);
      Function2<A, A, A> comb = scan::merge;
      return rdd.treeAggregate(scan.zero(), seq, comb);
    }
  }

  /** The three output values of a row: (issue, quality, issue class), all null for a row that takes no part. */
  private static final class Flag implements UDF4<Object, scala.collection.Seq<Object>, Object, Object, Row> {
    private static final long serialVersionUID = 1L;
    private final RowReader reader;
    private final PruneRule rule;

    Flag(RowReader reader, PruneRule rule) {
      this.reader = reader;
      this.rule = rule;
    }

    @Override
    public Row call(Object id, scala.collection.Seq<Object> probs, Object label, Object eligible) {
      float[] p = reader.probs(id, probs == null ? null : scala.collection.JavaConverters.seqAsJavaList(probs), label,
          eligible);
      if (p == null) {
        return RowFactory.create(null, null, null);
      }
      int given = ((Number) label).intValue();
      int cls = rule.issueClass(RowIds.normalize(id), p, given);
      return RowFactory.create(cls >= 0, ConfidentLearning.selfConfidence(p, given), cls >= 0 ? cls : null);
    }
  }
}
