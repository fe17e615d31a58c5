package io.relabel.spark.cli;

import static io.relabel.spark.cli.BenchPrivacyCommand.mean;
import static io.relabel.spark.cli.BenchPrivacyCommand.signed;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.core.retrieval.Adapter;
import io.relabel.core.retrieval.RgplSpec;
import io.relabel.spark.SparkSessions;
import io.relabel.spark.bench.BenchOutput;
import io.relabel.spark.embed.OnnxTextEncoder;
import io.relabel.spark.io.RunManifest;
import io.relabel.spark.ir.DenseRetrievalEval;
import io.relabel.spark.ir.IrCollection;
import io.relabel.spark.ir.RetrieverAdaptation;
import io.relabel.spark.stage.Stages;
import io.relabel.spark.train.Features;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.Function;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.nd4j.linalg.api.buffer.DataType;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code relabel bench retriever}: zero-shot vs GPL vs R-GPL (methods.md §4) on Cranfield and CISI, in one run with
 * the same seed and steps. Per collection the corpus is prepared once (pseudo queries, base and teacher embeddings);
 * then, per seed, GPL (relabel.rgpl.remineEvery = 0) and R-GPL (the configured R) train from the same first mining.
 * The collections' real queries and judgments are only read to score: nDCG@10 (graded for Cranfield, gain
 * 5 − position) and Recall@100. The teacher's own zero-shot score is reported beside them.
 */
@Command(name = "retriever", mixinStandardHelpOptions = true,
    description = {"Benchmarks retriever adaptation: zero-shot all-MiniLM-L6-v2, GPL and R-GPL (and the bge",
        "teacher zero-shot) by nDCG@10 and Recall@100 on Cranfield and CISI (../shared/data/ir) over",
        "seeds; writes bench-retriever-<time>.json and .md under --out."})
public final class BenchRetrieverCommand implements Callable<Integer> {

  @Mixin CommonOptions common;

  @Option(names = "--out", paramLabel = "DIR", description = "Where results go (default bench/results).")
  Path out = Path.of("bench", "results");

  @Option(names = "--collections", split = ",", paramLabel = "NAME",
      description = "Test collections, comma-separated (default cranfield,cisi).")
  List<String> collections = List.of("cranfield", "cisi");

  @Option(names = "--ir-dir", paramLabel = "DIR",
      description = "Directory with cranfield/ and cisi/ (default: ../shared/data/ir beside the repository).")
  Path irDir;

  @Option(names = "--seeds", split = ",", paramLabel = "SEED", description = "Seeds (default 1,2,3).")
  List<Long> seeds = List.of(1L, 2L, 3L);

  @Option(names = "--variant", paramLabel = "NAME:KEY=VALUE,...",
      description = {"Also train GPL and R-GPL with these relabel.rgpl.* training settings changed (repeatable),",
          "on the same prepared corpus, e.g. --variant mlp:relabel.rgpl.adapter=mlp. Settings that change the",
          "corpus, the queries or the embeddings are refused."})
  List<String> variants = List.of();

