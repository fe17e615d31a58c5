package io.relabel.core.config;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

/**
 * Every setting relabel knows, declared once. Defaults are in {@code conf/relabel.properties}; a test checks the two
 * agree key for key. Stage records ({@code MlpSettings}, {@code ConsensusSettings}, ...) read these.
 */
public final class RelabelParams {

  private static final String COLUMN = "[A-Za-z_][A-Za-z0-9_]*";
  private static final String COLUMN_WORDS = "a column name (letters, digits, underscore)";
  private static final String OPTIONAL_COLUMN = "(" + COLUMN + ")?";

  // ---- run
  public static final Param<Long> SEED = Param.longRange("relabel.seed",
      "Seed of every random choice; the same seed and input give the same output, local or on a cluster.",
      0, Long.MAX_VALUE);

  // ---- input contract
  public static final Param<String> ID_COL = Param.text("relabel.input.idCol",
      "Column with a unique, non-null row id (integer or string).", COLUMN, COLUMN_WORDS);
  public static final Param<String> FEATURES_COL = Param.text("relabel.input.featuresCol",
      "Column with the features: array<float>, array<double> or an MLlib vector, one length for all rows; or a"
          + " string (a text, for the text encoders), never blank.",
      COLUMN, COLUMN_WORDS);
  public static final Param<String> LABEL_COL = Param.text("relabel.input.labelCol",
      "Column with the given (possibly wrong) label: integer or string; null means unlabeled.", COLUMN, COLUMN_WORDS);
  public static final Param<String> TRUSTED_COL = Param.text("relabel.input.trustedCol",
      "Optional boolean column marking rows whose label is verified; used when present, never changed.",
      OPTIONAL_COLUMN, "empty or " + COLUMN_WORDS);
  public static final Param<String> SPLIT_COL = Param.text("relabel.input.splitCol",
      "Optional column naming each row's split; rows of the held-out split are never trained on or changed.",
      OPTIONAL_COLUMN, "empty or " + COLUMN_WORDS);
  public static final Param<String> HOLDOUT_SPLIT = Param.text("relabel.input.holdoutSplit",
      "Value of the split column that marks held-out evaluation rows.", "[^,]+", "a non-empty value");
  public static final Param<String> TRUE_LABEL_COL = Param.text("relabel.input.trueLabelCol",
      "Optional column with the true label (evaluation only: never read by training or correction).",
      OPTIONAL_COLUMN, "empty or " + COLUMN_WORDS);
  public static final Param<String> CLASSES = Param.text("relabel.input.classes",
      "Declared class list, comma-separated; a label outside it stops the job. Empty: the labels seen.",
      "[^,]*(,[^,]+)*", "empty or a comma-separated list of non-empty class names");

  // ---- embeddings
  public static final Param<Boolean> EMBED_STANDARDIZE = Param.bool("relabel.embed.standardize",
      "Standardise features to zero mean and unit variance (MLlib StandardScaler) before PCA.");
  public static final Param<Integer> EMBED_PCA_DIMS = Param.intRange("relabel.embed.pcaDims",
      "Reduce features to this many principal components with MLlib PCA; 0 keeps the features as they are.",
      0, 4096);
  public static final Param<Integer> EMBED_FIT_ROWS = Param.intRange("relabel.embed.fitRows",
      "The scaler and PCA are fitted on a seeded sample of at most this many rows (their cost then does not grow"
          + " with the table); 0 fits on every row.", 0, Integer.MAX_VALUE);
  public static final Param<String> EMBED_ENCODER = Param.oneOf("relabel.embed.encoder",
      "What turns features into embeddings: auto (text-minilm for a text column, else vectors or pca as"
          + " relabel.embed.standardize and relabel.embed.pcaDims say), vectors (the features, optionally"
          + " standardised), pca, text-minilm (all-MiniLM-L6-v2, mean pooling), text-bge (bge-small-en-v1.5, CLS"
          + " pooling), dl4j-model (relabel.embed.modelPath) or cnn (a CNN image encoder fitted on the table).",
      "auto", "vectors", "pca", "text-minilm", "text-bge", "dl4j-model", "cnn");
  public static final Param<Integer> EMBED_BATCH = Param.intRange("relabel.embed.batchSize",
      "Rows handed to an encoder per call on an executor: the batch of a DL4J model's forward pass; the text"
          + " encoders still run one text per ONNX call, so that a text's embedding never depends on its batch.",
      1, 65536);
  public static final Param<Integer> EMBED_TEXT_MAX_TOKENS = Param.intRange("relabel.embed.text.maxTokens",
      "Text encoders cut each text to this many tokens (the [CLS] and [SEP] markers included); the models were"
          + " trained on at most 512.", 3, 512);
  public static final Param<String> EMBED_MODEL_PATH = Param.text("relabel.embed.modelPath",
      "For relabel.embed.encoder=dl4j-model: a DL4J MultiLayerNetwork or ComputationGraph zip saved with"
          + " ModelSerializer (any Hadoop file system path).", ".*", "a path, or empty");
  public static final Param<String> EMBED_MODEL_LAYER = Param.text("relabel.embed.modelLayer",
      "For dl4j-model: the layer (name or 0-based index) whose activations are the embedding; empty: the layer"
          + " before the last (the output layer).", "[^,]*", "empty, a layer name or an index");
  public static final Param<String> EMBED_INPUT_SHAPE = Param.text("relabel.embed.inputShape",
      "For dl4j-model: the shape one row's features are reshaped to before the model sees them, e.g. 784 or"
          + " 1x28x28 for a CNN; empty: flat.", "([1-9][0-9]*(x[1-9][0-9]*)*)?",
      "empty or positive integers joined by x, e.g. 1x28x28");
  public static final Param<String> EMBED_REUSE = Param.text("relabel.embed.reuse",
      "A table written by `relabel embed`: the run joins its embeddings by row id instead of computing them"
          + " (refused if an id is missing or the stored encoder or width differs from the configured one).",
      ".*", "a path, or empty");

