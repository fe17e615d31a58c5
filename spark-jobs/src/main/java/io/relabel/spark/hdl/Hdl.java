package io.relabel.spark.hdl;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.udf;

import io.relabel.core.hdl.ClusterLabeling;
import io.relabel.core.hdl.HdlSpec;
import io.relabel.core.hdl.LeafLabeler;
import io.relabel.core.hdl.LocalHierarchy;
import io.relabel.core.hdl.PurityRule;
import io.relabel.core.knn.AdaptiveK;
import io.relabel.core.knn.BlockedKnn;
import io.relabel.core.util.RowSeeds;
import io.relabel.spark.train.Features;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.mllib.clustering.BisectingKMeans;
import org.apache.spark.mllib.clustering.BisectingKMeansModel;
import org.apache.spark.mllib.clustering.ClusteringTreeNode;
import org.apache.spark.mllib.linalg.Vector;
import org.apache.spark.mllib.linalg.Vectors;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * HDL on Spark (methods.md section 2; Ma et al., "Exploring Beyond Logits: Hierarchical Dynamic Labeling Based on
 * Embeddings for Semi-Supervised Classification", arXiv 2404.17173). No step compares all pairs of rows and no
 * step collects rows to the driver:
 *
 * <ol>
 *   <li>Top levels: MLlib BisectingKMeans (cosine) fitted on a bounded, seeded sample; every row is assigned to a
 *       top-level leaf, whose path in the bisecting tree starts the row's cluster path.</li>
 *   <li>Lower levels: each top-level cluster goes whole to one task, which splits it further
 *       ({@link LocalHierarchy}) until its clusters are small enough or their labeled members agree.</li>
 *   <li>Cluster labels top down ({@link ClusterLabeling}) from labeled-member counts per leaf (leaves × classes
 *       numbers reach the driver).</li>
 *   <li>Leaf level: each leaf, with the rows of its nearest leaves (by centroid) as guests, goes to one task; adaptive
 *       k from leave-one-out statistics summed over leaves ({@link AdaptiveK}), then the dynamic kNN rounds
 *       ({@link LeafLabeler}) as blocked matrix products on that task.</li>
 * </ol>
 *
 * <p>Determinism: the sample is drawn by a hash of the row key and fitted in key order on one partition (MLlib's
 * aggregations are then merged in a fixed order); every later step works on one whole cluster at a time with its
 * rows in key order and derives its randomness from (seed, cluster path). The same seed and rows give the same
 * labels whatever the input's partitioning, in local mode or on a cluster.
 */
public final class Hdl {

  private static final Logger LOG = LoggerFactory.getLogger(Hdl.class);

  /** Columns HDL adds: class index (null when undecided), confidence, level, cluster path. */
  public static final String LABEL = "_hdl_label";
  public static final String CONFIDENCE = "_hdl_confidence";
  public static final String LEVEL = "_hdl_level";
  public static final String PATH = "_hdl_path";

  /**
   * The table with HDL's columns, what the run found (sizes, the chosen k) for the manifest, and the cached labels
   * the table reads from ({@link #release} once the table has been used).
   */
  public record Result(Dataset<Row> table, Map<String, Object> metrics, Dataset<Row> cached) {
    public void release() {
      cached.unpersist(false);
    }
  }

  private Hdl() {}

  /**
   * @param table   rows with a long key, an embedding (array&lt;float&gt;) and a vote label
   * @param voteCol int class index a row votes with; null for rows that are unlabeled or must not vote (held out)
   * @param workers lower bound on the number of top-level clusters, so every worker has a cluster to split
   */
  public static Result apply(Dataset<Row> table, String keyCol, String xCol, String voteCol, int nClasses,
      HdlSpec spec, long seed, int workers) {
    SparkSession spark = table.sparkSession();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    int parallelism = Math.max(1, jsc.defaultParallelism());
    Map<String, Object> metrics = new LinkedHashMap<>();
    Dataset<Row> base = table.select(col(keyCol).cast(DataTypes.LongType).as("k"), col(xCol).as("x"),
        col(voteCol).cast(DataTypes.IntegerType).as("y"));
    long n = base.count();
    long[] classCounts = classCounts(base, nClasses);
    double[] weights = spec.inverseFrequency() ? HdlSpec.inverseFrequency(classCounts) : null;
    PurityRule rule = new PurityRule(spec.purity(), spec.minSupport(), weights);

    // 1. top levels: bisecting k-means on a seeded sample, every row assigned
    int kTop = spec.topClusters() > 0 ? spec.topClusters()
        : (int) Math.max(2L * workers, (n + spec.localRows() - 1) / spec.localRows());
    kTop = (int) Math.max(1, Math.min(kTop, n));
    long t0 = System.nanoTime();
    BisectingKMeansModel top = fitTop(base, n, kTop, spec, seed);
    metrics.put("hdl.seconds.topLevels", seconds(t0));
    String[] topPaths = leafPaths(top);
    Broadcast<BisectingKMeansModel> topModel = jsc.broadcast(top);
    UserDefinedFunction assignTop = udf((UDF1<scala.collection.Seq<Float>, Integer>) x ->
        topModel.value().predict(unitVector(x)), DataTypes.IntegerType);
    metrics.put("hdl.topClusters", topPaths.length);

    // 2. lower levels, one top-level cluster per task
    StructType assignedSchema = new StructType().add("k", DataTypes.LongType, false)
        .add("x", DataTypes.createArrayType(DataTypes.FloatType), false).add("y", DataTypes.IntegerType, true)
        .add("leaf", DataTypes.StringType, false)
        .add("centroid", DataTypes.createArrayType(DataTypes.FloatType), true)
        .add("size", DataTypes.IntegerType, true);
    JavaRDD<Row> assignedRdd = base.withColumn("top", assignTop.apply(col("x")))
        .repartition(parallelism, col("top")).sortWithinPartitions("top", "k")
        .toJavaRDD().mapPartitions(it -> Groups.map(it, 3, rows -> splitTopCluster(rows, topPaths, nClasses, spec,
            rule, seed)));
    t0 = System.nanoTime();
    Dataset<Row> assigned = spark.createDataFrame(assignedRdd, assignedSchema)
        .persist(StorageLevel.MEMORY_AND_DISK());
    assigned.count();
    metrics.put("hdl.seconds.lowerLevels", seconds(t0));

    // 3. leaves: centroids (for the neighbour leaf), labeled counts (for cluster labels)
    t0 = System.nanoTime();
    List<Row> leafRows = assigned.filter(col("centroid").isNotNull()).select("leaf", "centroid", "size")
        .orderBy("leaf").collectAsList();
    String[] leaves = new String[leafRows.size()];
    float[][] centroids = new float[leaves.length][];
    Map<String, Integer> leafSize = new HashMap<>();
    Map<String, long[]> leafCounts = new TreeMap<>();
    int maxDepth = 0;
    for (int i = 0; i < leaves.length; i++) {
      leaves[i] = leafRows.get(i).getString(0);
      centroids[i] = Features.floats(leafRows.get(i).getList(1));
      leafSize.put(leaves[i], leafRows.get(i).getInt(2));
      leafCounts.put(leaves[i], new long[nClasses]);
      maxDepth = Math.max(maxDepth, leaves[i].length());
    }
    for (Row r : assigned.filter(col("y").isNotNull()).groupBy("leaf", "y").count().collectAsList()) {
      leafCounts.get(r.getString(0))[r.getInt(1)] = r.getLong(2);
    }
    Map<String, ClusterLabeling.Decision> decisions = ClusterLabeling.decide(leafCounts, nClasses, rule);
    Map<String, List<String>> visitors = new HashMap<>();
    if (leaves.length > 1 && spec.neighbourLeaves() > 0) {
      BlockedKnn.Neighbours nb = BlockedKnn.topKExcludingSelf(centroids, spec.neighbourLeaves());
      for (int i = 0; i < leaves.length; i++) {
        for (int j : nb.index()[i]) {
          visitors.computeIfAbsent(leaves[j], l -> new ArrayList<>()).add(leaves[i]);
        }
      }
    }
    metrics.put("hdl.leaves", leaves.length);
    metrics.put("hdl.maxDepth", maxDepth);
    metrics.put("hdl.clusterDecidedLeaves", decisions.size());
    LOG.info("HDL hierarchy: {} top-level clusters, {} leaves, depth up to {}, {} leaves labeled by a pure cluster",
        topPaths.length, leaves.length, maxDepth, decisions.size());

    // 4. leaf groups: each leaf's rows plus (a bounded sample of) its nearest leaf's rows
    // (label, confidence, level) per decided leaf; plain arrays, since Kryo cannot build records
    Map<String, double[]> presets = new HashMap<>();
    decisions.forEach((leaf, d) -> presets.put(leaf, new double[] {d.label(), d.confidence(), d.level()}));
    Broadcast<Map<String, double[]>> decided = jsc.broadcast(presets);
    Map<String, double[]> lastResort = new HashMap<>();
    if (spec.fillUndecided()) {
      ClusterLabeling.fallback(leafCounts, nClasses, weights)
          .forEach((leaf, d) -> lastResort.put(leaf, new double[] {d.label(), d.confidence(), d.level()}));
    }
    Broadcast<Map<String, double[]>> fallbacks = jsc.broadcast(lastResort);
    Broadcast<Map<String, List<String>>> guestsOf = jsc.broadcast(visitors);
    Broadcast<Map<String, Integer>> sizes = jsc.broadcast(leafSize);
    int leafCap = spec.leafSize();
    StructType groupSchema = new StructType().add("group", DataTypes.StringType, false)
        .add("member", DataTypes.BooleanType, false).add("k", DataTypes.LongType, false)
        .add("x", DataTypes.createArrayType(DataTypes.FloatType), false).add("y", DataTypes.IntegerType, true)
        .add("preset", DataTypes.IntegerType, false).add("presetConf", DataTypes.DoubleType, false)
        .add("presetLevel", DataTypes.IntegerType, false).add("leaf", DataTypes.StringType, false);
    JavaRDD<Row> groupRdd = assigned.select("k", "x", "y", "leaf").toJavaRDD().flatMap(r -> {
      String leaf = r.getString(3);
      double[] d = decided.value().get(leaf);
      Object[] base0 = {leaf, true, r.getLong(0), r.get(1), r.isNullAt(2) ? null : r.getInt(2),
          d == null ? -1 : (int) d[0], d == null ? 0.0 : d[1], d == null ? 0 : (int) d[2], leaf};
      List<Row> out = new ArrayList<>(2);
      out.add(RowFactory.create(base0));
      List<String> visiting = guestsOf.value().getOrDefault(leaf, Collections.emptyList());
      int size = sizes.value().get(leaf);
      // A large (pure) leaf sends a seeded sample of leafSize rows, so no group exceeds about 2 × leafSize rows.
      boolean send = size <= leafCap || RowSeeds.uniform(seed, "hdl-guest", r.getLong(0), 0) < (double) leafCap / size;
      if (send) {
        for (String g : visiting) {
          Object[] guest = base0.clone();
          guest[0] = g;
          guest[1] = false;
          out.add(RowFactory.create(guest));
        }
      }
      return out.iterator();
    });
    Dataset<Row> groups = spark.createDataFrame(groupRdd, groupSchema)
        .repartition(parallelism, col("group")).sortWithinPartitions("group", "k")
        .persist(StorageLevel.MEMORY_AND_DISK());
    metrics.put("hdl.groupRows", groups.count());
    assigned.unpersist(false);
    metrics.put("hdl.seconds.clusterLabelsAndGroups", seconds(t0));

    // 5. adaptive k from leave-one-out statistics summed over leaves
    int k = spec.k();
    t0 = System.nanoTime();
    if (k == 0) {
      AdaptiveK.Stats stats = groups.toJavaRDD().mapPartitions(it -> {
        AdaptiveK.Stats s = new AdaptiveK.Stats(spec.kMax());
        Groups.map(it, 0, rows -> {
          Group g = Group.of(rows);
          s.merge(LeafLabeler.looStats(g.x, g.y, g.member, weights, spec.kMax()));
          return List.of();
        }).forEachRemaining(r -> { });
        return List.of(s).iterator();
      }).reduce(AdaptiveK.Stats::merge);
      if (stats.rows() == 0) {
        throw new IllegalStateException("HDL has no labeled rows to choose k from");
      }
      AdaptiveK.Choice choice = AdaptiveK.choose(stats, spec.tau());
      k = choice.k();
      metrics.put("hdl.kRule", choice.rule());
      metrics.put("hdl.deltaK", choice.delta());
      metrics.put("hdl.looAccuracy", choice.looAccuracy());
      metrics.put("hdl.deltaByK", join(choice.deltaByK()));
      metrics.put("hdl.looAccuracyByK", join(choice.looAccuracyByK()));
      LOG.info("HDL adaptive k = {} ({}; delta_k = {}, leave-one-out accuracy {})", k, choice.rule(),
          String.format("%.4f", choice.delta()), String.format("%.4f", choice.looAccuracy()));
    }
    metrics.put("hdl.k", k);
    metrics.put("hdl.seconds.adaptiveK", seconds(t0));
    t0 = System.nanoTime();

    // 6. the leaf level: dynamic kNN rounds inside each group
    LeafLabeler.Spec leafSpec = spec.leafSpec(k);
    StructType outSchema = new StructType().add(keyCol + "_hdl", DataTypes.LongType, false)
        .add(LABEL, DataTypes.IntegerType, true).add(CONFIDENCE, DataTypes.DoubleType, true)
        .add(LEVEL, DataTypes.IntegerType, true).add(PATH, DataTypes.createArrayType(DataTypes.IntegerType), false);
    JavaRDD<Row> labeledRdd = groups.toJavaRDD().mapPartitions(it -> Groups.map(it, 0, rows -> {
      Group g = Group.of(rows);
      LeafLabeler.Outcome o = LeafLabeler.label(g.x, g.y, g.preset, g.presetConf, weights, leafSpec);
      List<Row> out = new ArrayList<>();
      for (int i = 0; i < rows.size(); i++) {
        if (!g.member[i]) {
          continue;
        }
        Row r = rows.get(i);
        String leaf = r.getString(8);
        Integer level;
        double[] fb = fallbacks.value().get(leaf);
        if (o.label()[i] < 0 && fb != null) {
          // no labeled row in reach of this leaf: the majority of its deepest labeled ancestor
          o.label()[i] = (int) fb[0];
          o.confidence()[i] = fb[1];
          level = (int) fb[2];
        } else if (o.label()[i] < 0) {
          level = null;
        } else if (o.round()[i] == 0) {
          level = g.preset[i] >= 0 ? r.getInt(7) : 0;
        } else {
          level = leaf.length() + o.round()[i];
        }
        out.add(RowFactory.create(r.getLong(2), o.label()[i] < 0 ? null : o.label()[i],
            o.label()[i] < 0 ? null : o.confidence()[i], level, Features.seq(LocalHierarchy.path(leaf))));
      }
      return out;
    }));
    Dataset<Row> labels = spark.createDataFrame(labeledRdd, outSchema).persist(StorageLevel.MEMORY_AND_DISK());
    metrics.put("hdl.rows", labels.count());
    groups.unpersist(false);
    metrics.put("hdl.seconds.leafLevel", seconds(t0));
    Dataset<Row> out = table.join(labels, table.col(keyCol).cast(DataTypes.LongType)
        .equalTo(labels.col(keyCol + "_hdl"))).drop(keyCol + "_hdl");
    return new Result(out, metrics, labels);
  }

  private static String join(double[] v) {
    StringBuilder b = new StringBuilder();
    for (double d : v) {
      b.append(b.length() == 0 ? "" : " ").append(String.format(java.util.Locale.ROOT, "%.4f", d));
    }
    return b.toString();
  }

  private static double seconds(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }

  /** Labeled rows per class. */
  static long[] classCounts(Dataset<Row> base, int nClasses) {
    long[] counts = new long[nClasses];
    for (Row r : base.filter(col("y").isNotNull()).groupBy("y").count().collectAsList()) {
      counts[r.getInt(0)] = r.getLong(1);
    }
    return counts;
  }

  private static BisectingKMeansModel fitTop(Dataset<Row> base, long n, int kTop, HdlSpec spec, long seed) {
    Dataset<Row> sample = base;
    if (spec.fitRows() > 0 && n > spec.fitRows()) {
      double p = (double) spec.fitRows() / n;
      UserDefinedFunction draw = udf((UDF1<Long, Double>) k -> RowSeeds.uniform(seed, "hdl-fit", k, 0),
          DataTypes.DoubleType);
      sample = base.filter(draw.apply(col("k")).lt(p));
    }
    // One partition in key order: BisectingKMeans' sums are then merged in a fixed order (see Embedding).
    JavaRDD<Vector> vectors = sample.select("k", "x").repartition(1).sortWithinPartitions("k").toJavaRDD()
        .map(r -> unitVector(r.getSeq(1))).cache();
    try {
      return new BisectingKMeans().setK(kTop).setSeed(seed).setMaxIterations(spec.maxIterations())
          .setDistanceMeasure("cosine").setMinDivisibleClusterSize(2.0).run(vectors);
    } finally {
      vectors.unpersist(false);
    }
  }

  /**
   * Path of each leaf of the bisecting tree, indexed by the leaf index {@code predict} returns: "0"/"1" per level.
   * {@code root()} is package-private in Scala but public in bytecode; Spark 3.5 is pinned, and a test checks the
   * paths against {@code predict}.
   */
  static String[] leafPaths(BisectingKMeansModel model) {
    String[] paths = new String[model.k()];
    walk(model.root(), "", paths);
    return paths;
  }

  private static void walk(ClusteringTreeNode node, String prefix, String[] paths) {
    if (node.isLeaf()) {
      paths[node.index()] = prefix;
      return;
    }
    ClusteringTreeNode[] children = node.children();
    for (int i = 0; i < children.length; i++) {
      walk(children[i], prefix + (char) ('0' + i), paths);
    }
  }

  private static List<Row> splitTopCluster(List<Row> rows, String[] topPaths, int nClasses, HdlSpec spec,
      PurityRule rule, long seed) {
    String topPath = topPaths[rows.get(0).getInt(3)];
    float[][] x = new float[rows.size()][];
    int[] y = new int[rows.size()];
    for (int i = 0; i < x.length; i++) {
      Row r = rows.get(i);
      x[i] = unit(Features.floats(r.getList(1)));
      y[i] = r.isNullAt(2) ? -1 : r.getInt(2);
    }
    int[][] local = LocalHierarchy.split(x, y, nClasses, spec.leafSize(), rule, spec.maxIterations(), seed,
        RowSeeds.stageKey("hdl:" + topPath));
    // centroid and size of each leaf ride on its first row (in key order)
    Map<String, double[]> sums = new LinkedHashMap<>();
    Map<String, Integer> counts = new HashMap<>();
    String[] leafOf = new String[x.length];
    for (int i = 0; i < x.length; i++) {
      leafOf[i] = topPath + LocalHierarchy.key(local[i]);
      double[] s = sums.computeIfAbsent(leafOf[i], l -> new double[x[0].length]);
      for (int j = 0; j < s.length; j++) {
        s[j] += x[i][j];
      }
      counts.merge(leafOf[i], 1, Integer::sum);
    }
    List<Row> out = new ArrayList<>(x.length);
    java.util.Set<String> seen = new java.util.HashSet<>();
    for (int i = 0; i < x.length; i++) {
      Row r = rows.get(i);
      boolean first = seen.add(leafOf[i]);
      out.add(RowFactory.create(r.getLong(0), r.get(1), r.isNullAt(2) ? null : r.getInt(2), leafOf[i],
          first ? Features.seq(unit(sums.get(leafOf[i]))) : null, first ? counts.get(leafOf[i]) : null));
    }
    return out;
  }

  /** A leaf group's rows as arrays (embeddings L2-normalised). */
  private record Group(float[][] x, int[] y, int[] preset, double[] presetConf, boolean[] member) {
    static Group of(List<Row> rows) {
      int n = rows.size();
      float[][] x = new float[n][];
      int[] y = new int[n];
      int[] preset = new int[n];
      double[] conf = new double[n];
      boolean[] member = new boolean[n];
      for (int i = 0; i < n; i++) {
        Row r = rows.get(i);
        member[i] = r.getBoolean(1);
        x[i] = unit(Features.floats(r.getList(3)));
        y[i] = r.isNullAt(4) ? -1 : r.getInt(4);
        preset[i] = r.getInt(5);
        conf[i] = r.getDouble(6);
      }
      return new Group(x, y, preset, conf, member);
    }
  }

  static float[] unit(float[] v) {
    double s = 0;
    for (float a : v) {
      s += (double) a * a;
    }
    if (s == 0) {
      return v.clone();
    }
    double inv = 1.0 / Math.sqrt(s);
    float[] out = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      out[i] = (float) (v[i] * inv);
    }
    return out;
  }

  private static float[] unit(double[] v) {
    float[] f = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      f[i] = (float) v[i];
    }
    return unit(f);
  }

  /**
   * The row's direction for the top-level tree. A zero embedding (an all-zero input row that PCA, which does not
   * centre, or the vectors encoder passes through) has none, and MLlib's cosine measure fails the whole job on it
   * with an assertion; it goes to the fixed diagonal direction instead, so all such rows share a top-level leaf and
   * the run goes on. The local steps keep it at zero: similar to nothing, it is labeled by the votes of its group.
   */
  private static Vector unitVector(scala.collection.Seq<Float> x) {
    double[] d = new double[x.length()];
    double s = 0;
    for (int i = 0; i < d.length; i++) {
      d[i] = x.apply(i);
      s += d[i] * d[i];
    }
    if (s > 0) {
      double inv = 1.0 / Math.sqrt(s);
      for (int i = 0; i < d.length; i++) {
        d[i] *= inv;
      }
    } else {
      Arrays.fill(d, 1.0 / Math.sqrt(d.length));
    }
    return Vectors.dense(d);
  }
}
