package io.relabel.spark.stage;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.relabel.core.config.Settings;
import io.relabel.spark.SparkTestSession;
import io.relabel.spark.hdl.Hdl;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Every policy on five hand-made rows whose opinions are known (probabilities are binary fractions, so confidences
 * compare exactly). Classes a, b, c; the methods: model (P_FINAL), consensus (P_OOF), cl (flag class), hdl.
 * <pre>
 *   row  given  flags            model      consensus   cl   hdl
 *   0    a      -                b 0.75     b 0.625     b    b 0.875    everyone says b
 *   1    a      -                b 0.5      a 0.625     -    c 0.5      model and HDL disagree on the new class
 *   2    c      trusted          a 0.875    a 0.875     -    a 1.0      a trusted row never changes
 *   3    null   -                c 0.625    -           -    b 0.75     unlabeled
 *   4    b      held out         a 0.75     -           -    -          a held-out row never changes
 * </pre>
 */
@Tag("spark")
class DecisionTest {

  private static final String[] CLASSES = {"a", "b", "c"};
  private static Dataset<Row> table;

  @BeforeAll
  static void table() {
    StructType schema = new StructType()
        .add("row", DataTypes.IntegerType)
        .add(RelabelJob.Y, DataTypes.IntegerType)
        .add(RelabelJob.TRUSTED, DataTypes.BooleanType)
        .add(RelabelJob.HOLDOUT, DataTypes.BooleanType)
        .add(RelabelJob.P_FINAL, DataTypes.createArrayType(DataTypes.FloatType))
        .add(RelabelJob.P_OOF, DataTypes.createArrayType(DataTypes.FloatType))
        .add(RelabelJob.CL_CLASS, DataTypes.IntegerType)
        .add(Hdl.LABEL, DataTypes.IntegerType)
        .add(Hdl.CONFIDENCE, DataTypes.DoubleType)
        .add(Hdl.LEVEL, DataTypes.IntegerType)
        .add(Hdl.PATH, DataTypes.createArrayType(DataTypes.IntegerType));
    List<Row> rows = List.of(
        RowFactory.create(0, 0, false, false, p(0.125f, 0.75f, 0.125f), p(0.25f, 0.625f, 0.125f), 1, 1, 0.875, 3,
            new int[] {0}),
        RowFactory.create(1, 0, false, false, p(0.375f, 0.5f, 0.125f), p(0.625f, 0.25f, 0.125f), null, 2, 0.5, 3,
            new int[] {1}),
        RowFactory.create(2, 2, true, false, p(0.875f, 0.0625f, 0.0625f), p(0.875f, 0.0625f, 0.0625f), null, 0, 1.0,
            3, new int[] {0}),
        RowFactory.create(3, null, false, false, p(0.25f, 0.125f, 0.625f), null, null, 1, 0.75, 3, new int[] {1}),
        RowFactory.create(4, 1, false, true, p(0.75f, 0.125f, 0.125f), null, null, null, null, null, new int[] {}));
    List<Row> fixed = new ArrayList<>();
    for (Row r : rows) {
      Object[] v = new Object[r.length()];
      for (int i = 0; i < v.length; i++) {
        Object x = r.get(i);
        v[i] = x instanceof int[] a ? java.util.Arrays.stream(a).boxed().toList().toArray() : x;
      }
      fixed.add(RowFactory.create(v));
    }
    table = SparkTestSession.get().createDataFrame(fixed, schema);
  }

  private static Object[] p(float... v) {
    Object[] o = new Object[v.length];
    for (int i = 0; i < v.length; i++) {
      o[i] = v[i];
    }
    return o;
  }

  private static List<Row> decide(Map<String, String> settings) {
    Decision.Setup setup = Decision.Setup.from(Settings.defaults().with(settings), true, true, false);
    return Decision.apply(table, DataTypes.StringType, CLASSES, setup).orderBy("row")
        .select("label_corrected", "label_confidence", Decision.REASONS).collectAsList();
  }

  private static List<String> corrected(List<Row> rows) {
    return rows.stream().map(r -> r.getString(0)).toList();
  }