  // ---- image encoder (CNN)
  public static final Param<String> CNN_IMAGE_SHAPE = Param.text("relabel.embed.cnn.imageShape",
      "Shape of the images in the features column, HEIGHTxWIDTHxCHANNELS; the features hold the pixels row by row,"
          + " a pixel's channels side by side (height*width*channels values).",
      "[1-9][0-9]{0,3}x[1-9][0-9]{0,3}x[1-9][0-9]{0,2}", "HxWxC with positive integers, e.g. 28x28x1");
  public static final Param<String> CNN_CHANNELS = Param.text("relabel.embed.cnn.channels",
      "Output channels of each convolution stage (3x3 convolution, ReLU, 2x2 max pooling), comma-separated; each"
          + " stage halves the image, so an image side must be at least 2^stages.",
      "[1-9][0-9]{0,3}(,[1-9][0-9]{0,3}){0,5}", "1 to 6 comma-separated positive integers, e.g. 16,32");
  public static final Param<Integer> CNN_EMBEDDING_DIM = Param.intRange("relabel.embed.cnn.embeddingDim",
      "Width of the dense ReLU layer before the softmax output; its activations are the embedding.", 1, 65536);
  public static final Param<Integer> CNN_MAX_EPOCHS = Param.intRange("relabel.embed.cnn.maxEpochs",
      "Most passes over the training rows; early stopping usually ends training sooner.", 1, 1000);
  public static final Param<Integer> CNN_PATIENCE = Param.intRange("relabel.embed.cnn.patience",
      "Stop after this many epochs without a better hold-out accuracy, and keep the best epoch's parameters.",
      1, 1000);
  public static final Param<Integer> CNN_BATCH = Param.intRange("relabel.embed.cnn.batchSize",
      "Minibatch size per worker.", 1, 1 << 20);
  public static final Param<Double> CNN_LR = Param.doubleRange("relabel.embed.cnn.learningRate",
      "Adam learning rate.", 1e-7, 10.0);
  public static final Param<Double> CNN_L2 = Param.doubleRange("relabel.embed.cnn.l2",
      "L2 weight decay of the CNN.", 0.0, 10.0);
  public static final Param<Double> CNN_HOLDOUT_SHARE = Param.doubleRange("relabel.embed.cnn.holdoutShare",
      "Seeded share of the trusted rows held out (never trained on) to decide when to stop: their labels are right,"
          + " so hold-out accuracy falls when the network starts memorising wrong labels.", 0.0, 1.0);
  public static final Param<Integer> CNN_MIN_HOLDOUT = Param.intRange("relabel.embed.cnn.minHoldout",
      "Fewest trusted hold-out rows worth stopping on; with fewer, a seeded share of all labeled rows is held out"
          + " instead (relabel.embed.cnn.noisyHoldoutShare) and the stopping signal carries the label noise.",
      1, Integer.MAX_VALUE);
  public static final Param<Double> CNN_NOISY_HOLDOUT_SHARE = Param.doubleRange(
      "relabel.embed.cnn.noisyHoldoutShare",
      "Seeded share of the labeled rows held out when there are too few trusted rows (see relabel.embed.cnn"
          + ".minHoldout).", 0.001, 0.5);
  public static final Param<Double> CNN_PIXEL_SCALE = Param.doubleRange("relabel.embed.cnn.pixelScale",
      "Pixel values are divided by this before they enter the network (255 for 8-bit images, 1 for images already"
          + " in [0, 1]); 0 decides from the largest training pixel: 1 if it is at most 1, 255 if at most 255, else"
          + " that largest value.", 0.0, 1e9);

