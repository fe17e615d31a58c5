package io.relabel.spark.stage;

import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.udf;
import static org.apache.spark.sql.functions.when;

import io.relabel.core.config.RelabelParams;
import io.relabel.core.config.Settings;
import io.relabel.core.consensus.ConsensusRetraining;
import io.relabel.core.emlc.EmlcSpec;
import io.relabel.core.hdl.HdlSpec;
import io.relabel.core.model.MlpModel;
import io.relabel.core.model.MlpSpec;
import io.relabel.core.model.Predictions;
import io.relabel.core.privacy.PrivacySpec;
import io.relabel.core.util.RowSeeds;
import io.relabel.spark.cli.RelabelException;
import io.relabel.spark.embed.Embedding;
import io.relabel.spark.embed.EncoderFactory;
import io.relabel.spark.cl.ConfidentLearningStage;
import io.relabel.spark.emlc.Emlc;
import io.relabel.spark.hdl.Hdl;
import io.relabel.spark.io.InputContract;
import io.relabel.spark.io.InputReader;
import io.relabel.spark.io.InputValidator;
import io.relabel.spark.io.RunManifest;
import io.relabel.spark.io.TableWriter;
import io.relabel.spark.io.ValidatedInput;
import io.relabel.spark.privacy.LabelPrivacy;
import io.relabel.spark.train.MlpTrainer;
import io.relabel.spark.train.Scoring;
import io.relabel.spark.train.Scoring.Chooser;
import io.relabel.spark.embed.Encoder;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.expressions.UserDefinedFunction;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One relabel run: read and validate the input, embed, privatise the labels (label DP, when asked), label by the
 * hierarchy (HDL), cross-fit the base classifier, run confident learning on its out-of-fold probabilities, form the
 * consensus set and retrain, correct with the EMLC teacher (when asked), decide every row's label from all the
 * methods' votes, evaluate against true labels when the table has them, and commit the output table with its
 * manifest atomically. Every step is a named, timed stage over partitions; only
 * models, class lists and counts reach the driver.
 */
public final class RelabelJob {

  private static final Logger LOG = LoggerFactory.getLogger(RelabelJob.class);

  /** Columns relabel adds to every input row. */
  public static final List<String> OUTPUT_COLUMNS =
      List.of("label_given", "label_corrected", "label_confidence", "label_changed", "relabel_run_id");

  // internal columns, dropped before the write
  public static final String KEY = "_rl_key";
  public static final String UNIFORM = "_rl_u";
  public static final String Y = "_rl_y";
  public static final String TRUTH = "_rl_truth";
  public static final String TRUSTED = "_rl_trusted";
  public static final String HOLDOUT = "_rl_holdout";
  public static final String TRAINABLE = "_rl_trainable";
  public static final String FOLD = "_rl_fold";
  public static final String X = "_rl_x";
  static final String P_OOF = "_rl_p_oof";
  static final String P_BASE = "_rl_p_base";
  static final String P_FINAL = "_rl_p_final";
  static final String P_CEIL = "_rl_p_ceil";
  static final String P_EMLC = "_rl_p_emlc";
  static final String RETRAIN = "_rl_retrain";
  static final String P_ALT = "_rl_p_alt";
  static final String CL_CLASS = ConfidentLearningStage.CLASS;
  static final String VOTE = "_rl_vote";
  static final String RETRAIN_ALT = "_rl_retrain_alt";
  static final String PRIVATE_ELIGIBLE = "_rl_private";
  static final String CL_ELIGIBLE = "_rl_cl_rows";
  /** With label DP: the privatised given label, in the input label's type. */
  static final String GIVEN = "_rl_given";

  /** Columns the HDL stage adds to the output when it runs. */
  public static final List<String> HDL_COLUMNS = List.of("hdl_label", "hdl_confidence", "hdl_level", "cluster_path");

  /** The column the EMLC stage adds to the output when it runs. */
  public static final List<String> EMLC_COLUMNS = List.of(Emlc.SOFT_LABEL);

  /** Columns confident learning adds to the output when it runs. */
  public static final List<String> CL_COLUMNS = List.of(ConfidentLearningStage.ISSUE, ConfidentLearningStage.QUALITY);

  /** What a run produced: its id, the committed output path and the manifest (metrics included). */
  public record Result(String runId, String outputPath, RunManifest manifest) {}

  private final SparkSession spark;
  private final Settings settings;

  public RelabelJob(SparkSession spark, Settings settings) {
    this.spark = spark;
    this.settings = settings;
  }

  /**
   * EMLC's teacher learns what a clean label looks like from the trusted rows: with none it has nothing to learn
   * from, which stops the run. A class that no trusted row carries is common (a rare class nobody verified) and not
   * fatal: the meta step still learns from the noisy rows of that class (the synthetic test of RelabelJobTest reaches
   * a soft-label accuracy 15 points above the given labels with trusted rows of only 2 of its 4 classes), but its
   * corrections of that class are unverified, so the run warns and records the classes as
   * {@code emlc.trustedClassesMissing} (and their count) in the manifest.
   */
  private void checkTrustedCoverage(ValidatedInput in, List<String> classes, RunManifest manifest) {
    InputContract c = in.contract();
    if (in.trustedRows() == 0) {
      throw new RelabelException("relabel.emlc.mode=" + settings.get(RelabelParams.EMLC_MODE)
          + " trains its teacher on trusted rows, but column '" + c.trustedCol() + "' marks no row as trusted;"
          + " mark a few hundred verified rows or set relabel.emlc.mode=off");
    }
    Set<String> covered = new HashSet<>();
    for (Row r : in.table().where(col(c.trustedCol()).and(col(c.labelCol()).isNotNull()))
        .select(col(c.labelCol()).cast(DataTypes.StringType)).distinct().collectAsList()) {
      covered.add(r.getString(0));
    }
    List<String> missing = classes.stream().filter(k -> !covered.contains(k)).toList();
    manifest.putMetric("emlc.trustedClassesMissingCount", (long) missing.size());
    manifest.putMetric("emlc.trustedClassesMissing", String.join(", ", missing));
    if (!missing.isEmpty()) {
      LOG.warn("relabel.emlc.mode={}: no row that column '{}' marks as trusted has class {} ({} of {} classes); EMLC"
              + " still corrects those classes, but from noisy rows alone: verify a few rows of each to check it",
          settings.get(RelabelParams.EMLC_MODE), c.trustedCol(), String.join(", ", missing), missing.size(),
          classes.size());
    }
  }

