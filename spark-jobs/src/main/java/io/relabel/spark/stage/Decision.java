package io.relabel.spark.stage;

import static io.relabel.spark.stage.RelabelJob.CL_CLASS;
import static io.relabel.spark.stage.RelabelJob.HOLDOUT;
import static io.relabel.spark.stage.RelabelJob.P_FINAL;
import static io.relabel.spark.stage.RelabelJob.P_OOF;
import static io.relabel.spark.stage.RelabelJob.TRUSTED;
import static io.relabel.spark.stage.RelabelJob.Y;
import static org.apache.spark.sql.functions.array;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.element_at;
import static org.apache.spark.sql.functions.expr;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.core.decide.Vote;
import io.relabel.spark.cli.RelabelException;
import io.relabel.spark.emlc.Emlc;
import io.relabel.spark.hdl.Hdl;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.api.java.UDF3;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One decision from every detector. Each method the run computed names a class for a row, with a confidence, or
 * abstains; {@code relabel.decide.policy} turns those opinions into {@code label_corrected}, and
 * {@code relabel_reasons} keeps, for every row, each method that named a class other than the given label.
 *
 * <p>The methods and what they say about a row:
 * <ul>
 *   <li>model: the retrained (final) model's argmax and its probability;</li>
 *   <li>consensus: the predicted hard label ỹ (out-of-fold by default) and its probability; it names the given label
 *       exactly when the row is in the consensus set S;</li>
 *   <li>cl: for a row confident learning flags, the class it was flagged for (its out-of-fold probability as the
 *       confidence); otherwise cl abstains, which means it finds the given label plausible;</li>
 *   <li>hdl: HDL's label where HDL decided one, with its agreement as the confidence;</li>
 *   <li>emlc: the argmax of EMLC's soft label and its mass.</li>
 * </ul>
 * Trusted rows and held-out rows never change (their confidence is the model's probability of their label). The
 * policies: {@code vote}, the default (below); {@code model} (the run's final corrector: EMLC's soft label when EMLC
 * runs, else the retrained model);
 * a single method ({@code consensus}, {@code cl}, {@code hdl}, {@code emlc}) where it names a class, else the
 * model's (cl: else the given label, since abstaining is agreement); {@code vote} ({@link Vote}: a given label
 * changes only when {@code relabel.decide.minVotes} of {@code relabel.decide.voters} name the same other class);
 * {@code agree} (the model and HDL both needed). The table is the narrow one (class indices); labels are looked up in
 * the class list and cast back to the input label's type.
 */
final class Decision {

  private static final Logger LOG = LoggerFactory.getLogger(Decision.class);

  /** Index of the corrected class, kept for evaluation and dropped before the write. */
  static final String CORRECTED_INDEX = "_rl_corrected";

  /** The audit column: per row, the methods that named another class than the given label. */
  static final String REASONS = "relabel_reasons";

  /** A method that can vote, in the order the reasons list them. */
  enum Method {
    MODEL, CONSENSUS, CL, HDL, EMLC;

    String key() {
      return name().toLowerCase(Locale.ROOT);
    }

    static Method of(String key) {
      return valueOf(key.trim().toUpperCase(Locale.ROOT));
    }
  }

  /** {@code relabel.decide.policy}. */
  enum Policy {
    MODEL, CONSENSUS, CL, HDL, EMLC, VOTE, AGREE;

    static Policy of(String setting) {
      return valueOf(setting.toUpperCase(Locale.ROOT));
    }
  }