  // ---- base classifier (DL4J MLP, trained with parameter averaging)
  public static final Param<Integer> TRAIN_HIDDEN = Param.intRange("relabel.train.hiddenUnits",
      "Units in each hidden layer of the MLP.", 1, 65536);
  public static final Param<Integer> TRAIN_LAYERS = Param.intRange("relabel.train.hiddenLayers",
      "Number of hidden layers of the MLP.", 1, 8);
  public static final Param<Integer> TRAIN_EPOCHS = Param.intRange("relabel.train.epochs",
      "Passes over the rows for each model trained on the given (noisy) labels: few, so it learns the classes"
          + " before it memorises the wrong labels.", 1, 1000);
  public static final Param<Integer> TRAIN_BATCH = Param.intRange("relabel.train.batchSize",
      "Minibatch size per worker.", 1, 1 << 20);
  public static final Param<Double> TRAIN_LR = Param.doubleRange("relabel.train.learningRate",
      "Adam learning rate.", 1e-7, 10.0);
  public static final Param<Double> TRAIN_L2 = Param.doubleRange("relabel.train.l2",
      "L2 weight decay; it keeps the network from memorising wrong labels.", 0.0, 10.0);
  public static final Param<Integer> TRAIN_WORKERS = Param.intRange("relabel.train.workers",
      "Data partitions and parameter-averaging workers; rows go to partitions by a hash of their id, so the"
          + " result does not depend on the cluster's layout.", 1, 4096);
  public static final Param<Integer> TRAIN_AVERAGING = Param.intRange("relabel.train.averagingFrequency",
      "Minibatches each worker fits between two parameter averagings.", 1, 100000);

  // ---- consensus retraining (methods.md section 1)
  public static final Param<String> CONSENSUS_PREDICT = Param.oneOf("relabel.consensus.predict",
      "How predicted hard labels are made: out-of-fold (each row by a model that never saw it) or in-sample.",
      "out-of-fold", "in-sample");
  public static final Param<Integer> CONSENSUS_FOLDS = Param.intRange("relabel.consensus.folds",
      "Folds for out-of-fold prediction.", 2, 50);
  public static final Param<Integer> CONSENSUS_RETRAIN_EPOCHS = Param.intRange("relabel.consensus.retrainEpochs",
      "Passes over the rows for the retrained (final) model, whose labels are mostly right, and for the ceiling.",
      1, 1000);
  public static final Param<String> CONSENSUS_RETRAIN = Param.oneOf("relabel.consensus.retrain",
      "Retraining recipe: consensus (rows whose prediction agrees with the given label) or full (all rows,"
          + " predicted labels).", "consensus", "full");