  public Result run(String inputPath, String outputPath, boolean overwrite, String command) {
    return run(inputPath, outputPath, overwrite, command, null);
  }

  /**
   * One run. With a {@code runDate} the output is the partition {@code outputPath/run_date=D} (replaced atomically
   * when it exists; other dates are left alone), the run id is a function of the date, the input path and the
   * settings, and {@code relabel.incremental.mode} may reuse the last committed date's state ({@link Incremental}).
   *
   * @param runDate the run's date, or null for an undated output at {@code outputPath}
   */
  public Result run(String inputPath, String outputPath, boolean overwrite, String command, LocalDate runDate) {
    long seed = settings.get(RelabelParams.SEED);
    int workers = settings.get(RelabelParams.TRAIN_WORKERS);
    boolean withCl = settings.get(RelabelParams.CL_ENABLED);
    Decision.Setup decide = Decision.Setup.from(settings, withCl, HdlSpec.from(settings).enabled(),
        EmlcSpec.from(settings).enabled());
    PrivacySpec privacy = PrivacySpec.from(settings);
    Incremental.Mode incremental = Incremental.Mode.of(settings);
    if (incremental != Incremental.Mode.OFF && runDate == null) {
      throw new RelabelException(RelabelParams.INCREMENTAL_MODE.key() + "=" + incremental.key()
          + " compares with the last committed run date, so it needs --run-date YYYY-MM-DD");
    }
    String target = outputPath;
    boolean replace = overwrite;
    RunManifest manifest;
    if (runDate != null) {
      Incremental.checkDatedRoot(spark, outputPath);
      target = Incremental.partitionPath(outputPath, runDate);
      replace = true; // a re-run of a date replaces its partition, atomically
      manifest = RunManifest.start(command, spark, settings,
          Incremental.datedRunId(runDate, inputPath, settings.asMap()));
    } else {
      manifest = RunManifest.start(command, spark, settings);
    }
    String runId = manifest.runId();
    TableWriter.checkWritable(spark, target, replace);
    if (incremental == Incremental.Mode.REUSE) {
      try {
        Decision.Setup.from(settings, false, false, false);
      } catch (RelabelException e) {
        throw new RelabelException(RelabelParams.INCREMENTAL_MODE.key() + "=reuse scores new and changed rows with"
            + " the stored models only (model, consensus): " + e.getMessage());
      }
      if (privacy.enabled()) {
        throw new RelabelException(RelabelParams.INCREMENTAL_MODE.key() + "=reuse cannot extend a label-DP release"
            + " (relabel.privacy.mechanism=" + settings.get(RelabelParams.PRIVACY_MECHANISM) + "); use refresh");
      }
    }
    Dataset<Row> table = InputReader.read(spark, inputPath);
    InputContract declared = InputContract.from(settings);
    List<String> columns = List.of(table.columns());
    // privatised labels are scored against the labels as given, which then act as the truth
    boolean hasTruth = !declared.trueLabelCol().isEmpty() && columns.contains(declared.trueLabelCol())
        || privacy.enabled();
    boolean hasSplit = !declared.splitCol().isEmpty() && columns.contains(declared.splitCol());
    boolean withCeiling = hasTruth && settings.get(RelabelParams.EVAL_CEILING);
    boolean withHdl = HdlSpec.from(settings).enabled();
    EmlcSpec emlc = EmlcSpec.from(settings);
    boolean withEmlc = emlc.enabled();
    if (withEmlc && !columns.contains(declared.trustedCol())) {
      throw new RelabelException("relabel.emlc.mode=" + settings.get(RelabelParams.EMLC_MODE)
          + " trains its teacher on trusted rows, but the input has no column " + declared.trustedCol()
          + " (relabel.input.trustedCol); mark a few hundred verified rows or set relabel.emlc.mode=off");
    }
    if (privacy.mechanism() == PrivacySpec.Mechanism.RR_PRIOR && !columns.contains(privacy.priorCol())) {
      throw new RelabelException("relabel.privacy.mechanism=rr-prior reads its prior from column '"
          + privacy.priorCol() + "' (relabel.privacy.priorCol), which the input does not have");
    }
    Stages stages = new Stages(spark, manifest, 6 + (privacy.enabled() ? 1 : 0) + (withHdl ? 1 : 0) + (withCl ? 1 : 0)
        + (withEmlc ? 1 : 0) + (withCeiling ? 1 : 0) + (hasTruth || hasSplit ? 1 : 0))
        .progressEvery(settings.get(RelabelParams.LOG_PROGRESS_SECONDS));

    // 1. validate: every bad-input case stops here, before any work or write
    ValidatedInput in = stages.run("validate", 0, () -> {
      List<String> written = new ArrayList<>(OUTPUT_COLUMNS);
      written.addAll(HDL_COLUMNS);
      written.addAll(EMLC_COLUMNS);
      written.addAll(CL_COLUMNS);
      written.add(Decision.REASONS);
      for (String c : written) {
        if (List.of(table.columns()).contains(c)) {
          throw new RelabelException("input column " + c + " is one relabel writes (output of an earlier run?);"
              + " rename or drop it");
        }
      }
      ValidatedInput v = InputValidator.validate(table, declared);
      Stages.rowsOut(v.rows());
      return v;
    });
    manifest.setInput(inputPath, in.counts());
    InputContract contract = in.contract();
    List<String> classes = in.classes();
    int nClasses = classes.size();
    if (nClasses < 2) {
      throw new RelabelException("column " + contract.labelCol() + " has " + nClasses
          + " class(es) " + classes + "; at least 2 are needed");
    }
    if (withEmlc) {
      checkTrustedCoverage(in, classes, manifest);
    }
    String[] classNames = classes.toArray(new String[0]);
    Incremental.Previous prev = null;
    if (incremental != Incremental.Mode.OFF) {
      prev = Incremental.findPrevious(spark, outputPath, runDate).orElse(null);
      if (prev == null) {
        LOG.info("incremental: no committed run before {} in {}; every row is embedded and scored", runDate,
            outputPath);
      } else {
        Incremental.checkSchema(prev, Incremental.readColumns(table.schema(), contract));
        if (incremental == Incremental.Mode.REUSE) {
          Incremental.checkReusable(prev, classes, manifest.settings());
        }
        LOG.info("incremental ({}): comparing with the run of {} ({}, {} rows)", incremental.key(), prev.date(),
            prev.info().runId(), prev.info().rows());
      }
      manifest.putMetric("incremental.mode", incremental.key());
      manifest.putMetric("incremental.previousRunDate", prev == null ? "" : prev.date().toString());
    }
    boolean extend = prev != null && Incremental.sameEmbedding(prev, manifest.settings());
    if (prev != null && !extend) {
      LOG.info("incremental: the embed settings changed since {}; every row is embedded again", prev.date());
    }

    // 2. canonical layout + embed. The wide table (every input column) is laid out once and kept; the stages work
    // on a narrow copy (internal columns and the embedding) and the wide columns join back, co-partitioned, at the end.
    Dataset<Row> laidOut = canonicalize(in, classes, seed, workers, settings);
    if (runDate != null) { // every dated run keeps a state, so the next one can be incremental
      laidOut = laidOut.withColumn(Incremental.HASH, Incremental.contentHash(table.schema(), contract));
    }
    Dataset<Row> canonical = laidOut.persist(StorageLevel.MEMORY_AND_DISK());
    // The encoder relabel.embed.encoder selects (or the embeddings relabel.embed.reuse stored), run per partition;
    // the result is persisted by the stage, which also records its throughput in the manifest.
    // the row id travels along: privacy draws and confident learning's tie-breaks are functions of it
    List<String> carried = new ArrayList<>(List.of(KEY, Y, TRUTH, TRUSTED, HOLDOUT, TRAINABLE, FOLD, UNIFORM,
        contract.idCol()));
    if (privacy.mechanism() == PrivacySpec.Mechanism.RR_PRIOR) {
      carried.add(privacy.priorCol());
    }
    Embedding.StageColumns embedColumns = new Embedding.StageColumns(
        new EncoderFactory.FitColumns(Y, TRAINABLE, TRUSTED, UNIFORM), carried, X,
        t -> t.repartition(workers, col(KEY)).sortWithinPartitions(KEY));
    List<Column> narrowColumns = new ArrayList<>(List.of(col(KEY), col(Y), col(TRUTH), col(TRUSTED), col(HOLDOUT),
        col(TRAINABLE), col(FOLD), col(UNIFORM), col(contract.idCol()), col(contract.featuresCol())));
    if (privacy.mechanism() == PrivacySpec.Mechanism.RR_PRIOR) {
      narrowColumns.add(col(privacy.priorCol()));
    }
    if (extend) {
      narrowColumns.add(col(Incremental.HASH));
    }
    Dataset<Row> narrow = canonical.select(narrowColumns.toArray(new Column[0]));
    Incremental.Previous last = prev;
    Embedding.Outcome embedded = stages.run("embed", in.rows(), () -> {
      Embedding.Outcome r = extend ? embedChanged(narrow, in, embedColumns, last, manifest)
          : Embedding.embed(narrow, in, embedColumns, settings, seed, manifest);
      Stages.rowsOut(in.rows());
      return r;
    });
    int dim = embedded.dim();
    MlpSpec mlp = MlpSpec.from(settings);
    int averaging = settings.get(RelabelParams.TRAIN_AVERAGING);
    MlpTrainer trainer = new MlpTrainer(mlp, workers, averaging);

    // 2a. label DP: the untrusted training labels are privatised once, before any stage reads them (methods.md
    // section 1); every later stage, consensus included, sees only the privatised labels and the models' outputs,
    // so it spends no further budget. The labels as given become the truth the run is scored against.
    final Dataset<Row> embeddedRows;
    if (privacy.enabled()) {
      Dataset<Row> before = embedded.table();
      long secret = settings.get(RelabelParams.PRIVACY_SEED);
      long privacySeed = secret != 0 ? secret : seed;
      if (secret == 0) {
        LOG.warn("relabel.privacy.seed is 0: the draws derive from relabel.seed, which the manifest records, so this"
            + " release is reproducible but not private; set a secret relabel.privacy.seed for a real release");
      }
      Column eligible = col(TRAINABLE).and(not(col(TRUSTED)));
      LabelPrivacy.Columns pc = new LabelPrivacy.Columns(contract.idCol(), X, Y, PRIVATE_ELIGIBLE,
          privacy.mechanism() == PrivacySpec.Mechanism.RR_PRIOR ? privacy.priorCol() : null);
      embeddedRows = stages.run("privatize", in.rows(), () -> {
        Dataset<Row> t = before.withColumn(TRUTH, in.trueLabelPresent() ? col(TRUTH)
                : when(col(TRUTH).isNull().and(eligible), col(Y)).otherwise(col(TRUTH)))
            .withColumn(PRIVATE_ELIGIBLE, eligible);
        LabelPrivacy.Result r = LabelPrivacy.apply(t, pc, nClasses, dim, privacy, trainer, privacySeed);
        Dataset<Row> out = r.table().drop(PRIVATE_ELIGIBLE, LabelPrivacy.STAGE).persist(StorageLevel.MEMORY_AND_DISK());
        Stages.rowsOut(out.count());
        r.release();
        r.metrics().forEach(manifest::putMetric);
        return out;
      });
      before.unpersist(false);
    } else {
      embeddedRows = embedded.table();
    }
    long trainable = embeddedRows.filter(col(TRAINABLE)).count();
    if (trainable == 0) {
      throw new RelabelException("no labeled rows outside the held-out split to train on (column "
          + contract.labelCol() + ")");
    }
    String idCol = contract.idCol();
    // what the next dated run starts from (an undated run keeps no state)
    Incremental.Saved saved = runDate == null ? null : new Incremental.Saved(embedded.encoder(), embedded.dim(),
        embedded.modelHash(), Incremental.encoderBytes(embedded.fitted()), classes,
        Incremental.readColumns(table.schema(), contract));
    if (extend) {
      saved.inherit(prev.info().stageSeconds(), java.util.Set.of("embed"));
    }
    if (incremental == Incremental.Mode.REUSE && prev != null) {
      // Reuse: only new and changed rows are scored, by the stored models; every other row keeps its last decision.
      stages.replan(4);
      byte[] baseBytes = Incremental.readBytes(spark,
          new org.apache.hadoop.fs.Path(prev.path(), Incremental.BASELINE_FILE));
      byte[] finalBytes = Incremental.readBytes(spark,
          new org.apache.hadoop.fs.Path(prev.path(), Incremental.FINAL_FILE));
      Dataset<Row> output = reuseDecisions(stages, canonical, embeddedRows, in, prev, classNames, dim, manifest,
          baseBytes, finalBytes);
      saved.models(baseBytes, finalBytes); // carried forward, for the run after this one
      // no report: its figures need every row's opinions, and a reuse run scores only the rows that changed
      commit(stages, output, target, replace, manifest, in.rows(), saved, embeddedRows, canonical, idCol, runDate,
          null);
      embeddedRows.unpersist(false);
      canonical.unpersist(false);
      return new Result(runId, target, manifest);
    }

    // 2b. HDL: labels from where each row sits in the embedding's hierarchy (methods.md section 2). Only rows that
    // may be trained on vote; held-out rows are labeled like unlabeled ones.
    HdlSpec hdl = HdlSpec.from(settings);
    final Dataset<Row> work;
    if (hdl.enabled()) {
      Dataset<Row> labeled = stages.run("hdl", in.rows(), () -> {
        Hdl.Result r = Hdl.apply(embeddedRows.withColumn(VOTE, when(col(TRAINABLE), col(Y))), KEY, X, VOTE, nClasses,
            hdl, seed, workers);
        // back to the canonical layout the trainers rely on (the join above shuffled by key)
        Dataset<Row> t = r.table().drop(VOTE).repartition(workers, col(KEY)).sortWithinPartitions(KEY)
            .persist(StorageLevel.MEMORY_AND_DISK());
        Stages.rowsOut(t.count());
        r.release();
        r.metrics().forEach(manifest::putMetric);
        return t;
      });
      embeddedRows.unpersist(false);
      work = labeled;
    } else {
      work = embeddedRows;
    }

    MlpTrainer retrainer = new MlpTrainer(mlp.withEpochs(settings.get(RelabelParams.CONSENSUS_RETRAIN_EPOCHS)),
        workers, averaging);
    ConsensusRetraining consensus = ConsensusRetraining.from(settings);
    boolean compareRetrain = settings.get(RelabelParams.EVAL_COMPARE_RETRAIN) && hasSplit;
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());

