package io.relabel.spark.emlc;

import static org.apache.spark.sql.functions.col;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.relabel.core.emlc.EmlcSpec;
import io.relabel.core.emlc.EmlcTrainer;
import io.relabel.core.emlc.MetaGradient;
import io.relabel.core.emlc.MetaTrainer;
import io.relabel.spark.SparkTestSession;
import io.relabel.spark.cli.RelabelException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;

/**
 * The distributed EMLC trainer on a seeded table: one partition with averaging after every group reproduces the
 * single-process trainer to the bit; two partitions correct most wrong labels; the three row sets are disjoint.
 */
@Tag("spark")
class EmlcTest {

  static final int CLASSES = 4;
  static final int DIM = 8;
  static final Emlc.Columns COLS = new Emlc.Columns("key", "x", "y", "trusted", "trainable");

  static SparkSession spark;
  static List<Row> rows = new ArrayList<>();
  static Map<Long, Integer> truth = new HashMap<>();
  static StructType schema = new StructType().add("key", DataTypes.LongType, false)
      .add("x", DataTypes.createArrayType(DataTypes.FloatType), false).add("y", DataTypes.IntegerType, true)
      .add("trusted", DataTypes.BooleanType, false).add("trainable", DataTypes.BooleanType, false);

  @BeforeAll
  static void makeRows() {
    spark = SparkTestSession.get();
    Random r = new Random(31);
    double[][] centres = new double[CLASSES][DIM];
    for (double[] c : centres) {
      for (int j = 0; j < DIM; j++) {
        c[j] = 3 * r.nextGaussian();
      }
    }
    for (int i = 0; i < 800; i++) {
      int y = i % CLASSES;
      float[] x = new float[DIM];
      for (int j = 0; j < DIM; j++) {
        x[j] = (float) (10 + 5 * (centres[y][j] + r.nextGaussian())); // far from unit scale on purpose
      }
      long key = RowSeedsKey.of(i);
      truth.put(key, y);
      boolean trusted = i % 7 == 0; // 7 is prime to the 4 classes: every class has trusted rows
      // half of the untrusted labels wrong; every 50th row unlabeled; rows 792.. are held out (not trainable)
      Integer given = i % 50 == 7 ? null : (!trusted && (i / CLASSES) % 2 == 1 ? (y + 1 + (i / 8) % (CLASSES - 1)) % CLASSES : y);
      rows.add(RowFactory.create(key, x, given, trusted, i < 792 && given != null));
    }
  }

  /** Keys spread like the pipeline's hashed ordering keys. */
  static final class RowSeedsKey {
    static long of(int i) {
      return io.relabel.core.util.RowSeeds.mix(i + 17L);
    }
  }

  static Dataset<Row> table(int partitions) {
    return spark.createDataFrame(rows, schema).repartition(partitions, col("key")).sortWithinPartitions("key");
  }

  static EmlcSpec spec(EmlcSpec.Mode mode, int averaging, int epochs) {
    return spec(mode, averaging, epochs, 1000, "");
  }

  static EmlcSpec spec(EmlcSpec.Mode mode, int averaging, int epochs, int maxTrusted, String checkpointDir) {
    return new EmlcSpec(mode, 16, 16, 1, 8, 8, 2, 16, 16, epochs, 0.1, 0.1, 0.9, 5e-4, 1.0, false,
        MetaGradient.Mode.EXACT, averaging, 0.3, maxTrusted, checkpointDir, 1);
  }

  @Test
  void onePartitionAveragingEveryGroupIsTheSingleProcessTrainer() {
    EmlcSpec spec = spec(EmlcSpec.Mode.EMLC, 1, 2);
    Emlc.Prepared p = Emlc.prepare(table(1), COLS, DIM, spec, 5);
    try {
      Emlc.Trained distributed = Emlc.train(p, JavaSparkContext.fromSparkContext(spark.sparkContext()), DIM, CLASSES,
          spec, 5);
      assertEquals(1, distributed.metrics().get("partitions"));
      MetaTrainer.Rows shard = p.shards.collect().get(0).toRows();
      MetaTrainer local = new MetaTrainer(spec, DIM, CLASSES, DataType.FLOAT);
      EmlcTrainer.Progress single = EmlcTrainer.fitLocal(local, shard, p.trustedTrain, p.validation, 5);
      assertTrue(Arrays.equals(single.best(), distributed.state()), "distributed state differs from single-process");
    } finally {
      p.release();
    }
  }