  // ---- EMLC: the meta-label-correction teacher (methods.md section 3)
  public static final Param<String> EMLC_MODE = Param.oneOf("relabel.emlc.mode",
      "off: no teacher; emlc: EMLC's teacher (its own trunk, label gate, exact meta-gradients) corrects every given"
          + " label into a soft label and its student becomes the run's final model; mlc: the MLC baseline teacher"
          + " (reads the student's features, one-step look-ahead) in the same role. Needs trusted rows.",
      "off", "emlc", "mlc");
  public static final Param<String> EMLC_STUDENT = Param.oneOf("relabel.emlc.student",
      "The student on embeddings: linear (a softmax head) or mlp (one ReLU hidden layer of"
          + " relabel.emlc.studentHidden units).", "linear", "mlp");
  public static final Param<Integer> EMLC_STUDENT_HIDDEN = Param.intRange("relabel.emlc.studentHidden",
      "Hidden units of the mlp student.", 1, 65536);
  public static final Param<Integer> EMLC_TEACHER_WIDTH = Param.intRange("relabel.emlc.teacherWidth",
      "Units of each layer of the teacher's own trunk (EMLC) or of its two hidden layers (MLC).", 1, 65536);
  public static final Param<Integer> EMLC_TEACHER_LAYERS = Param.intRange("relabel.emlc.teacherLayers",
      "ReLU layers of the EMLC teacher's trunk.", 1, 8);
  public static final Param<Integer> EMLC_LABEL_EMBEDDING = Param.intRange("relabel.emlc.labelEmbedding",
      "Width of the teacher's embedding of the given label.", 1, 65536);
  public static final Param<Integer> EMLC_GATE_HIDDEN = Param.intRange("relabel.emlc.gateHidden",
      "Hidden units of the EMLC gate that decides how far to keep the given label.", 1, 65536);
  public static final Param<Integer> EMLC_LOOKAHEAD = Param.intRange("relabel.emlc.lookahead",
      "K: real student steps on noisy batches between two teacher steps (EMLC); MLC always looks one step ahead.",
      1, 64);
  public static final Param<Integer> EMLC_BATCH = Param.intRange("relabel.emlc.batchSize",
      "B: noisy rows per student step.", 1, 1 << 16);
  public static final Param<Integer> EMLC_TRUSTED_BATCH = Param.intRange("relabel.emlc.trustedBatch",
      "Trusted rows per teacher step (drawn from the trusted training rows, seeded).", 1, 1 << 16);
  public static final Param<Integer> EMLC_EPOCHS = Param.intRange("relabel.emlc.epochs",
      "Passes over the noisy rows; the student and teacher of the epoch with the best trusted-validation accuracy"
          + " are kept.", 1, 1000);
  public static final Param<Double> EMLC_STUDENT_LR = Param.doubleRange("relabel.emlc.studentLearningRate",
      "η: the student's SGD learning rate (it also scales the meta-gradient).", 1e-6, 10.0);
  public static final Param<Double> EMLC_TEACHER_LR = Param.doubleRange("relabel.emlc.teacherLearningRate",
      "The teacher's SGD learning rate.", 1e-6, 10.0);
  public static final Param<Double> EMLC_MOMENTUM = Param.doubleRange("relabel.emlc.momentum",
      "SGD momentum of both networks (no dampening).", 0.0, 0.999);
  public static final Param<Double> EMLC_WEIGHT_DECAY = Param.doubleRange("relabel.emlc.weightDecay",
      "SGD weight decay of both networks.", 0.0, 1.0);
  public static final Param<Double> EMLC_META_WEIGHT = Param.doubleRange("relabel.emlc.metaWeight",
      "Weight of the meta term in the teacher's loss (1 = the exact bi-level gradient).", 0.0, 1e6);
  public static final Param<Boolean> EMLC_RETAIN = Param.bool("relabel.emlc.retain",
      "Add EMLC's retain term: every second trusted label is corrupted and the gate is trained (BCE) to keep"
          + " exactly the true labels.");
  public static final Param<String> EMLC_META_GRADIENT = Param.oneOf("relabel.emlc.metaGradient",
      "exact: the exact K-step adjoint (Hessian-vector products); approximate: EMLC's (1-η)^k discount, exact only"
          + " for the last step.", "exact", "approximate");
  public static final Param<Integer> EMLC_AVERAGING = Param.intRange("relabel.emlc.averagingFrequency",
      "Teacher steps (groups of K noisy batches) each partition takes between two averagings of both networks'"
          + " parameters on the driver.", 1, 1_000_000);
  public static final Param<Double> EMLC_VALIDATION_SHARE = Param.doubleRange("relabel.emlc.validationShare",
      "Share of the trusted rows (seeded, by row id) set aside to pick the best epoch; the rest trains the teacher.",
      0.05, 0.95);
  public static final Param<Integer> EMLC_MAX_TRUSTED = Param.intRange("relabel.emlc.maxTrusted",
      "Most trusted rows the teacher takes (they are broadcast to every partition); more stops the job.", 2,
      10_000_000);
  public static final Param<Integer> EMLC_WARM_UP_EPOCHS = Param.intRange("relabel.emlc.warmUpEpochs",
      "Passes of EMLC teacher pretraining before the meta-steps: its class logits learn from the given labels of the"
          + " noisy rows and the true labels of the trusted rows (the gate and the student wait). 0 starts the"
          + " meta-steps from a teacher that knows nothing. MLC has no warm-up.", 0, 100);
  public static final Param<String> EMLC_CHECKPOINT_DIR = Param.text("relabel.emlc.checkpointDir",
      "Directory (any Hadoop file system) where teacher and student are saved after every epoch in DL4J's format;"
          + " a run with the same settings and input resumes from it. Empty: no checkpoints.", ".*",
      "a path, or empty");