  @Override
  public Integer call() throws IOException {
    Settings settings = common.settings();
    RgplSpec spec;
    try {
      spec = RgplSpec.from(settings);
    } catch (IllegalArgumentException e) {
      throw new RelabelException(e.getMessage());
    }
    if (spec.teacher() != RgplSpec.Teacher.BGE) {
      throw new RelabelException("bench retriever reports the bge teacher's own zero-shot score:"
          + " relabel.rgpl.teacher must be bge");
    }
    if (spec.remineEvery() == 0) {
      throw new RelabelException("bench retriever compares GPL with R-GPL: relabel.rgpl.remineEvery must not be 0");
    }
    Path dir = irDir != null ? irDir : defaultIrDir();
    SparkSession spark = SparkSessions.getOrCreate("relabel bench retriever", common.master());
    int workers = settings.get(RelabelParams.TRAIN_WORKERS);
    ObjectNode doc = BenchOutput.start(spark);
    doc.put("remineEvery", spec.remineEvery());
    doc.put("steps", spec.steps());
    ArrayNode cases = doc.putArray("collections");
    StringBuilder md = new StringBuilder("# relabel bench retriever: zero-shot vs GPL vs R-GPL\n\n")
        .append(BenchOutput.machineLine(doc))
        .append(String.format(Locale.ROOT, "Student: all-MiniLM-L6-v2 (%d tokens) + %s adapter; teacher: %s; %d steps"
                + " of %d triples per partition on %d partitions; R-GPL re-mines every %d steps. Mean ± standard"
                + " deviation over seeds %s; a margin is the mean of the per-seed differences.%n%n",
            spec.studentTokens(), spec.adapter().kind().name().toLowerCase(Locale.ROOT),
            spec.teacher() == RgplSpec.Teacher.BGE ? "bge-small-en-v1.5 (" + spec.teacherTokens() + " tokens)"
                : "cross-encoder", spec.steps(), spec.batchSize(), workers, spec.remineEvery(), seeds));
    md.append("| collection | docs | pseudo queries | model | nDCG@10 | Recall@100 | s |\n"
        + "|---|---|---|---|---|---|---|\n");
    StringBuilder margins = new StringBuilder("\n| collection | GPL − zero-shot | R-GPL − zero-shot | R-GPL − GPL"
        + " | R-GPL > GPL in seeds |\n|---|---|---|---|---|\n");
    for (String name : collections) {
      IrCollection c = switch (name) {
        case "cranfield" -> IrCollection.cranfield(dir.resolve("cranfield"));
        case "cisi" -> IrCollection.cisi(dir.resolve("cisi"));
        default -> throw new RelabelException("--collections: unknown collection '" + name
            + "'; accepted: cranfield, cisi");
      };
      ObjectNode cn = cases.addObject();
      cn.put("collection", name);
      RunManifest manifest = RunManifest.start("bench retriever " + name, spark, settings);
      Stages stages = new Stages(spark, manifest, 0);
      long t0 = System.nanoTime();
      try (RetrieverAdaptation.Prepared p = new RetrieverAdaptation(spark, spec, seeds.get(0), workers, stages)
          .prepare(corpus(spark, c))) {
        double prepareSeconds = (System.nanoTime() - t0) / 1e9;
        cn.put("documents", p.documents);
        cn.put("pseudoQueries", p.queryCount);
        cn.put("prepareSeconds", prepareSeconds);
        Map<String, float[]> base = new LinkedHashMap<>();
        Map<String, float[]> teacherDocs = new LinkedHashMap<>();
        for (Row r : p.docs.select("doc_id", "base", "teacher").collectAsList()) {
          base.put(r.getString(0), Features.floats(r, 1, OnnxTextEncoder.DIM));
          teacherDocs.put(r.getString(0), Features.floats(r, 2, OnnxTextEncoder.DIM));
        }
        OnnxTextEncoder student = OnnxTextEncoder.create(OnnxTextEncoder.Model.MINILM, spec.studentTokens());
        OnnxTextEncoder teacher = OnnxTextEncoder.create(OnnxTextEncoder.Model.BGE, spec.teacherTokens());
        // blank documents are not part of the corpus adapted to (the job refuses them) but stay in the ranked
        // collection, embedded as the encoders embed an empty text, so every model ranks the same documents
        List<String> blank = new ArrayList<>();
        c.docs().forEach((id, text) -> {
          if (text.isBlank()) {
            blank.add(id);
          }
        });
        for (String id : blank) {
          base.put(id, DenseRetrievalEval.embed(student, List.of(c.docs().get(id)), "")[0]);
          teacherDocs.put(id, DenseRetrievalEval.embed(teacher, List.of(c.docs().get(id)), "")[0]);
        }
        cn.put("blankDocuments", blank.size());
        // the collection's real queries through the frozen encoder, once; each model only adds its adapter
        Function<List<String>, float[][]> baseQueries = once(t -> DenseRetrievalEval.embed(student, t, ""));
        Adapter identity = Adapter.identity(spec.adapter(), OnnxTextEncoder.DIM, DataType.FLOAT, 0);
        DenseRetrievalEval.Scores zero = evaluate(c, base, baseQueries, identity);
        DenseRetrievalEval.Scores teach = DenseRetrievalEval.evaluate(c, teacherDocs,
            t -> DenseRetrievalEval.embed(teacher, t, DenseRetrievalEval.BGE_QUERY_PREFIX));
        put(cn.putObject("zeroShot"), zero);
        put(cn.putObject("teacherZeroShot"), teach);
        row(md, name, p, "zero-shot MiniLM", List.of(zero.ndcg10()), List.of(zero.recall100()), prepareSeconds);
        row(md, name, p, "teacher bge-small (zero-shot)", List.of(teach.ndcg10()), List.of(teach.recall100()),
            Double.NaN);
        ArrayNode runs = cn.putArray("runs");
        Map<String, RgplSpec> all = new LinkedHashMap<>();
        all.put("", spec);
        all.putAll(variantSpecs(settings, spec));
        for (Map.Entry<String, RgplSpec> v : all.entrySet()) {
          String label = v.getKey().isEmpty() ? "" : " [" + v.getKey() + "]";
          Map<String, List<Double>> f = new LinkedHashMap<>();
          for (long seed : seeds) {
            for (int r : new int[] {0, v.getValue().remineEvery()}) {
              String mode = r == 0 ? "gpl" : "rgpl";
              long t1 = System.nanoTime();
              RetrieverAdaptation.Trained t = new RetrieverAdaptation(spark, v.getValue().withRemineEvery(r), seed,
                  workers, stages).train(p);
              double seconds = (System.nanoTime() - t1) / 1e9;
              DenseRetrievalEval.Scores s = evaluate(c, base, baseQueries, t.adapter);
              ObjectNode run = runs.addObject();
              run.put("variant", v.getKey());
              run.put("seed", seed);
              run.put("mode", mode);
              run.put("seconds", seconds);
              put(run, s);
              run.set("train", BenchOutput.JSON.valueToTree(t.metrics));
              f.computeIfAbsent(mode + ".ndcg", k -> new ArrayList<>()).add(s.ndcg10());
              f.computeIfAbsent(mode + ".recall", k -> new ArrayList<>()).add(s.recall100());
              f.computeIfAbsent(mode + ".seconds", k -> new ArrayList<>()).add(seconds);
            }
          }
          row(md, name, p, "GPL" + label, f.get("gpl.ndcg"), f.get("gpl.recall"), mean(f.get("gpl.seconds")));
          row(md, name, p, "R-GPL" + label, f.get("rgpl.ndcg"), f.get("rgpl.recall"), mean(f.get("rgpl.seconds")));
          List<Double> gplGain = minus(f.get("gpl.ndcg"), zero.ndcg10());
          List<Double> rgplGain = minus(f.get("rgpl.ndcg"), zero.ndcg10());
          List<Double> rOverG = new ArrayList<>();
          int wins = 0;
          for (int i = 0; i < seeds.size(); i++) {
            double d = f.get("rgpl.ndcg").get(i) - f.get("gpl.ndcg").get(i);
            rOverG.add(d);
            wins += d > 0 ? 1 : 0;
          }
          ObjectNode sum = cn.putObject(v.getKey().isEmpty() ? "summary" : "summary " + v.getKey());
          f.forEach((k, x) -> sum.putObject(k).put("mean", mean(x)).put("sd", BenchPrivacyCommand.sd(x)));
          sum.putObject("gplMinusZeroShot").put("mean", mean(gplGain)).put("sd", BenchPrivacyCommand.sd(gplGain));
          sum.putObject("rgplMinusZeroShot").put("mean", mean(rgplGain))
              .put("sd", BenchPrivacyCommand.sd(rgplGain));
          sum.putObject("rgplMinusGpl").put("mean", mean(rOverG)).put("sd", BenchPrivacyCommand.sd(rOverG));
          margins.append(String.format(Locale.ROOT, "| %s%s | %s | %s | %s | %d of %d |%n", name, label,
              signed(gplGain), signed(rgplGain), signed(rOverG), wins, seeds.size()));
        }
      }
      cn.set("stages", BenchOutput.JSON.valueToTree(manifest.stages()));
    }
    md.append(margins).append("\nnDCG@10 margins in points of nDCG (×100 to read as the paper's numbers).\n");
    BenchOutput.write(out, "bench-retriever", doc, md.toString());
    return 0;
  }