    // 3. predicted hard labels: K fold models (out-of-fold) and the baseline on all given labels
    Dataset<Row> trainRows = work.filter(col(TRAINABLE));
    MlpModel[] baselineModel = new MlpModel[1];
    Dataset<Row> predicted = stages.run("cross-fit", trainable, () -> {
      MlpModel baseline = trainer.fit(trainRows, X, Y, dim, nClasses, seed, "baseline");
      baselineModel[0] = baseline;
      MlpModel[] models;
      Chooser chooser;
      if (consensus.predict() == ConsensusRetraining.Predict.OUT_OF_FOLD) {
        models = new MlpModel[consensus.folds()];
        for (int k = 0; k < models.length; k++) {
          models[k] = trainer.fit(trainRows.filter(col(FOLD).notEqual(k)), X, Y, dim, nClasses,
              RowSeeds.mix(seed + k + 1), "fold " + (k + 1) + "/" + models.length);
        }
        chooser = Chooser.byColumn(FOLD);
      } else {
        models = new MlpModel[] {baseline};
        chooser = Chooser.always(0);
      }
      Broadcast<MlpModel[]> oof = jsc.broadcast(models);
      Broadcast<MlpModel[]> base = jsc.broadcast(new MlpModel[] {baseline});
      Dataset<Row> p = Scoring.score(work, X, oof, chooser, TRAINABLE, P_OOF);
      p = Scoring.score(p, X, base, Chooser.always(0), HOLDOUT, P_BASE);
      p = p.withColumn(RETRAIN, retrainLabel(consensus).apply(col(Y), argmax(col(P_OOF)), col(TRUSTED)));
      if (compareRetrain) {
        p = p.withColumn(RETRAIN_ALT, retrainLabel(consensus.other()).apply(col(Y), argmax(col(P_OOF)), col(TRUSTED)));
      }
      Dataset<Row> cached = p.persist(StorageLevel.MEMORY_AND_DISK());
      Stages.rowsOut(cached.count());
      return cached;
    });
    work.unpersist(false);