  // ---- HDL: hierarchical dynamic labeling on embeddings (methods.md section 2)
  public static final Param<String> HDL_MODE = Param.oneOf("relabel.hdl.mode",
      "off: no HDL stage; fill: label rows whose label is null; noise: also check given labels and correct those"
          + " whose neighbourhood agrees on another class (fills nulls too).", "off", "fill", "noise");
  public static final Param<Integer> HDL_LEAF_SIZE = Param.intRange("relabel.hdl.leafSize",
      "A cluster with more rows than this is split further unless its labeled members agree; bounds the rows one"
          + " leaf kNN holds in memory.", 2, 1_000_000);
  public static final Param<Integer> HDL_NEIGHBOUR_LEAVES = Param.intRange("relabel.hdl.neighbourLeaves",
      "Nearest leaves (by centroid) whose rows join a leaf's kNN as voters, so rows at a leaf's border find their"
          + " neighbours across it; a group holds up to (1 + this) x leafSize rows.", 0, 16);
  public static final Param<Integer> HDL_TOP_CLUSTERS = Param.intRange("relabel.hdl.topClusters",
      "Leaves of the distributed top levels (MLlib BisectingKMeans, cosine); 0 = about rows / relabel.hdl.localRows,"
          + " at least twice the workers.", 0, 1_000_000);
  public static final Param<Integer> HDL_LOCAL_ROWS = Param.intRange("relabel.hdl.localRows",
      "Target rows of one top-level cluster, which one executor task splits further on its own.", 100, 10_000_000);
  public static final Param<Integer> HDL_FIT_ROWS = Param.intRange("relabel.hdl.fitRows",
      "The top levels are fitted on a seeded sample of at most this many rows (bounded cost, deterministic); every"
          + " row is then assigned; 0 fits on every row.", 0, Integer.MAX_VALUE);
  public static final Param<Integer> HDL_MAX_ITER = Param.intRange("relabel.hdl.maxIterations",
      "Iterations of each 2-means split (top levels and local levels).", 1, 1000);
  public static final Param<Double> HDL_PURITY = Param.doubleRange("relabel.hdl.purity",
      "rho: share of a cluster's labeled members (class-weighted) one class needs for the cluster to label its"
          + " members; impure clusters hand their rows to the next level.", 0.51, 1.0);
  public static final Param<Integer> HDL_MIN_SUPPORT = Param.intRange("relabel.hdl.minSupport",
      "Labeled members a cluster needs before its purity counts.", 1, 1_000_000);
  public static final Param<Double> HDL_AGREEMENT = Param.doubleRange("relabel.hdl.agreement",
      "rho_l: share of the k neighbours' (class-weighted) votes a leaf-level label needs.", 0.0, 1.0);
  public static final Param<Double> HDL_MIN_AGREEMENT = Param.doubleRange("relabel.hdl.minAgreement",
      "rho_min: rho_l is relaxed by relabel.hdl.relaxStep after a round that labels nothing, down to this.", 0.0,
      1.0);
  public static final Param<Double> HDL_RELAX_STEP = Param.doubleRange("relabel.hdl.relaxStep",
      "How much rho_l drops after a round that labels nothing.", 0.0, 1.0);
  public static final Param<Integer> HDL_ROUNDS = Param.intRange("relabel.hdl.rounds",
      "Most dynamic rounds per leaf (rows labeled in a round vote in the next).", 1, 1000);
  public static final Param<Integer> HDL_K = Param.intRange("relabel.hdl.k",
      "Neighbours that vote; 0 = adaptive (the largest k whose leave-one-out impurity delta_k <= relabel.hdl.tau).",
      0, 1000);
  public static final Param<Integer> HDL_K_MAX = Param.intRange("relabel.hdl.kMax",
      "Largest k the adaptive choice considers.", 1, 1000);
  public static final Param<Integer> HDL_CONFIDENCE_K = Param.intRange("relabel.hdl.confidenceK",
      "hdl_confidence of a leaf-level label is the class-weighted share of this many nearest labeled neighbours that"
          + " back it (the k that vote decide the label).", 1, 1000);
  public static final Param<Double> HDL_TAU = Param.doubleRange("relabel.hdl.tau",
      "tau: the adaptive k is the largest k whose share of labeled rows with a not-all-same-class neighbourhood is"
          + " at most this.", 0.0, 1.0);
  public static final Param<Boolean> HDL_FILL_UNDECIDED = Param.bool("relabel.hdl.fillUndecided",
      "Rows no round decided take their weighted-majority label with its low agreement as confidence (true), or"
          + " stay unlabeled (false).");
  public static final Param<String> HDL_WEIGHTING = Param.oneOf("relabel.hdl.weighting",
      "Vote weights: inverse-frequency (each class weighs 1 / its share of the labeled rows; for long tails) or"
          + " none.", "inverse-frequency", "none");
  public static final Param<String> DECIDE_POLICY = Param.oneOf("relabel.decide.policy",
      "How the corrected label is chosen (trusted and held-out rows never change): vote (a given label changes only"
          + " when at least relabel.decide.minVotes of relabel.decide.voters name the same other class), model (the"
          + " run's final corrector: EMLC's soft label when EMLC runs, else the retrained model), consensus (the"
          + " predicted hard label), cl (confident learning: flagged rows move to the class they were flagged for),"
          + " hdl (HDL's label where it decided), emlc (EMLC's soft label), agree (the model and HDL, both needed)."
          + " Single-method policies fall back to the model where the method names no label.",
      "model", "consensus", "cl", "hdl", "emlc", "vote", "agree");
  public static final Param<String> DECIDE_VOTERS = Param.text("relabel.decide.voters",
      "The methods that vote under relabel.decide.policy=vote, comma-separated, from model, consensus, cl, hdl,"
          + " emlc; auto: every method the run computes (hdl and emlc only when their stages run).",
      "auto|(model|consensus|cl|hdl|emlc)(,(model|consensus|cl|hdl|emlc))*",
      "auto or a comma-separated list of model, consensus, cl, hdl, emlc");
  public static final Param<Integer> DECIDE_MIN_VOTES = Param.intRange("relabel.decide.minVotes",
      "Votes for the same other class a given label needs to change under relabel.decide.policy=vote; with"
          + " relabel.decide.voters=auto it is capped at the number of methods the run computes.", 1, 5);
  public static final Param<Double> DECIDE_MIN_CONFIDENCE = Param.doubleRange("relabel.decide.minConfidence",
      "A method's vote counts only when its confidence in the class it names is at least this.", 0.0, 1.0);

