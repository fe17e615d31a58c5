package io.relabel.core.retrieval;

import io.relabel.core.util.RowSeeds;
import java.io.Serializable;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * The adapter's training on one partition's shard of (q, p, n, margin) triples, for a parameter-averaged trainer: the
 * driver broadcasts a state, every partition runs the same global steps on its own shard from it, and the driver
 * averages the partitions' states element-wise. A state is one flat array,
 *
 * <pre>  [ θ (P) | AdamW m (P) | AdamW v (P) ]</pre>
 *
 * so averaging it averages the parameters and both moments alike. The global step is not part of it: the caller
 * passes the step a run starts at, and the learning-rate schedule and AdamW's bias correction read it.
 *
 * <p>A step is one AdamW step on the MarginMSE gradient of B triples of the shard. The triples of step s are rows
 * sB .. sB + B − 1 of an endless walk through the shard, epoch after epoch, each epoch in its own seeded order: a pure
 * function of (seed, partition, s), so that a run is reproducible to the bit and does not depend on how the steps are
 * split into runs. The network computes in FLOAT (DL4J's default); the parameters and moments stay in double, so a
 * step far smaller than a float's resolution of θ (lr 2e-5) is not lost between steps.
 *
 * <p>Cost: a step at B = 32, dim = 384 takes about 2.7 ms for LINEAR (5 ms for an MLP of 384 hidden units) on one
 * core of a 2-vCPU AMD EPYC VM; of that, about 1 ms is the three matrix products (forward, weight gradient, input
 * error), 1 ms DL4J's own work around them and 0.25 ms AdamW. Nothing of the parameters' size is allocated per step,
 * on or off the heap (see {@link HostArrays}); resident memory stays flat over 25k steps.
 */
public final class AdapterTrainer {

  /**
   * One shard of training triples: base embeddings of queries, positives and negatives, each {@code rows x dim}
   * row-major, and the teacher's margin of every row. The arrays are held as given, not copied.
   */
  public static final class Triples implements Serializable {

    private static final long serialVersionUID = 1L;

    private final int rows;
    private final int dim;
    private final float[] q;
    private final float[] p;
    private final float[] n;
    private final float[] margin;

    public Triples(int rows, int dim, float[] q, float[] p, float[] n, float[] margin) {
      if (rows < 0 || dim < 1) {
        throw new IllegalArgumentException("triples need rows >= 0 and dim >= 1, got " + rows + " and " + dim);
      }
      check("q", q, (long) rows * dim, rows, dim);
      check("p", p, (long) rows * dim, rows, dim);
      check("n", n, (long) rows * dim, rows, dim);
      if (margin == null || margin.length != rows) {
        throw new IllegalArgumentException("triples: margin has " + (margin == null ? "no" : margin.length)
            + " values, expected one per row (" + rows + ")");
      }
      this.rows = rows;
      this.dim = dim;
      this.q = q;
      this.p = p;
      this.n = n;
      this.margin = margin;
    }

    private static void check(String what, float[] a, long expected, int rows, int dim) {
      if (a == null || a.length != expected) {
        throw new IllegalArgumentException("triples: " + what + " has " + (a == null ? "no" : a.length)
            + " values, expected " + rows + " rows x " + dim + " = " + expected);
      }
    }

    public int rows() {
      return rows;
    }

    public int dim() {
      return dim;
    }

    public float[] q() {
      return q;
    }

    public float[] p() {
      return p;
    }

    public float[] n() {
      return n;
    }

    public float[] margin() {
      return margin;
    }
  }

  /** The state after a run, and the mean MarginMSE of its batches (each measured before its own step). */
  public record Result(double[] state, double meanLoss) {}

  private static final long INIT = RowSeeds.stageKey("rgpl.adapter.init");
  private static final long SHUFFLE = RowSeeds.stageKey("rgpl.adapter.shuffle");

  private final AdapterSpec spec;
  private final int dim;
  private final int batchSize;
  private final AdamW optimiser;
  private final int params;

  public AdapterTrainer(AdapterSpec spec, int dim, int batchSize, AdamW optimiser) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("adapter batch size must be >= 1, got " + batchSize);
    }
    if (optimiser == null) {
      throw new IllegalArgumentException("adapter optimiser is null");
    }
    this.spec = spec;
    this.dim = dim;
    this.batchSize = batchSize;
    this.optimiser = optimiser;
    this.params = Adapter.identity(spec, dim, DataType.FLOAT, 0).numParams(); // checks spec and dim too
  }

  public int stateLength() {
    return 3 * params;
  }

  /** The adapter at its start (the identity; the MLP's first layer drawn from {@code seed}) and zero moments. */
  public double[] initState(long seed) {
    double[] state = new double[stateLength()];
    double[] theta = Adapter.identity(spec, dim, DataType.FLOAT, RowSeeds.mix(seed ^ INIT)).paramsCopy();
    System.arraycopy(theta, 0, state, 0, params);
    return state;
  }

  /** The adapter with the parameters of {@code state} (a FLOAT graph, ready to save or to encode with). */
  public Adapter adapter(double[] state) {
    checkState(state);
    Adapter a = Adapter.identity(spec, dim, DataType.FLOAT, 0);
    a.setParams(Arrays.copyOf(state, params));
    return a;
  }

  /**
   * Runs global steps {@code firstStep .. firstStep + steps − 1} on {@code shard}, starting from {@code state} (which
   * is left as it is). The same arguments give the same result to the bit.
   */
  public Result run(double[] state, Triples shard, long seed, int partition, long firstStep, int steps) {
    checkState(state);
    if (shard.dim() != dim) {
      throw new IllegalArgumentException("adapter of dimension " + dim + " cannot train on triples of dimension "
          + shard.dim());
    }
    if (shard.rows() == 0) {
      throw new IllegalArgumentException("partition " + partition + " has no triples to train on");
    }
    if (firstStep < 0 || steps < 0) {
      throw new IllegalArgumentException("steps must start at >= 0 and number >= 0, got " + firstStep + " and "
          + steps);
    }
    double[] theta = Arrays.copyOfRange(state, 0, params);
    double[] m = Arrays.copyOfRange(state, params, 2 * params);
    double[] v = Arrays.copyOfRange(state, 2 * params, 3 * params);
    Adapter a = adapter(state);
    boolean[] decay = a.decayMask();
    // a shard smaller than a batch gives batches of the whole shard, not batches holding a row twice
    int b = Math.min(batchSize, shard.rows());
    Walk walk = new Walk(shard.rows(), RowSeeds.mix(RowSeeds.mix(seed ^ SHUFFLE) + partition));
    float[] x = new float[3 * b * dim];
    double[] margins = new double[b];
    double[] gradient = new double[params];
    // the step's input, allocated once per run (see HostArrays); DL4J reads it and does not write to it
    INDArray batch = Nd4j.create(DataType.FLOAT, 3L * b, dim);
    double lossSum = 0;
    for (int s = 0; s < steps; s++) {
      long step = firstStep + s;
      fill(shard, walk, step * b, b, x, margins);
      HostArrays.put(batch, x);
      lossSum += MarginMse.lossAndGradient(a, batch, margins, gradient);
      optimiser.step(theta, m, v, gradient, decay, step);
      a.setParams(theta);
    }
    double[] out = new double[stateLength()];
    System.arraycopy(theta, 0, out, 0, params);
    System.arraycopy(m, 0, out, params, params);
    System.arraycopy(v, 0, out, 2 * params, params);
    return new Result(out, steps == 0 ? Double.NaN : lossSum / steps);
  }

  /** Copies the triples at walk positions from .. from + b − 1 into the stacked batch [q; p; n] and the margins. */
  private void fill(Triples shard, Walk walk, long from, int b, float[] x, double[] margins) {
    for (int i = 0; i < b; i++) {
      int row = walk.row(from + i);
      System.arraycopy(shard.q(), row * dim, x, i * dim, dim);
      System.arraycopy(shard.p(), row * dim, x, (b + i) * dim, dim);
      System.arraycopy(shard.n(), row * dim, x, (2 * b + i) * dim, dim);
      margins[i] = shard.margin()[row];
    }
  }

  private void checkState(double[] state) {
    if (state == null || state.length != stateLength()) {
      throw new IllegalArgumentException("adapter state of length " + (state == null ? "null" : state.length)
          + ", expected " + stateLength() + " (3 x " + params + " parameters)");
    }
  }

  /** Position k of the endless walk: row perm_e[k mod rows] of epoch e = k / rows, each epoch's order seeded. */
  private static final class Walk {
    private final int rows;
    private final long seed;
    private long epoch = -1;
    private int[] order;

    Walk(int rows, long seed) {
      this.rows = rows;
      this.seed = seed;
    }

    int row(long k) {
      long e = k / rows;
      if (e != epoch) {
        order = RowSeeds.permutation(rows, RowSeeds.mix(seed + e));
        epoch = e;
      }
      return order[(int) (k % rows)];
    }
  }
}
