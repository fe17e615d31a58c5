package io.relabel.spark.embed;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Built models, one per JVM and content hash. Spark runs one task per core and a new task for every partition; an
 * ONNX session or a DL4J network costs from a few hundred milliseconds to seconds and tens to hundreds of MB to
 * build, so building it per task (or per batch) would dominate the embed stage. Here the first task of a JVM that
 * needs a model builds it and every later or concurrent task gets the same instance; a concurrent task asking for a
 * model being built waits for it instead of building a second copy.
 *
 * <p>The cache holds at most {@link #MAX_MODELS} models, least recently used out first. An evicted model is not
 * closed: a running task may still hold it; it goes when the garbage collector finds it unused.
 */
public final class ModelCache {

  private static final Logger LOG = LoggerFactory.getLogger(ModelCache.class);

  /** More distinct models than this in one JVM (a long-lived driver embedding many tables) evict the oldest. */
  static final int MAX_MODELS = 8;

  private static final Map<String, Slot> MODELS = new LinkedHashMap<>(16, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, Slot> eldest) {
      return size() > MAX_MODELS;
    }
  };

  private static final AtomicLong BUILDS = new AtomicLong();

  private ModelCache() {}

  /**
   * The model cached under {@code key}, built by {@code build} if absent. A failed build is not cached: the next
   * call tries again (and fails with the same message, which is what the task's error should say).
   *
   * @param key a content hash plus whatever else changes the built model (e.g. a tokenizer's maximum length)
   */
  public static <T> T get(String key, Supplier<T> build) {
    Slot slot;
    synchronized (MODELS) {
      slot = MODELS.computeIfAbsent(key, k -> new Slot());
    }
    @SuppressWarnings("unchecked")
    T model = (T) slot.get(key, build);
    return model;
  }

  /** How many models this JVM has built (tests check that a model is built once, not per task). */
  static long builds() {
    return BUILDS.get();
  }

  /** Forgets every model, so the next use builds it again (tests: build on the "executor", not the driver). */
  static void clear() {
    synchronized (MODELS) {
      MODELS.clear();
    }
  }

  /** One key's model; its own lock, so building one model does not block the lookup of another. */
  private static final class Slot {
    private Object model;

    synchronized Object get(String key, Supplier<?> build) {
      if (model == null) {
        long t0 = System.nanoTime();
        model = build.get();
        BUILDS.incrementAndGet();
        LOG.info("built model {} in {} ms", key, (System.nanoTime() - t0) / 1_000_000);
      }
      return model;
    }
  }
}