  // ---- confident learning (methods.md section 5)
  public static final Param<Boolean> CL_ENABLED = Param.bool("relabel.cl.enabled",
      "Run confident learning on the predicted probabilities (out-of-fold by default): per-class thresholds, the"
          + " confident joint, the noise-transition estimate and prune-by-noise-rate; adds cl_issue and cl_quality.");

  // ---- label differential privacy (methods.md section 1)
  public static final Param<String> PRIVACY_MECHANISM = Param.oneOf("relabel.privacy.mechanism",
      "Privatise the given labels of the untrusted training rows before any stage reads them: off; rr (randomized"
          + " response RR_epsilon); rr-prior (RR-with-prior, the prior read from relabel.privacy.priorCol); lp-2st"
          + " (two stages: plain RR on a label-independent share of rows, then RR-with-prior on the rest with a"
          + " model trained on the first stage as the prior). Each row is privatised once, at relabel.privacy.epsilon."
          + " The draws derive from relabel.privacy.seed and the row id: keep that seed secret, or the draws can be"
          + " replayed and the labels recovered.",
      "off", "rr", "rr-prior", "lp-2st");
  public static final Param<Long> PRIVACY_SEED = Param.longRange("relabel.privacy.seed",
      "Secret seed of the privatising draws, never written to the manifest (it shows as redacted). 0: use"
          + " relabel.seed, which the manifest records, so the release is reproducible but NOT private; for a real"
          + " release set a secret value, e.g. --set relabel.privacy.seed=$(od -An -N7 -tu8 /dev/urandom).",
      0, Long.MAX_VALUE);
  public static final Param<Double> PRIVACY_EPSILON = Param.doubleRange("relabel.privacy.epsilon",
      "Label-DP budget epsilon of the mechanism; each row's label is released once, so the run spends epsilon.",
      0.01, 50.0);
  public static final Param<Double> PRIVACY_STAGE1_SHARE = Param.doubleRange("relabel.privacy.stage1Share",
      "For lp-2st: share of the privatised rows in stage 1 (plain RR), chosen by a seeded hash of the row id.",
      0.05, 0.95);
  public static final Param<String> PRIVACY_PRIOR_COL = Param.text("relabel.privacy.priorCol",
      "For rr-prior: a column of class probabilities (array of numbers, one per class in class-list order, not"
          + " derived from the row's label), e.g. a public model's output.", OPTIONAL_COLUMN, "empty or " + COLUMN_WORDS);