    // 3b. confident learning on the same probabilities (methods.md section 5): the standard detector, beside ours
    final Dataset<Row> detected;
    if (withCl) {
      if (consensus.predict() == ConsensusRetraining.Predict.IN_SAMPLE) {
        LOG.warn("confident learning reads in-sample probabilities (relabel.consensus.predict=in-sample); a model"
            + " that memorised a wrong label vouches for it, so expect fewer issues than out-of-fold");
      }
      ConfidentLearningStage.Columns cc = new ConfidentLearningStage.Columns(contract.idCol(), P_OOF, Y, CL_ELIGIBLE);
      detected = stages.run("confident-learning", trainable, () -> {
        ConfidentLearningStage.Result r = ConfidentLearningStage.apply(
            predicted.withColumn(CL_ELIGIBLE, col(TRAINABLE).and(not(col(TRUSTED)))), cc, nClasses);
        Dataset<Row> t = r.table().drop(CL_ELIGIBLE).persist(StorageLevel.MEMORY_AND_DISK());
        Stages.rowsOut(t.count());
        r.metrics().forEach(manifest::putMetric);
        return t;
      });
      predicted.unpersist(false);
    } else {
      detected = predicted;
    }

    // 4. retrain on the consensus set (or on all rows with predicted labels)
    Dataset<Row> retrainRows = detected.filter(col(TRAINABLE).and(col(RETRAIN).geq(0)));
    long retrainCount = retrainRows.count();
    MlpModel[] retrained = stages.run("retrain", retrainCount, () -> {
      MlpModel m = retrainer.fit(retrainRows, X, RETRAIN, dim, nClasses, RowSeeds.mix(seed ^ 0x5eedL), "retrained");
      MlpModel alt = null;
      if (compareRetrain) {
        // the recipe not chosen, with the same seed, for the comparison only (eval.test.*RetrainAccuracy)
        alt = retrainer.fit(detected.filter(col(TRAINABLE).and(col(RETRAIN_ALT).geq(0))), X, RETRAIN_ALT, dim,
            nClasses, RowSeeds.mix(seed ^ 0x5eedL), consensus.other().retrain().name().toLowerCase(Locale.ROOT)
                + " retraining (comparison)");
      }
      Stages.rowsOut(retrainCount);
      return new MlpModel[] {m, alt};
    });
    MlpModel finalModel = retrained[0];
    MlpModel altModel = retrained[1];
    manifest.putMetric("consensus.retrainRows", retrainCount);
    manifest.putMetric("consensus.trainableRows", trainable);
    manifest.putMetric("consensus.share", (double) retrainCount / trainable);