  /** Each --variant's spec; refused if it changes what {@link RetrieverAdaptation#prepare} computes. */
  private Map<String, RgplSpec> variantSpecs(Settings settings, RgplSpec spec) {
    Map<String, RgplSpec> out = new LinkedHashMap<>();
    for (String v : variants) {
      int colon = v.indexOf(':');
      if (colon < 1) {
        throw new RelabelException("--variant '" + v + "': expected NAME:KEY=VALUE[,KEY=VALUE...]");
      }
      Map<String, String> kv = new LinkedHashMap<>();
      for (String pair : v.substring(colon + 1).split(",")) {
        int eq = pair.indexOf('=');
        if (eq < 1) {
          throw new RelabelException("--variant '" + v + "': '" + pair + "' is not KEY=VALUE");
        }
        kv.put(pair.substring(0, eq).trim(), pair.substring(eq + 1).trim());
      }
      RgplSpec s;
      try {
        s = RgplSpec.from(settings.with(kv));
      } catch (IllegalArgumentException e) {
        throw new RelabelException("--variant '" + v + "': " + e.getMessage());
      }
      RgplSpec same = new RgplSpec(spec.idCol(), spec.textCol(), spec.queryBudget(), spec.maxQueriesPerDoc(),
          spec.queryMinWords(), spec.queryMaxWords(), spec.studentTokens(), spec.teacher(), spec.teacherTokens(),
          spec.crossEncoderModel(), spec.crossEncoderTokenizer(), s.adapter(), s.negatives(), s.negativesPerQuery(),
          s.steps(), s.batchSize(), s.learningRate(), s.warmupSteps(), s.weightDecay(), s.remineEvery(),
          s.redrawEvery(), s.averagingFrequency(), s.queryBlock());
      if (!same.equals(s)) {
        throw new RelabelException("--variant '" + v + "' changes the corpus, queries or embeddings; only the"
            + " adapter, mining and training settings may vary");
      }
      if (s.remineEvery() == 0) {
        throw new RelabelException("--variant '" + v + "': relabel.rgpl.remineEvery must not be 0");
      }
      out.put(v.substring(0, colon), s);
    }
    return out;
  }