  /**
   * What the decision needs to know about the run: the policy, which methods it computed, the voters and the rule.
   *
   * @param modelCol the class-probability column that speaks for the {@code model} policy: the retrained model's,
   *                 or with EMLC the teacher's soft labels (methods.md section 3)
   */
  record Setup(Policy policy, Set<Method> available, List<Method> voters, Vote vote, String modelCol)
      implements Serializable {

    /**
     * Reads the {@code relabel.decide.*} settings and refuses, with the setting to change, a policy or voter whose
     * stage does not run.
     */
    static Setup from(Settings s, boolean withCl, boolean withHdl, boolean withEmlc) {
      Set<Method> available = EnumSet.of(Method.MODEL, Method.CONSENSUS);
      if (withCl) {
        available.add(Method.CL);
      }
      if (withHdl) {
        available.add(Method.HDL);
      }
      if (withEmlc) {
        available.add(Method.EMLC);
      }
      Policy policy = Policy.of(s.get(RelabelParams.DECIDE_POLICY));
      String setting = "relabel.decide.policy=" + s.get(RelabelParams.DECIDE_POLICY);
      switch (policy) {
        case CL -> need(available, Method.CL, setting);
        case HDL, AGREE -> need(available, Method.HDL, setting);
        case EMLC -> need(available, Method.EMLC, setting);
        default -> { }
      }
      List<Method> voters = new ArrayList<>();
      String v = s.get(RelabelParams.DECIDE_VOTERS);
      if (v.equals("auto")) {
        voters.addAll(available);
      } else {
        for (String name : v.split(",")) {
          Method m = Method.of(name);
          if (policy == Policy.VOTE) {
            need(available, m, "relabel.decide.voters=" + v);
          }
          if (!voters.contains(m)) {
            voters.add(m);
          }
        }
      }
      int minVotes = s.get(RelabelParams.DECIDE_MIN_VOTES);
      if (v.equals("auto") && minVotes > voters.size()) {
        // fewer stages ran than the rule was written for: all of the methods there are must agree
        LOG.info("relabel.decide.minVotes={} capped at the {} methods this run computes {}", minVotes, voters.size(),
            keys(voters));
        minVotes = voters.size();
      }
      if (policy == Policy.VOTE && minVotes > voters.size()) {
        throw new RelabelException("relabel.decide.minVotes=" + minVotes + " can never be reached by "
            + voters.size() + " voter(s) " + keys(voters) + "; lower it or add voters (relabel.decide.voters)");
      }
      return new Setup(policy, available, voters, new Vote(minVotes, s.get(RelabelParams.DECIDE_MIN_CONFIDENCE)),
          withEmlc ? Emlc.SOFT_LABEL : P_FINAL);
    }

    private static void need(Set<Method> available, Method m, String setting) {
      if (!available.contains(m)) {
        String how = switch (m) {
          case CL -> "relabel.cl.enabled=true";
          case HDL -> "relabel.hdl.mode to fill or noise";
          case EMLC -> "relabel.emlc.mode to emlc or mlc";
          default -> throw new IllegalStateException(m.key() + " is always available");
        };
        throw new RelabelException(setting + " needs the " + m.key() + " stage; set " + how
            + ", or relabel.decide.policy to model");
      }
    }
  }

  private Decision() {}

  /** The class a method names for each row (null: it abstains) and its confidence in it. */
  private record Opinion(Method method, Column label, Column confidence) {}

  private static Opinion opinion(Method m) {
    return switch (m) {
      case MODEL -> fromProbabilities(m, col(P_FINAL));
      case CONSENSUS -> fromProbabilities(m, col(P_OOF));
      case CL -> new Opinion(m, col(CL_CLASS), probabilityOf(col(P_OOF), col(CL_CLASS)));
      case HDL -> new Opinion(m, col(Hdl.LABEL), col(Hdl.CONFIDENCE).cast(DataTypes.DoubleType));
      case EMLC -> fromProbabilities(m, col(Emlc.SOFT_LABEL));
    };
  }

  private static Opinion fromProbabilities(Method m, Column probs) {
    Column label = RelabelJob.argmax(probs);
    return new Opinion(m, label, probabilityOf(probs, label));
  }

  /** p[c] as a double; null when c or p is null (element_at of a null index is null). */
  private static Column probabilityOf(Column probs, Column c) {
    return element_at(probs, c.plus(1)).cast(DataTypes.DoubleType);
  }

  /** Whether a method names another class than the given label for a row (its flag, as a detector). */
  static Column flags(Method m) {
    Opinion o = opinion(m);
    return o.label().isNotNull().and(not(o.label().eqNullSafe(col(Y))));
  }

  /**
   * How strongly a method suspects a labeled row's given label, for ranking (AUROC): model and emlc, one minus the
   * probability of the given label; consensus, the margin of ỹ over the given label (0 inside S); cl, one minus the
   * self-confidence (cleanlab's default ranking); hdl, (1 + agreement) / 2 when it names another class,
   * (1 − agreement) / 2 when it names the given one and 1/2 when it abstains.
   */
  static Column suspicion(Method m) {
    return switch (m) {
      case MODEL -> lit(1.0).minus(probabilityOf(col(P_FINAL), col(Y)));
      case EMLC -> lit(1.0).minus(probabilityOf(col(Emlc.SOFT_LABEL), col(Y)));
      case CL -> lit(1.0).minus(probabilityOf(col(P_OOF), col(Y)));
      case CONSENSUS -> opinion(m).confidence().minus(probabilityOf(col(P_OOF), col(Y)));
      case HDL -> {
        Column conf = coalesce(col(Hdl.CONFIDENCE).cast(DataTypes.DoubleType), lit(0.0));
        yield when(col(Hdl.LABEL).isNull(), lit(0.5))
            .when(col(Hdl.LABEL).equalTo(col(Y)), lit(1.0).minus(conf).divide(2))
            .otherwise(lit(1.0).plus(conf).divide(2));
      }
    };
  }