  @Test
  void twoPartitionsCorrectMostWrongLabelsTheSameWayEachTime() {
    EmlcSpec spec = spec(EmlcSpec.Mode.EMLC, 4, 10);
    Emlc.Trained t = Emlc.fit(table(2), COLS, DIM, CLASSES, spec, 7);
    assertEquals(2, t.metrics().get("partitions"));
    // the three sets are disjoint and cover the labeled trainable rows
    long labeledTrainable = rows.stream().filter(r -> r.getBoolean(4)).count();
    assertEquals(labeledTrainable, ((Integer) t.metrics().get("noisyRows")).longValue()
        + (Integer) t.metrics().get("trustedTrainRows") + (Integer) t.metrics().get("validationRows"));
    List<Row> scored = Emlc.score(table(3), COLS, t, "soft", "p").select("key", "y", "soft", "p", "trusted", "trainable")
        .collectAsList();
    int wrongGiven = 0;
    int fixed = 0;
    int broken = 0;
    for (Row r : scored) {
      if (r.isNullAt(1) || r.getBoolean(4) || !r.getBoolean(5)) {
        continue;
      }
      int y = truth.get(r.getLong(0));
      int corrected = argmax(r.getList(2));
      if (r.getInt(1) != y) {
        wrongGiven++;
        fixed += corrected == y ? 1 : 0;
      } else {
        broken += corrected != y ? 1 : 0;
      }
    }
    assertTrue(fixed > 0.8 * wrongGiven, "fixed " + fixed + " of " + wrongGiven);
    assertTrue(broken < 0.1 * wrongGiven, "broke " + broken + " right labels");
    // a second run, from another partitioning of the scored table, gives the same soft labels
    Emlc.Trained again = Emlc.fit(table(2), COLS, DIM, CLASSES, spec, 7);
    assertTrue(Arrays.equals(t.state(), again.state()));
  }

  @Test
  void aRunResumesFromItsCheckpointAndMoreEpochsExtendIt(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) {
    String ckpt = dir.resolve("ckpt").toString();
    EmlcSpec two = spec(EmlcSpec.Mode.EMLC, 4, 2, 1000, ckpt);
    Emlc.Trained first = Emlc.fit(table(2), COLS, DIM, CLASSES, two, 9);
    assertEquals(0, first.metrics().get("resumedAtEpoch"));
    // the same settings again: nothing left to train, the checkpoint's best state comes back
    Emlc.Trained again = Emlc.fit(table(2), COLS, DIM, CLASSES, two, 9);
    assertEquals(2, again.metrics().get("resumedAtEpoch"));
    assertTrue(Arrays.equals(first.state(), again.state()));
    // one more epoch from the checkpoint equals three uninterrupted epochs
    Emlc.Trained extended = Emlc.fit(table(2), COLS, DIM, CLASSES, spec(EmlcSpec.Mode.EMLC, 4, 3, 1000, ckpt),
        9);
    Emlc.Trained straight = Emlc.fit(table(2), COLS, DIM, CLASSES, spec(EmlcSpec.Mode.EMLC, 4, 3), 9);
    assertTrue(Arrays.equals(straight.state(), extended.state()));
    // other rows (another seed of the split) are refused
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> Emlc.fit(table(2), COLS, DIM, CLASSES, two, 10));
    assertEquals("EMLC checkpoint in " + ckpt + " was written for other settings or input; delete it or set"
        + " relabel.emlc.checkpointDir elsewhere", e.getMessage());
  }

  @Test
  void noTrustedRowsIsAClearError() {
    List<Row> untrusted = new ArrayList<>();
    for (Row r : rows) {
      untrusted.add(RowFactory.create(r.get(0), r.get(1), r.get(2), false, r.get(4)));
    }
    Dataset<Row> t = spark.createDataFrame(untrusted, schema);
    RelabelException e = assertThrows(RelabelException.class,
        () -> Emlc.fit(t, COLS, DIM, CLASSES, spec(EmlcSpec.Mode.EMLC, 1, 1), 1));
    assertEquals("relabel.emlc.mode=emlc needs trusted rows (column trusted = true, labeled, outside the held-out"
        + " split) both to train the teacher and to pick its best epoch; found 0, of which 0 train and 0 validate"
        + " (relabel.emlc.validationShare=0.3)", e.getMessage());
  }

  @Test
  void moreTrustedRowsThanAllowedIsAClearError() {
    EmlcSpec few = spec(EmlcSpec.Mode.EMLC, 1, 1, 10, "");
    long trusted = rows.stream().filter(r -> r.getBoolean(3) && r.getBoolean(4)).count();
    RelabelException e = assertThrows(RelabelException.class, () -> Emlc.fit(table(2), COLS, DIM, CLASSES, few, 1));
    assertEquals("relabel.emlc.mode=emlc: column trusted marks " + trusted + " trainable rows, more than"
        + " relabel.emlc.maxTrusted=10 (they are broadcast to every partition); raise it or mark fewer rows trusted",
        e.getMessage());
  }

  @Test
  void noUntrustedLabeledRowIsAClearError() {
    List<Row> onlyTrusted = new ArrayList<>();
    for (Row r : rows) {
      onlyTrusted.add(RowFactory.create(r.get(0), r.get(1), r.get(2), r.get(3), r.getBoolean(3) && r.getBoolean(4)));
    }
    Dataset<Row> t = spark.createDataFrame(onlyTrusted, schema);
    RelabelException e = assertThrows(RelabelException.class,
        () -> Emlc.fit(t, COLS, DIM, CLASSES, spec(EmlcSpec.Mode.EMLC, 1, 1), 1));
    assertEquals("relabel.emlc.mode=emlc found no untrusted labeled rows to correct (column y)", e.getMessage());
  }

  static int argmax(List<Object> p) {
    int best = 0;
    for (int c = 1; c < p.size(); c++) {
      if (((Number) p.get(c)).floatValue() > ((Number) p.get(best)).floatValue()) {
        best = c;
      }
    }
    return best;
  }
}