  /** ../shared/data/ir beside the repository that holds the settings directory (bin/relabel sets it). */
  private static Path defaultIrDir() {
    Path conf = Path.of(System.getProperty("relabel.conf.dir", "conf")).toAbsolutePath().normalize();
    return conf.getParent().resolveSibling("shared").resolve("data").resolve("ir");
  }

  /** The collection's non-blank documents as a corpus table (doc_id, text); a test collection is small. */
  static Dataset<Row> corpus(SparkSession spark, IrCollection c) {
    List<Row> rows = new ArrayList<>();
    c.docs().forEach((id, text) -> {
      if (!text.isBlank()) {
        rows.add(RowFactory.create(id, text));
      }
    });
    StructType schema = new StructType().add("doc_id", DataTypes.StringType, false)
        .add("text", DataTypes.StringType, false);
    return spark.createDataFrame(rows, schema);
  }

  private static DenseRetrievalEval.Scores evaluate(IrCollection c, Map<String, float[]> base,
      Function<List<String>, float[][]> baseQueries, Adapter adapter) {
    Map<String, float[]> docs = new LinkedHashMap<>();
    List<String> ids = new ArrayList<>(base.keySet());
    float[][] adapted = adapter.apply(base.values().toArray(new float[0][]));
    for (int i = 0; i < ids.size(); i++) {
      docs.put(ids.get(i), adapted[i]);
    }
    return DenseRetrievalEval.evaluate(c, docs, t -> adapter.apply(baseQueries.apply(t)));
  }

  /** {@code f}, memoised by input: every evaluation of a collection asks for the same query texts. */
  private static Function<List<String>, float[][]> once(Function<List<String>, float[][]> f) {
    Map<List<String>, float[][]> memo = new HashMap<>();
    return t -> memo.computeIfAbsent(t, f);
  }

  private static void put(ObjectNode n, DenseRetrievalEval.Scores s) {
    n.put("ndcg10", s.ndcg10());
    n.put("recall100", s.recall100());
    n.put("queries", s.queries());
  }

  private static void row(StringBuilder md, String name, RetrieverAdaptation.Prepared p, String model,
      List<Double> ndcg, List<Double> recall, double seconds) {
    md.append(String.format(Locale.ROOT, "| %s | %d | %d | %s | %s | %s | %s |%n", name, p.documents, p.queryCount,
        model, ms(ndcg), ms(recall), Double.isNaN(seconds) ? "" : String.format(Locale.ROOT, "%.0f", seconds)));
  }

  private static List<Double> minus(List<Double> v, double x) {
    List<Double> out = new ArrayList<>();
    for (double d : v) {
      out.add(d - x);
    }
    return out;
  }

  private static String ms(List<Double> v) {
    return v.size() == 1 ? String.format(Locale.ROOT, "%.4f", v.get(0))
        : String.format(Locale.ROOT, "%.4f ± %.4f", mean(v), BenchPrivacyCommand.sd(v));
  }

}