  // ---- R-GPL: retriever adaptation (methods.md section 4; relabel adapt-retriever)
  public static final Param<String> RGPL_ID_COL = Param.text("relabel.rgpl.idCol",
      "Corpus column with a unique, non-null document id (integer or string).", COLUMN, COLUMN_WORDS);
  public static final Param<String> RGPL_TEXT_COL = Param.text("relabel.rgpl.textCol",
      "Corpus column with the document text (string, never blank).", COLUMN, COLUMN_WORDS);
  public static final Param<String> RGPL_GENERATOR = Param.oneOf("relabel.rgpl.generator",
      "Pseudo-query generator: extractive (the document's most salient sentences or windows of them, by inverse"
          + " document frequency; no generative model ships with relabel).", "extractive");
  public static final Param<Integer> RGPL_QUERY_BUDGET = Param.intRange("relabel.rgpl.queryBudget",
      "Total pseudo queries aimed at, as in GPL: queries per document = ceil(budget / documents), capped by"
          + " relabel.rgpl.maxQueriesPerDoc.", 1, 100_000_000);
  public static final Param<Integer> RGPL_MAX_QPP = Param.intRange("relabel.rgpl.maxQueriesPerDoc",
      "Most pseudo queries from one document (an extractive generator runs out of distinct salient spans).", 1, 1000);
  public static final Param<Integer> RGPL_QUERY_MIN_WORDS = Param.intRange("relabel.rgpl.queryMinWords",
      "Shortest extracted query, in words.", 1, 1000);
  public static final Param<Integer> RGPL_QUERY_MAX_WORDS = Param.intRange("relabel.rgpl.queryMaxWords",
      "Longest extracted query, in words; a longer sentence contributes its most salient window of this length.",
      1, 1000);
  public static final Param<Integer> RGPL_STUDENT_TOKENS = Param.intRange("relabel.rgpl.studentTokens",
      "Texts are cut to this many tokens for the frozen base encoder (all-MiniLM-L6-v2).", 8, 512);
  public static final Param<String> RGPL_TEACHER = Param.oneOf("relabel.rgpl.teacher",
      "Teacher scorer of (query, document) pairs: bge (dot product of bge-small-en-v1.5 embeddings, from its jar)"
          + " or cross-encoder (an ONNX cross-encoder the user provides: relabel.rgpl.crossEncoderModel and"
          + " relabel.rgpl.crossEncoderTokenizer; its raw logit is the score).", "bge", "cross-encoder");
  public static final Param<Integer> RGPL_TEACHER_TOKENS = Param.intRange("relabel.rgpl.teacherTokens",
      "Texts (or query-document pairs, for a cross-encoder) are cut to this many tokens for the teacher.", 8, 512);
  public static final Param<String> RGPL_CROSS_ENCODER_MODEL = Param.text("relabel.rgpl.crossEncoderModel",
      "For teacher=cross-encoder: path (any Hadoop file system) of the .onnx model; inputs input_ids,"
          + " attention_mask and optionally token_type_ids, first output the logits [batch] or [batch, 1].",
      ".*", "a path, or empty");
  public static final Param<String> RGPL_CROSS_ENCODER_TOKENIZER = Param.text("relabel.rgpl.crossEncoderTokenizer",
      "For teacher=cross-encoder: path of the model's Hugging Face tokenizer.json.", ".*", "a path, or empty");
  public static final Param<String> RGPL_ADAPTER = Param.oneOf("relabel.rgpl.adapter",
      "Trainable adapter on the frozen encoder, initialised to the identity: linear (e + W·e + b) or mlp"
          + " (e + W2·relu(W1·e + b1) + b2, with relabel.rgpl.adapterHidden units).", "linear", "mlp");
  public static final Param<Integer> RGPL_ADAPTER_HIDDEN = Param.intRange("relabel.rgpl.adapterHidden",
      "Hidden units of the mlp adapter.", 1, 65536);
  public static final Param<String> RGPL_SIMILARITY = Param.oneOf("relabel.rgpl.similarity",
      "Student score: cosine (the adapter's output is L2-normalised, so the dot product is the cosine) or dot.",
      "cosine", "dot");
  public static final Param<Integer> RGPL_NEGATIVES = Param.intRange("relabel.rgpl.negatives",
      "Hard negatives mined per query: the top k documents by the current model, the query's own document removed.",
      1, 10_000);
  public static final Param<Integer> RGPL_NEGATIVES_PER_QUERY = Param.intRange("relabel.rgpl.negativesPerQuery",
      "Training triples per query after each mining: this many negatives drawn (seeded) from its mined list.",
      1, 10_000);
  public static final Param<Integer> RGPL_STEPS = Param.intRange("relabel.rgpl.steps",
      "Optimiser steps each partition takes in all (MarginMSE on relabel.rgpl.batchSize triples per step).",
      1, 100_000_000);
  public static final Param<Integer> RGPL_BATCH = Param.intRange("relabel.rgpl.batchSize",
      "Triples (query, positive, negative) per step.", 1, 1 << 16);
  public static final Param<Double> RGPL_LR = Param.doubleRange("relabel.rgpl.learningRate",
      "Peak AdamW learning rate (linear warm-up, then linear decay to 0 at the last step, as GPL).", 1e-8, 1.0);
  public static final Param<Integer> RGPL_WARMUP = Param.intRange("relabel.rgpl.warmupSteps",
      "Steps of linear learning-rate warm-up.", 0, 100_000_000);
  public static final Param<Double> RGPL_WEIGHT_DECAY = Param.doubleRange("relabel.rgpl.weightDecay",
      "AdamW's decoupled weight decay (on the adapter's weights, which start at zero).", 0.0, 1.0);
  public static final Param<Integer> RGPL_REMINE_EVERY = Param.intRange("relabel.rgpl.remineEvery",
      "R: every R steps the model being trained re-encodes the corpus and re-mines every query's negatives (R-GPL);"
          + " 0 never re-mines, which is plain GPL. A multiple of relabel.rgpl.averagingFrequency.", 0, 100_000_000);
  public static final Param<Integer> RGPL_REDRAW_EVERY = Param.intRange("relabel.rgpl.redrawEvery",
      "Every this many steps each query's training negatives are drawn again from its current mined list (GPL: the"
          + " first mining; R-GPL: the latest), so that GPL and R-GPL see equally many distinct negatives and differ"
          + " only in re-mining; 0 draws only after a mining. A multiple of relabel.rgpl.averagingFrequency.",
      0, 100_000_000);
  public static final Param<Integer> RGPL_AVERAGING = Param.intRange("relabel.rgpl.averagingFrequency",
      "Steps each partition takes between two averagings of the adapter and its optimiser state on the driver.",
      1, 1_000_000);
  public static final Param<Integer> RGPL_QUERY_BLOCK = Param.intRange("relabel.rgpl.queryBlock",
      "Queries per block of the distributed top-k: each block meets every corpus partition once.", 1, 1 << 20);