    // 4b. EMLC: a teacher trained with the trusted rows turns every given label into a soft label (methods.md
    // section 3); its argmax is the corrected label and its student the run's final model
    final Dataset<Row> beforeCeiling;
    if (withEmlc) {
      Emlc.Columns ec = new Emlc.Columns(KEY, X, Y, TRUSTED, TRAINABLE);
      beforeCeiling = stages.run("emlc", trainable, () -> {
        Emlc.Trained t = Emlc.fit(detected, ec, dim, nClasses, emlc, seed);
        t.metrics().forEach((k, v) -> manifest.putMetric("emlc." + k, v));
        Dataset<Row> s = Emlc.score(detected, ec, t, Emlc.SOFT_LABEL, P_EMLC).persist(StorageLevel.MEMORY_AND_DISK());
        Stages.rowsOut(s.count());
        return s;
      });
      detected.unpersist(false);
    } else {
      beforeCeiling = detected;
    }

    // 5. the ceiling: the same recipe on the true labels (evaluation only)
    boolean evaluate = in.trueLabelPresent();
    MlpModel ceiling = null;
    if (withCeiling) {
      Dataset<Row> truthRows = beforeCeiling.filter(not(col(HOLDOUT)).and(col(TRUTH).isNotNull()));
      long n = truthRows.count();
      ceiling = stages.run("ceiling", n, () -> {
        MlpModel m = retrainer.fit(truthRows, X, TRUTH, dim, nClasses, seed, "ceiling (true labels)");
        Stages.rowsOut(n);
        return m;
      });
    }

    // 6. corrected label and confidence for every row
    MlpModel ceilingModel = ceiling;
    Dataset<Row> scored = stages.run("correct", in.rows(), () -> {
      Dataset<Row> s = Scoring.score(beforeCeiling, X, jsc.broadcast(new MlpModel[] {finalModel}), Chooser.always(0),
          null, P_FINAL);
      if (ceilingModel != null) {
        s = Scoring.score(s, X, jsc.broadcast(new MlpModel[] {ceilingModel}), Chooser.always(0), HOLDOUT, P_CEIL);
      }
      if (altModel != null) {
        s = Scoring.score(s, X, jsc.broadcast(new MlpModel[] {altModel}), Chooser.always(0), HOLDOUT, P_ALT);
      }
      s = Decision.apply(s, labelType(in.table(), contract.labelCol()), classNames, decide);
      Dataset<Row> cached = s.persist(StorageLevel.MEMORY_AND_DISK());
      Stages.rowsOut(cached.count());
      return cached;
    });
    beforeCeiling.unpersist(false);