  static Dataset<Row> apply(Dataset<Row> scored, DataType labelType, String[] classes, Setup setup) {
    Column keep = col(TRUSTED).or(col(HOLDOUT));
    Opinion model = fromProbabilities(Method.MODEL, col(setup.modelCol()));
    Column modelConfidence = probabilityOf(col(setup.modelCol()), col(CORRECTED_INDEX));
    Column chosen;
    Column confidence = modelConfidence;
    switch (setup.policy()) {
      case MODEL -> chosen = model.label();
      case CL -> {
        // abstaining is agreement: an unflagged labeled row keeps its label
        Opinion cl = opinion(Method.CL);
        chosen = coalesce(cl.label(), col(Y), model.label());
        confidence = when(cl.label().isNotNull(), cl.confidence()).otherwise(modelConfidence);
      }
      case CONSENSUS, HDL, EMLC -> {
        Opinion o = opinion(Method.valueOf(setup.policy().name()));
        chosen = coalesce(o.label(), model.label());
        confidence = when(o.label().isNotNull().and(col(CORRECTED_INDEX).equalTo(o.label())), o.confidence())
            .otherwise(modelConfidence);
      }
      case AGREE -> chosen = when(col(Y).isNull(), coalesce(col(Hdl.LABEL), model.label()))
          .when(model.label().equalTo(col(Hdl.LABEL)), model.label())
          .otherwise(col(Y));
      case VOTE -> {
        List<Opinion> voters = setup.voters().stream().map(Decision::opinion).toList();
        Column outcome = voteUdf(setup.vote()).apply(col(Y),
            array(voters.stream().map(Opinion::label).toArray(Column[]::new)),
            array(voters.stream().map(o -> coalesce(o.confidence(), lit(0.0))).toArray(Column[]::new)));
        // a row no voter names a class for: a labeled one keeps its label, an unlabeled one takes the model's
        chosen = coalesce(outcome.getField("label"), col(Y), model.label());
        confidence = when(outcome.getField("label").isNotNull(), outcome.getField("confidence"))
            .otherwise(modelConfidence);
      }
      default -> throw new IllegalStateException("unhandled policy " + setup.policy());
    }
    Column names = array(Arrays.stream(classes).map(c -> lit(c)).toArray(Column[]::new));
    Dataset<Row> t = scored.withColumn(CORRECTED_INDEX, when(keep, col(Y)).otherwise(chosen))
        .withColumn("label_corrected", element_at(names, col(CORRECTED_INDEX).plus(1)).cast(labelType))
        .withColumn("label_confidence", when(keep, modelConfidence).otherwise(confidence))
        .withColumn(RelabelJob.GIVEN, element_at(names, col(Y).plus(1)).cast(labelType))
        .withColumn("_rl_names", names);
    if (setup.available().contains(Method.HDL)) {
      t = t.withColumn("hdl_label", element_at(names, col(Hdl.LABEL).plus(1)).cast(labelType))
          .withColumn("hdl_confidence", col(Hdl.CONFIDENCE))
          .withColumn("hdl_level", col(Hdl.LEVEL))
          .withColumn("cluster_path", col(Hdl.PATH));
    }
    // the audit: every method that names a class other than the given one, in Method order
    List<Column> all = new ArrayList<>();
    for (Method m : setup.available()) {
      Opinion o = opinion(m);
      Column against = o.label().isNotNull().and(not(o.label().eqNullSafe(col(Y))));
      all.add(struct(lit(m.key()).as("method"), when(against, o.label()).as("idx"),
          o.confidence().as("confidence")));
    }
    String type = labelType.sql();
    return t.withColumn("_rl_reasons_all", array(all.toArray(Column[]::new)))
        .withColumn(REASONS, expr("transform(filter(_rl_reasons_all, r -> r.idx IS NOT NULL), r -> named_struct("
            + "'method', r.method, 'label', CAST(element_at(_rl_names, r.idx + 1) AS " + type + "), 'confidence',"
            + " r.confidence))"))
        .drop("_rl_reasons_all", "_rl_names");
  }

  private static final StructType OUTCOME = new StructType()
      .add("label", DataTypes.IntegerType)
      .add("confidence", DataTypes.DoubleType);

  private static UserDefinedFunction voteUdf(Vote vote) {
    return udf((UDF3<Integer, scala.collection.Seq<Integer>, scala.collection.Seq<Double>, Row>) (y, ls, cs) -> {
      int[] labels = new int[ls.length()];
      double[] conf = new double[cs.length()];
      for (int i = 0; i < labels.length; i++) {
        Integer l = ls.apply(i);
        labels[i] = l == null ? -1 : l;
        Double c = cs.apply(i);
        conf[i] = c == null ? Double.NaN : c;
      }
      Vote.Outcome o = vote.decide(y == null ? -1 : y, labels, conf);
      return o.label() < 0 ? RowFactory.create(null, null) : RowFactory.create(o.label(), o.confidence());
    }, OUTCOME);
  }

  private static String keys(List<Method> methods) {
    return methods.stream().map(Method::key).toList().toString();
  }
}