  // ---- evaluation
  public static final Param<Boolean> EVAL_CEILING = Param.bool("relabel.eval.ceiling",
      "When true labels exist, also train a model on them and report its test accuracy (the ceiling).");
  public static final Param<Boolean> EVAL_COMPARE_RETRAIN = Param.bool("relabel.eval.compareRetrain",
      "When held-out rows exist, also train the retraining recipe relabel.consensus.retrain did not choose (full or"
          + " consensus) and report both test accuracies (evaluation only; the output uses the chosen one).");

  // ---- run report
  public static final Param<Boolean> REPORT_ENABLED = Param.bool("relabel.report.enabled",
      "Write _report.html beside _manifest.json in the output: counts, the noise-transition and change matrices as"
          + " heat maps, changes per class, confidence histograms, per-method agreement and sample changed rows"
          + " (one self-contained page, no external resources; one extra pass over the scored rows).");
  public static final Param<Integer> REPORT_SAMPLES = Param.intRange("relabel.report.samples",
      "Changed rows the report lists, drawn by a seeded per-row key (the same rows for the same seed and ids).",
      0, 1000);

  // ---- noise injection (evaluation data only)
  public static final Param<String> NOISE_TYPE = Param.oneOf("relabel.noise.type",
      "symmetric: each flipped label moves to a uniformly drawn other class; pair: flips follow relabel.noise.pairs.",
      "symmetric", "pair");
  public static final Param<Double> NOISE_RATE = Param.doubleRange("relabel.noise.rate",
      "Exact share of noisy rows whose label is made wrong (the real error rate).", 0.0, 1.0);
  public static final Param<String> NOISE_PAIRS = Param.text("relabel.noise.pairs",
      "Class map for pair noise, 'from:to' comma-separated (Fashion-MNIST: T-shirt<->shirt, pullover<->coat).",
      "[^,:]+:[^,:]+(,[^,:]+:[^,:]+)*", "a comma-separated list of from:to class pairs");
  public static final Param<Integer> NOISE_TRUSTED = Param.intRange("relabel.noise.trustedSize",
      "Rows of the noisy split kept clean and marked trusted (drawn disjointly from the held-out split).",
      0, Integer.MAX_VALUE);
  public static final Param<Double> NOISE_LABELED_SHARE = Param.doubleRange("relabel.noise.labeledShare",
      "Exact share of the non-trusted noisy-split rows that keep a label, stratified by class (each class keeps at"
          + " least one); the others get a null label (label_true keeps the truth). Noise is then applied to the"
          + " labeled rows only, so the real error rate is exact among them. 1 keeps every label.", 0.0, 1.0);
  public static final Param<Double> NOISE_LONG_TAIL = Param.doubleRange("relabel.noise.longTailRatio",
      "Before anything else, subsample the noisy split to a long tail: class c of C (class-list order) keeps"
          + " exactly min(n_c, max(1, round(n_max * R^(-c/(C-1))))) rows, n_max the largest class; dropped rows are"
          + " not written, other splits are kept whole. 1 keeps every row.", 1.0, 1_000_000.0);
  public static final Param<String> NOISE_SPLIT = Param.text("relabel.noise.split",
      "Value of the split column whose rows get noise (other rows keep their labels).", "[^,]+",
      "a non-empty value");

  // ---- logging
  public static final Param<Integer> LOG_PROGRESS_SECONDS = Param.intRange("relabel.log.progressSeconds",
      "While a stage runs, log its progress (rows done, rate, time left, from the Spark tasks of its job group)"
          + " every this many seconds; 0 turns it off.", 0, 3600);

  // ---- nightly, incremental runs (with --run-date)
  public static final Param<String> INCREMENTAL_MODE = Param.oneOf("relabel.incremental.mode",
      "Incremental runs against the last committed run date (needs --run-date): off (every row embedded and scored"
          + " afresh), refresh (only new or changed rows are embedded, the models and the hierarchy are retrained on"
          + " every row), reuse (only new or changed rows are embedded and scored, by the last run's encoder and"
          + " models; every other row keeps its last decision).", "off", "off", "refresh", "reuse");

  // ---- data
  public static final Param<String> DATA_DIR = Param.text("relabel.data.dir",
      "Directory where fetched data sets and demo tables are written.", ".+", "a non-empty path");

  /** All params by key. */
  public static final Map<String, Param<?>> ALL;

  static {
    Map<String, Param<?>> all = new TreeMap<>();
    for (Field f : RelabelParams.class.getDeclaredFields()) {
      if (Modifier.isStatic(f.getModifiers()) && f.getType() == Param.class) {
        try {
          Param<?> p = (Param<?>) f.get(null);
          if (all.put(p.key(), p) != null) {
            throw new IllegalStateException("setting declared twice: " + p.key());
          }
        } catch (IllegalAccessException e) {
          throw new IllegalStateException(e);
        }
      }
    }
    ALL = Collections.unmodifiableMap(all);
  }

  private RelabelParams() {}
}