    // 7. evaluation against the true labels
    if (hasTruth || hasSplit) {
      stages.run("evaluate", in.rows(), () -> {
        Evaluation.evaluate(scored, ceilingModel != null, altModel != null ? consensus.other().retrain() : null,
            manifest);
        Evaluation.evaluateDetectors(scored, decide, manifest);
        if (withEmlc) {
          Evaluation.evaluateEmlc(scored, manifest);
        }
        if (withHdl) {
          Evaluation.evaluateHdl(scored, manifest);
        }
        Stages.rowsOut(in.rows());
        return null;
      });
    }

    // 8. commit output + manifest atomically: the input's own columns, then relabel's
    List<Column> out = new ArrayList<>();
    for (String c : in.table().columns()) {
      out.add(col(c));
    }
    // with label DP the label a run was given is the privatised one (the input's own column is left as it was)
    Column given = privacy.enabled() ? col(GIVEN) : col(contract.labelCol());
    out.add(given.as("label_given"));
    out.add(col("label_corrected"));
    out.add(col("label_confidence"));
    out.add(not(col("label_corrected").eqNullSafe(given)).as("label_changed"));
    out.add(lit(runId).as("relabel_run_id"));
    out.add(col(Decision.REASONS));
    List<String> fromScored = new ArrayList<>(List.of(KEY, "label_corrected", "label_confidence", Decision.REASONS));
    if (privacy.enabled()) {
      fromScored.add(GIVEN);
    }
    if (withCl) {
      fromScored.addAll(CL_COLUMNS);
      for (String c : CL_COLUMNS) {
        out.add(col(c));
      }
    }
    if (withHdl) {
      fromScored.addAll(HDL_COLUMNS);
      for (String c : HDL_COLUMNS) {
        out.add(col(c));
      }
    }
    if (withEmlc) {
      fromScored.addAll(EMLC_COLUMNS);
      for (String c : EMLC_COLUMNS) {
        out.add(col(c));
      }
    }
    Dataset<Row> output = canonical.join(scored.select(fromScored.stream().map(c -> col(c)).toArray(Column[]::new)),
        KEY).select(out.toArray(new Column[0]));
    if (saved != null && !withEmlc) {
      saved.models(Incremental.modelBytes(baselineModel[0]), Incremental.modelBytes(finalModel));
    }
    commit(stages, output, target, replace, manifest, in.rows(), saved, scored, canonical, idCol, runDate,
        () -> RunReport.stats(scored, canonical, in, decide, settings));
    scored.unpersist(false);
    canonical.unpersist(false);
    return new Result(runId, target, manifest);
  }

  /** Internal column: the row is new or changed since the last committed run (incremental runs). */
  static final String CHANGED = "_rl_changed";

  /**
   * The embed stage of an incremental run: rows whose content hash equals the stored one take their stored
   * embedding; new and changed rows are embedded by the last run's encoder (the stored PCA basis, or the same
   * pretrained model), so old and new embeddings live in one space. Adds {@value #CHANGED}.
   */
  private Embedding.Outcome embedChanged(Dataset<Row> narrow, ValidatedInput in, Embedding.StageColumns cols,
      Incremental.Previous prev, RunManifest manifest) {
    Encoder enc = Incremental.restoreEncoder(spark, prev, settings, Incremental.readBytes(spark,
        new org.apache.hadoop.fs.Path(prev.path(), Incremental.ENCODER_FILE)), in.featureDim());
    String id = in.contract().idCol();
    String sid = "_rl_state_id";
    String shash = "_rl_state_hash";
    String semb = "_rl_state_emb";
    Dataset<Row> state = Incremental.readState(spark, prev.path())
        .select(col(Incremental.STATE_ID).as(sid), col(Incremental.STATE_HASH).as(shash),
            col(Incremental.STATE_EMBEDDING).as(semb));
    Dataset<Row> joined = narrow.join(state, narrow.col(id).equalTo(state.col(sid)), "left")
        .withColumn(CHANGED, not(coalesce(col(shash).equalTo(col(Incremental.HASH)), lit(false))))
        .persist(StorageLevel.MEMORY_AND_DISK());
    Row c = joined.agg(org.apache.spark.sql.functions.count(lit(1)),
        org.apache.spark.sql.functions.count(when(col(sid).isNotNull(), lit(1))),
        org.apache.spark.sql.functions.count(when(col(CHANGED), lit(1)))).first();
    long rows = c.getLong(0);
    long known = c.getLong(1);
    long changed = c.getLong(2);
    List<String> keep = new ArrayList<>(cols.keep());
    keep.add(CHANGED);
    Dataset<Row> reused = joined.filter(not(col(CHANGED)))
        .select(java.util.stream.Stream.concat(keep.stream().map(k -> col(k)), java.util.stream.Stream.of(
            col(semb).as(cols.out()))).toArray(Column[]::new));
    Embedding.Pass fresh = Embedding.encode(joined.filter(col(CHANGED)), in.contract().featuresCol(), enc,
        settings.get(RelabelParams.EMBED_BATCH), cols.out(), keep);
    Dataset<Row> t = cols.relayout().apply(reused.unionByName(fresh.table())).persist(StorageLevel.MEMORY_AND_DISK());
    t.count();
    joined.unpersist(false);
    fresh.table().unpersist(false);
    long unchanged = rows - changed;
    LOG.info("incremental: {} rows unchanged since {} (embeddings reused), {} new, {} changed, {} gone; embedded {}"
        + " rows in {} s", unchanged, prev.date(), rows - known, changed - (rows - known),
        prev.info().rows() - known, fresh.rows(), String.format(Locale.ROOT, "%.1f", fresh.seconds()));
    manifest.putMetric("incremental.rowsUnchanged", unchanged);
    manifest.putMetric("incremental.rowsNew", rows - known);
    manifest.putMetric("incremental.rowsChanged", changed - (rows - known));
    manifest.putMetric("incremental.rowsGone", prev.info().rows() - known);
    manifest.putMetric("incremental.rowsEmbedded", fresh.rows());
    manifest.putMetric("embed.encoder", enc.name());
    manifest.putMetric("embed.dim", enc.dim());
    manifest.putMetric("embed.encodeSeconds", fresh.seconds());
    Double before = prev.info().stageSeconds().get("embed");
    if (before != null && prev.info().rows() > 0) {
      // what embedding the reused rows cost the last run, at its rate
      manifest.putMetric("incremental.embedSecondsSaved", before * unchanged / prev.info().rows());
    }
    String hash = enc instanceof io.relabel.spark.embed.ModelIdentity m ? m.modelHash() : "";
    return new Embedding.Outcome(t, enc.dim(), enc.name(), hash, enc);
  }

  /**
   * Reuse: new and changed rows are scored by the last run's baseline (the consensus opinion: out-of-sample for
   * them) and final model, and decided by the configured policy over those two methods; every other row keeps the
   * decision and audit columns of the last committed run. No model is trained.
   */
  private Dataset<Row> reuseDecisions(Stages stages, Dataset<Row> canonical, Dataset<Row> embedded,
      ValidatedInput in, Incremental.Previous prev, String[] classNames, int dim, RunManifest manifest,
      byte[] baseBytes, byte[] finalBytes) {
    String runId = manifest.runId();
    InputContract contract = in.contract();
    String id = contract.idCol();
    int nClasses = classNames.length;
    MlpModel base = Incremental.readModel(prev, Incremental.BASELINE_FILE, baseBytes, dim, nClasses);
    MlpModel fin = Incremental.readModel(prev, Incremental.FINAL_FILE, finalBytes, dim, nClasses);
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    Dataset<Row> last = spark.read().parquet(prev.path());
    List<String> inputCols = List.of(in.table().columns());
    List<String> fixed = List.of("label_given", "label_corrected", "label_confidence", "label_changed",
        "relabel_run_id");
    List<StructField> extras = new ArrayList<>();
    for (StructField f : last.schema().fields()) {
      if (!inputCols.contains(f.name()) && !fixed.contains(f.name())) {
        extras.add(f); // relabel_reasons, cl_*, hdl_*, emlc_*: what the last run's methods wrote
      }
    }
    long changed = embedded.filter(col(CHANGED)).count();
    Dataset<Row> decided = stages.run("score-changed", changed, () -> {
      Dataset<Row> s = embedded.filter(col(CHANGED));
      s = Scoring.score(s, X, jsc.broadcast(new MlpModel[] {base}), Chooser.always(0), TRAINABLE, P_OOF);
      s = Scoring.score(s, X, jsc.broadcast(new MlpModel[] {fin}), Chooser.always(0), null, P_FINAL);
      s = Decision.apply(s, labelType(in.table(), contract.labelCol()), classNames,
          Decision.Setup.from(settings, false, false, false));
      List<Column> cols = new ArrayList<>(List.of(col(KEY), col("label_corrected"), col("label_confidence")));
      for (StructField f : extras) {
        cols.add(f.name().equals(Decision.REASONS) ? col(Decision.REASONS)
            : lit(null).cast(f.dataType()).as(f.name()));
      }
      Dataset<Row> fresh = s.select(cols.toArray(new Column[0]));
      List<Column> keptCols = new ArrayList<>(List.of(col(KEY), col("label_corrected"), col("label_confidence")));
      extras.forEach(f -> keptCols.add(col(f.name())));
      Dataset<Row> kept = embedded.filter(not(col(CHANGED))).select(col(KEY), col(id).as("_rl_kid"))
          .join(last, col("_rl_kid").equalTo(last.col(id)), "left")
          .select(keptCols.toArray(new Column[0]));
      Dataset<Row> all = fresh.unionByName(kept).persist(StorageLevel.MEMORY_AND_DISK());
      Stages.rowsOut(changed);
      return all;
    });
    manifest.putMetric("incremental.rowsScored", changed);
    Map<String, Double> before = prev.info().stageSeconds();
    double saved = 0;
    for (String st : List.of("privatize", "hdl", "cross-fit", "confident-learning", "retrain", "emlc", "ceiling",
        "correct", "evaluate")) {
      saved += before.getOrDefault(st, 0.0);
    }
    manifest.putMetric("incremental.trainSecondsSaved", saved);
    List<Column> out = new ArrayList<>();
    for (String c : in.table().columns()) {
      out.add(col(c));
    }
    out.add(col(contract.labelCol()).as("label_given"));
    out.add(col("label_corrected"));
    out.add(col("label_confidence"));
    out.add(not(col("label_corrected").eqNullSafe(col(contract.labelCol()))).as("label_changed"));
    out.add(lit(runId).as("relabel_run_id"));
    extras.forEach(f -> out.add(col(f.name())));
    return canonical.join(decided, KEY).select(out.toArray(new Column[0]));
  }

  /**
   * The write stage: the table, its manifest and, for a dated run, relabel's state (row id, content hash and
   * embedding of every row, the encoder and models), all in one staging directory committed by one rename.
   *
   * @param embeddings  a table with the ordering key, the id and the embedding of every row
   * @param reportStats the run report's figures, computed inside the stage; null for no report
   */
  private void commit(Stages stages, Dataset<Row> output, String target, boolean replace, RunManifest manifest,
      long rows, Incremental.Saved saved, Dataset<Row> embeddings, Dataset<Row> canonical, String idCol,
      LocalDate runDate, java.util.function.Supplier<io.relabel.spark.report.ReportStats.Stats> reportStats) {
    boolean dated = runDate != null;
    Dataset<Row> state = !dated ? null : embeddings.select(col(KEY), col(idCol).as(Incremental.STATE_ID),
            col(X).as(Incremental.STATE_EMBEDDING))
        .join(canonical.select(col(KEY), col(Incremental.HASH).as(Incremental.STATE_HASH)), KEY)
        .select(Incremental.STATE_ID, Incremental.STATE_HASH, Incremental.STATE_EMBEDDING);
    stages.run("write", rows, () -> {
      // The manifest travels inside the table, so it is complete up to (not including) this stage.
      var report = reportStats == null ? null : reportStats.get();
      long written = TableWriter.writeAtomically(output, target, replace, n -> {
        manifest.setOutput(target, n);
        manifest.finish();
        Map<String, Object> files = new java.util.LinkedHashMap<>();
        if (report != null) {
          files.putAll(RunReport.sidecars(manifest.toJson(), report));
        } else {
          files.put(RunManifest.FILE_NAME, manifest.toJson());
        }
        if (dated) {
          files.putAll(saved.files(manifest, runDate, n));
        }
        return files;
      }, !dated ? null : staging -> state.write().parquet(staging + "/" + Incremental.STATE_DIR));
      Stages.rowsOut(written);
      return null;
    });
    LOG.info("run {} committed {} rows to {}", manifest.runId(), rows, target);
  }

  /**
   * Adds the internal columns (class index, truth index, flags, fold, ordering key) and lays the rows out in
   * {@code workers} partitions by a hash of the row id, sorted by a per-row key. Every later stage, and the order in
   * which rows meet the optimiser, then depends only on the ids and the seed, not on how the input was split.
   */
  public static Dataset<Row> canonicalize(ValidatedInput in, List<String> classes, long seed, int workers,
      Settings settings) {
    InputContract c = in.contract();
    Dataset<Row> t = in.table();
    Map<String, Integer> index = new HashMap<>();
    for (int i = 0; i < classes.size(); i++) {
      index.put(classes.get(i), i);
    }
    UserDefinedFunction toIndex = udf((UDF1<Object, Integer>) v -> v == null ? null : index.get(String.valueOf(v)),
        DataTypes.IntegerType);
    UserDefinedFunction key = udf((UDF1<Object, Long>) id -> RowSeeds.bits(seed, "order", id, 0),
        DataTypes.LongType);
    ConsensusRetraining consensus = ConsensusRetraining.from(settings);
    UserDefinedFunction uniform = udf((UDF1<Object, Double>) id -> RowSeeds.uniform(seed, "sample", id, 0),
        DataTypes.DoubleType);
    UserDefinedFunction fold = udf((UDF1<Object, Integer>) id -> consensus.foldOf(seed, id), DataTypes.IntegerType);

    Column trusted = in.trustedPresent() ? coalesce(col(c.trustedCol()), lit(false)) : lit(false);
    Column holdout = in.splitPresent() ? coalesce(col(c.splitCol()).equalTo(lit(c.holdoutSplit())), lit(false))
        : lit(false);
    t = t.withColumn(Y, toIndex.apply(col(c.labelCol())))
        .withColumn(TRUSTED, trusted)
        .withColumn(HOLDOUT, holdout)
        .withColumn(TRAINABLE, not(col(HOLDOUT)).and(col(Y).isNotNull()))
        .withColumn(FOLD, fold.apply(col(c.idCol())))
        .withColumn(KEY, key.apply(col(c.idCol())))
        .withColumn(UNIFORM, uniform.apply(col(c.idCol())));
    if (in.trueLabelPresent()) {
      t = t.withColumn(TRUTH, toIndex.apply(col(c.trueLabelCol())));
    } else {
      // Held-out rows are evaluation rows: their given labels are taken as true.
      t = t.withColumn(TRUTH, when(col(HOLDOUT), col(Y)).otherwise(lit(null).cast(DataTypes.IntegerType)));
    }
    return t.repartition(workers, col(KEY)).sortWithinPartitions(KEY);
  }

  static UserDefinedFunction argmaxUdf() {
    return udf((UDF1<scala.collection.Seq<Float>, Integer>) p -> {
      if (p == null) {
        return null;
      }
      float[] q = new float[p.length()];
      for (int i = 0; i < q.length; i++) {
        q[i] = p.apply(i);
      }
      return Predictions.argmax(q);
    }, DataTypes.IntegerType);
  }

  public static Column argmax(Column probs) {
    return argmaxUdf().apply(probs);
  }

  private static UserDefinedFunction retrainLabel(ConsensusRetraining consensus) {
    return udf((org.apache.spark.sql.api.java.UDF3<Integer, Integer, Boolean, Integer>) (given, pred, trusted) -> {
      if (given == null || pred == null) {
        return -1;
      }
      return consensus.retrainLabel(given, pred, trusted != null && trusted);
    }, DataTypes.IntegerType);
  }

  /** Label type helper for the decision: the corrected label keeps the input label's type. */
  static DataType labelType(Dataset<Row> t, String labelCol) {
    return t.schema().apply(labelCol).dataType();
  }
}