  @Test
  void eachPolicyPicksWhatItsMethodSaysAndNeverMovesTrustedOrHeldOutRows() {
    assertEquals(java.util.Arrays.asList("b", "b", "c", "c", "b"),
        corrected(decide(Map.of("relabel.decide.policy", "model"))));
    assertEquals(java.util.Arrays.asList("b", "a", "c", "c", "b"),
        corrected(decide(Map.of("relabel.decide.policy", "consensus"))));
    // cl abstains on row 1 (the label stays) and on the unlabeled row 3 (the model's class)
    assertEquals(java.util.Arrays.asList("b", "a", "c", "c", "b"),
        corrected(decide(Map.of("relabel.decide.policy", "cl"))));
    assertEquals(java.util.Arrays.asList("b", "c", "c", "b", "b"),
        corrected(decide(Map.of("relabel.decide.policy", "hdl"))));
    // vote, 2 of {model, consensus, cl, hdl}: row 1 has one vote for b and one for c, so it keeps a; the
    // unlabeled row 3 takes the plurality, b (HDL's 0.75 against the model's 0.625 for c)
    List<Row> vote = decide(Map.of("relabel.decide.policy", "vote", "relabel.decide.minVotes", "2"));
    assertEquals(java.util.Arrays.asList("b", "a", "c", "b", "b"), corrected(vote));
    assertEquals((0.75 + 0.625 + 0.625 + 0.875) / 4, vote.get(0).getDouble(1));
    assertEquals(0.375, vote.get(1).getDouble(1), "a kept label's confidence is the model's probability of it");
    assertEquals(0.0625, vote.get(2).getDouble(1));
    assertEquals(0.75, vote.get(3).getDouble(1));
    // minVotes 4 still passes row 0 (all four agree); a confidence floor of 0.7 leaves it 2 votes
    assertEquals("b", decide(Map.of("relabel.decide.policy", "vote", "relabel.decide.minVotes", "4")).get(0)
        .getString(0));
    assertEquals("a", decide(Map.of("relabel.decide.policy", "vote", "relabel.decide.minVotes", "3",
        "relabel.decide.minConfidence", "0.7")).get(0).getString(0));
    // with voters=auto, a threshold above the methods there are is capped: all four must agree
    assertEquals(java.util.Arrays.asList("b", "a", "c", "b", "b"),
        corrected(decide(Map.of("relabel.decide.policy", "vote", "relabel.decide.minVotes", "5"))));
    // only the named voters count
    assertEquals("c", decide(Map.of("relabel.decide.policy", "vote", "relabel.decide.voters", "hdl",
        "relabel.decide.minVotes", "1")).get(1).getString(0));
  }

  @Test
  void theReasonsListEveryMethodThatNamedAnotherClassWhateverThePolicy() {
    List<Row> rows = decide(Map.of());
    assertEquals("[[model,b,0.75], [consensus,b,0.625], [cl,b,0.625], [hdl,b,0.875]]",
        rows.get(0).getList(2).toString());
    assertEquals("[[model,b,0.5], [hdl,c,0.5]]", rows.get(1).getList(2).toString());
    // a trusted row keeps its label, and the audit still shows who doubted it
    assertEquals("[[model,a,0.875], [consensus,a,0.875], [hdl,a,1.0]]", rows.get(2).getList(2).toString());
    assertEquals("[[model,c,0.625], [hdl,b,0.75]]", rows.get(3).getList(2).toString());
    assertEquals("[[model,a,0.75]]", rows.get(4).getList(2).toString());
  }

  @Test
  void suspicionScoresRankTheGivenLabel() {
    Dataset<Row> t = table.filter(col(RelabelJob.Y).isNotNull()).orderBy("row");
    List<Row> s = t.select(Decision.suspicion(Decision.Method.MODEL), Decision.suspicion(Decision.Method.CONSENSUS),
        Decision.suspicion(Decision.Method.CL), Decision.suspicion(Decision.Method.HDL)).collectAsList();
    // row 0: 1 - 0.125; margin 0.625 - 0.25; 1 - 0.25; (1 + 0.875) / 2
    assertEquals(List.of(0.875, 0.375, 0.75, 0.9375), List.of(s.get(0).getDouble(0), s.get(0).getDouble(1),
        s.get(0).getDouble(2), s.get(0).getDouble(3)));
    // row 1: consensus agrees with the given label, so its margin is 0
    assertEquals(0.0, s.get(1).getDouble(1));
    // row 2: HDL names a against the given c with agreement 1: (1 + 1) / 2
    assertEquals(1.0, s.get(2).getDouble(3));
  }
}
