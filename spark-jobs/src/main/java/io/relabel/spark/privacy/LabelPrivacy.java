package io.relabel.spark.privacy;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.min_by;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

import io.relabel.core.model.MlpModel;
import io.relabel.core.privacy.PrivacySpec;
import io.relabel.core.privacy.PrivacySpec.Mechanism;
import io.relabel.core.privacy.RandomizedResponse;
import io.relabel.core.util.RowSeeds;
import io.relabel.spark.io.InputValidationException;
import io.relabel.spark.train.MlpTrainer;
import io.relabel.spark.train.Scoring;
import java.io.Serializable;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.api.java.UDF4;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Privatises the given labels of the eligible rows with label differential privacy (methods.md section 1), before
 * any stage reads them:
 *
 * <ul>
 *   <li>{@code rr}: every eligible row by RR_eps over the C classes;</li>
 *   <li>{@code rr-prior}: every eligible row by RR-with-prior, the prior read from a column (C numbers per row, in
 *       class-index order, not derived from the row's label);</li>
 *   <li>{@code lp-2st}: a label-independent share of the eligible rows (a seeded hash of the id) by plain RR
 *       (stage 1); a model M1 trained on the stage-1 rows with their privatised labels then scores the other rows
 *       (stage 2), whose labels are privatised by RR-with-prior with M1's probabilities as the prior.</li>
 * </ul>
 *
 * <p>Each eligible row is privatised exactly once, so the run is eps-label-DP: the stages see disjoint rows
 * (parallel composition), and M1 reads only stage-1 outputs, so using it is post-processing. Every draw is a pure
 * function of (seed, row id) ({@link RandomizedResponse}); rr and rr-prior therefore give the same labels in any
 * partition layout, and lp-2st does too as long as M1 is trained on the canonical layout {@link MlpTrainer} asks for.
 *
 * <p>Nothing is collected: bad input is found by an aggregate (the problem of the row with the smallest id), the
 * metrics come from one more, and the output is persisted because both the metrics and the caller read it;
 * {@link Result#release()} frees it.
 */
public final class LabelPrivacy {

  private static final Logger LOG = LoggerFactory.getLogger(LabelPrivacy.class);

  /** The added int column: 1 for rows privatised by plain RR, rr-prior or lp-2st stage 1; 2 for lp-2st stage 2. */
  public static final String STAGE = "_rl_privacy_stage";

  /** The {@link RowSeeds} stage name of the lp-2st split. */
  public static final String SPLIT_STAGE = "privacy.stage";

  // internal columns, dropped before the table is handed back
  private static final String GIVEN = "_rl_privacy_given";
  private static final String K = "_rl_privacy_k";
  private static final String PROBLEM = "_rl_privacy_problem";
  private static final String DRAW = "_rl_privacy_draw";
  private static final String IN_STAGE2 = "_rl_privacy_in_stage2";
  private static final String M1_PRIOR = "_rl_privacy_m1";
  private static final List<String> INTERNAL = List.of(GIVEN, K, PROBLEM, DRAW, IN_STAGE2, M1_PRIOR);

  private static final StructType DRAW_TYPE = new StructType().add("label", DataTypes.IntegerType)
      .add("k", DataTypes.IntegerType).add("problem", DataTypes.StringType);

  private LabelPrivacy() {}

  /**
   * Which columns of the table the stage reads.
   *
   * @param id       the row id (integer or string)
   * @param x        the embedding, array&lt;float&gt; (what {@link MlpTrainer} and {@link Scoring} read)
   * @param label    the int class index; null for unlabeled rows
   * @param eligible boolean: rows to privatise (labeled, untrusted, not held out); null counts as false
   * @param prior    for rr-prior, the prior column (array of C numbers); otherwise null
   */
  public record Columns(String id, String x, String label, String eligible, String prior) implements Serializable {}

  /**
   * The privatised table, what the manifest records, and the persisted table behind both.
   *
   * @param table   the input rows and columns, the eligible rows' labels privatised, plus {@link #STAGE}
   * @param metrics {@code privacy.*} and {@code eval.privacy.*} entries for the run manifest
   * @param cached  the persisted table {@code table} is read from; {@link #release()} unpersists it
   */
  public record Result(Dataset<Row> table, Map<String, Object> metrics, Dataset<Row> cached) {
    public void release() {
      cached.unpersist(false);
    }
  }

  /**
   * Privatises the labels of the eligible rows by {@code spec}'s mechanism.
   *
   * @param table   the rows; for lp-2st in the canonical layout {@link MlpTrainer#fit} expects
   * @param classes C, the number of classes (labels are indices in [0, C))
   * @param dim     the embedding width (lp-2st's M1 reads it)
   * @param trainer trains lp-2st's M1 (unused by the other mechanisms)
   * @param seed    the run seed every draw and M1 derive from
   * @throws InputValidationException when a column is missing or of the wrong type, or an eligible row has no
   *                                  usable label, id or prior; raised before anything is handed back
   */
  public static Result apply(Dataset<Row> table, Columns c, int classes, int dim, PrivacySpec spec,
      MlpTrainer trainer, long seed) {
    checkColumns(table, c, spec);
    Map<String, Object> metrics = new LinkedHashMap<>();
    metrics.put("privacy.mechanism", spec.mechanism().key());
    if (!spec.enabled()) {
      Dataset<Row> same = table.withColumn(STAGE, lit(null).cast(DataTypes.IntegerType));
      metrics.put("privacy.epsilon", 0.0);
      metrics.put("privacy.rows", 0L);
      return new Result(same, metrics, same);
    }
    RandomizedResponse rr = new RandomizedResponse(spec.epsilon(), classes, seed);
    boolean twoStages = spec.mechanism() == Mechanism.LP_2ST;
    double share = spec.stage1Share();
    UserDefinedFunction split = udf((UDF1<Object, Double>) id -> RowSeeds.uniform(seed, SPLIT_STAGE, id, 0),
        DataTypes.DoubleType);
    Column eligible = coalesce(col(c.eligible()), lit(false));
    Column stage = twoStages ? when(eligible, when(split.apply(col(c.id())).lt(share), lit(1)).otherwise(lit(2)))
        : when(eligible, lit(1));
    Dataset<Row> marked = table.withColumn(GIVEN, col(c.label()))
        .withColumn(STAGE, stage)
        .withColumn(K, lit(null).cast(DataTypes.IntegerType))
        .withColumn(PROBLEM, lit(null).cast(DataTypes.StringType));
    LOG.info("label privacy: {} at epsilon {} over {} classes", spec.mechanism().key(), spec.epsilon(), classes);

    Dataset<Row> full;
    if (twoStages) {
      // stage 1 is read by M1's fit and again by stage 2
      Dataset<Row> first = privatise(marked, c, 1, rr, null).persist(StorageLevel.MEMORY_AND_DISK());
      Counts s1 = Counts.checked(first, c);
      LOG.info("lp-2st: {} stage-1 rows privatised by RR, {} stage-2 rows to go", s1.stage1, s1.stage2);
      if (s1.stage2 == 0) {
        full = first;
        s1.report(metrics, spec, true);
      } else {
        try {
          full = secondStage(first, c, classes, dim, rr, trainer, seed, s1).persist(StorageLevel.MEMORY_AND_DISK());
          Counts.checked(full, c).report(metrics, spec, true);
        } finally {
          first.unpersist(false);
        }
      }
    } else {
      String prior = spec.mechanism() == Mechanism.RR_PRIOR ? c.prior() : null;
      full = privatise(marked, c, 1, rr, prior).persist(StorageLevel.MEMORY_AND_DISK());
      Counts.checked(full, c).report(metrics, spec, false);
    }
    LOG.info("label privacy: {} rows privatised, {}", metrics.get("privacy.rows"), metrics);
    return new Result(full.drop(INTERNAL.toArray(new String[0])), metrics, full);
  }

  /** Stage 2 of lp-2st: M1 on the privatised stage-1 rows, its probabilities the prior of the stage-2 rows. */
  private static Dataset<Row> secondStage(Dataset<Row> first, Columns c, int classes, int dim, RandomizedResponse rr,
      MlpTrainer trainer, long seed, Counts s1) {
    if (s1.stage1 == 0) {
      throw new InputValidationException("lp-2st put none of the " + s1.rows + " privatised rows into stage 1"
          + " (relabel.privacy.stage1Share), so there is no model to give stage 2 its prior; raise the share or use"
          + " rr");
    }
    MlpModel m1 = trainer.fit(first.filter(col(STAGE).equalTo(1)), c.x(), c.label(), dim, classes,
        RowSeeds.mix(seed ^ RowSeeds.stageKey("privacy.m1")), "lp-2st stage-1 model");
    Broadcast<MlpModel[]> models = JavaSparkContext.fromSparkContext(first.sparkSession().sparkContext())
        .broadcast(new MlpModel[] {m1});
    Dataset<Row> scored = Scoring.score(first.withColumn(IN_STAGE2, coalesce(col(STAGE).equalTo(2), lit(false))),
        c.x(), models, Scoring.Chooser.always(0), IN_STAGE2, M1_PRIOR);
    return privatise(scored, c, 2, rr, M1_PRIOR);
  }

  /**
   * Draws the labels of the rows in stage {@code stage} (RR-with-prior when {@code priorCol} is set, else plain RR),
   * recording k* and any problem; other rows keep theirs.
   */
  private static Dataset<Row> privatise(Dataset<Row> t, Columns c, int stage, RandomizedResponse rr,
      String priorCol) {
    Draw draw = new Draw(rr, stage, c.id(), c.label(), c.eligible(), priorCol);
    UserDefinedFunction f = udf((UDF4<Object, Integer, Integer, scala.collection.Seq<Object>, Row>) draw::apply,
        DRAW_TYPE);
    Column prior = priorCol == null ? lit(null).cast(DataTypes.createArrayType(DataTypes.DoubleType)) : col(priorCol);
    Column here = col(STAGE).equalTo(stage);
    return t.withColumn(DRAW, f.apply(col(c.id()), col(c.label()), col(STAGE), prior))
        .withColumn(c.label(), when(here, col(DRAW + ".label")).otherwise(col(c.label())))
        .withColumn(K, when(here, col(DRAW + ".k")).otherwise(col(K)))
        .withColumn(PROBLEM, when(here, col(DRAW + ".problem")).otherwise(col(PROBLEM)))
        .drop(DRAW);
  }

  /**
   * One row's draw, shipped to executors as a plain class: (label, k*, problem). Rows of another stage, and rows
   * with a problem, keep their label; the problem names the column, the row id and the value.
   */
  static final class Draw implements Serializable {
    private static final long serialVersionUID = 1L;
    private final RandomizedResponse rr;
    private final int stage;
    private final String idCol;
    private final String labelCol;
    private final String eligibleCol;
    private final String priorCol;

    Draw(RandomizedResponse rr, int stage, String idCol, String labelCol, String eligibleCol, String priorCol) {
      this.rr = rr;
      this.stage = stage;
      this.idCol = idCol;
      this.labelCol = labelCol;
      this.eligibleCol = eligibleCol;
      this.priorCol = priorCol;
    }

    Row apply(Object id, Integer label, Integer rowStage, scala.collection.Seq<Object> prior) {
      if (rowStage == null || rowStage != stage) {
        return RowFactory.create(label, null, null);
      }
      if (id == null) {
        return problem(label, "column '" + idCol + "' is null on a row marked in column '" + eligibleCol
            + "' to privatise; every privatised row needs an id");
      }
      if (label == null || label < 0 || label >= rr.classes()) {
        return problem(label, "column '" + labelCol + "', row id " + id + ": label " + label + " is not a class"
            + " index in [0, " + rr.classes() + "), but the row is marked in column '" + eligibleCol
            + "' to privatise");
      }
      if (priorCol == null) {
        return RowFactory.create(rr.privatise(id, label), rr.classes(), null);
      }
      if (prior == null) {
        return problem(label, "column '" + priorCol + "', row id " + id + ": the prior is null; "
            + requirement());
      }
      Number[] entries = new Number[prior.length()];
      for (int i = 0; i < entries.length; i++) {
        entries[i] = (Number) prior.apply(i);
      }
      String bad = RandomizedResponse.priorProblem(entries, rr.classes());
      if (bad != null) {
        return problem(label, "column '" + priorCol + "', row id " + id + ": " + bad + "; " + requirement());
      }
      double[] p = new double[entries.length];
      for (int i = 0; i < p.length; i++) {
        p[i] = entries[i].doubleValue();
      }
      int[] top = rr.support(p);
      return RowFactory.create(rr.draw(id, label, top), top.length, null);
    }

    private String requirement() {
      return "a prior must hold " + rr.classes() + " finite, non-negative class probabilities with a positive sum,"
          + " in class-index order";
    }

    private static Row problem(Integer label, String message) {
      return RowFactory.create(label, null, message);
    }
  }

  /** One aggregate over a privatised table: stage sizes, kept labels, mean k* and the first problem by id. */
  private static final class Counts {
    final long rows;
    final long stage1;
    final long stage2;
    final long kept;
    final long kept1;
    final long kept2;
    final Double meanK2;
    final String problem;

    private Counts(Row r) {
      rows = r.getLong(0);
      stage1 = r.getLong(1);
      stage2 = r.getLong(2);
      kept = r.getLong(3);
      kept1 = r.getLong(4);
      kept2 = r.getLong(5);
      meanK2 = r.isNullAt(6) ? null : r.getDouble(6);
      problem = r.isNullAt(7) ? null : r.getString(7);
    }

    /**
     * Counts the persisted table {@code t}; when a row has a problem, unpersists {@code t} and throws the problem of
     * the row with the smallest id.
     */
    static Counts checked(Dataset<Row> t, Columns c) {
      Column privatised = col(STAGE).isNotNull();
      Column kept = col(c.label()).eqNullSafe(col(GIVEN));
      Counts counts = new Counts(t.agg(
          count(when(privatised, lit(1))),
          count(when(col(STAGE).equalTo(1), lit(1))),
          count(when(col(STAGE).equalTo(2), lit(1))),
          count(when(privatised.and(kept), lit(1))),
          count(when(col(STAGE).equalTo(1).and(kept), lit(1))),
          count(when(col(STAGE).equalTo(2).and(kept), lit(1))),
          avg(when(col(STAGE).equalTo(2), col(K))),
          min_by(col(PROBLEM), when(col(PROBLEM).isNotNull(), col(c.id())))).first());
      if (counts.problem != null) {
        t.unpersist(false);
        throw new InputValidationException(counts.problem);
      }
      return counts;
    }

    void report(Map<String, Object> metrics, PrivacySpec spec, boolean twoStages) {
      metrics.put("privacy.epsilon", spec.epsilon());
      metrics.put("privacy.rows", rows);
      metrics.put("privacy.stage1Rows", stage1);
      metrics.put("privacy.stage2Rows", stage2);
      if (twoStages && meanK2 != null) {
        metrics.put("privacy.stage2MeanK", meanK2);
      }
      if (rows > 0) {
        metrics.put("eval.privacy.keptShare", (double) kept / rows);
      }
      if (twoStages && stage1 > 0) {
        metrics.put("eval.privacy.stage1KeptShare", (double) kept1 / stage1);
      }
      if (twoStages && stage2 > 0) {
        metrics.put("eval.privacy.stage2KeptShare", (double) kept2 / stage2);
      }
    }
  }

  private static void checkColumns(Dataset<Row> table, Columns c, PrivacySpec spec) {
    StructType schema = table.schema();
    List<String> names = List.of(schema.fieldNames());
    for (String internal : INTERNAL) {
      if (names.contains(internal)) {
        throw new InputValidationException("column '" + internal + "' is one the privacy stage writes; rename it");
      }
    }
    if (names.contains(STAGE)) {
      throw new InputValidationException("column '" + STAGE + "' is one the privacy stage writes; rename it");
    }
    require(schema, c.id(), null, "the row id");
    require(schema, c.label(), DataTypes.IntegerType, "the class index");
    require(schema, c.eligible(), DataTypes.BooleanType, "whether a row is privatised");
    if (spec.mechanism() == Mechanism.LP_2ST) {
      require(schema, c.x(), DataTypes.createArrayType(DataTypes.FloatType), "the embedding");
    }
    if (spec.mechanism() == Mechanism.RR_PRIOR) {
      if (c.prior() == null) {
        throw new InputValidationException("relabel.privacy.mechanism=rr-prior needs a prior column"
            + " (relabel.privacy.priorCol)");
      }
      require(schema, c.prior(), null, "the prior");
      DataType type = schema.apply(c.prior()).dataType();
      if (!(type instanceof ArrayType a && a.elementType() instanceof NumericType)) {
        throw new InputValidationException("column '" + c.prior() + "' (the prior) has type " + type.simpleString()
            + "; expected an array of numbers, one per class");
      }
    }
  }

  private static void require(StructType schema, String name, DataType type, String what) {
    if (name == null || !List.of(schema.fieldNames()).contains(name)) {
      throw new InputValidationException("column '" + name + "' (" + what + ") is missing; the table has columns: "
          + String.join(", ", schema.fieldNames()));
    }
    DataType actual = schema.apply(name).dataType();
    if (type != null && !sameType(actual, type)) {
      throw new InputValidationException("column '" + name + "' (" + what + ") has type " + actual.simpleString()
          + "; expected " + type.simpleString());
    }
  }

  private static boolean sameType(DataType actual, DataType expected) {
    if (actual instanceof ArrayType a && expected instanceof ArrayType e) {
      return a.elementType().equals(e.elementType());
    }
    return actual.equals(expected);
  }
}
