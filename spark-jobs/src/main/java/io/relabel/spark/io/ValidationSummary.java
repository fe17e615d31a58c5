package io.relabel.spark.io;

import java.io.Serializable;
import java.util.HashMap;
import java.util.Map;

/**
 * What one partition (then, merged, the whole table) looks like to {@link InputValidator}: counts, the first
 * offender of each check and the label histogram. It is the only thing the validation pass sends to the driver, so
 * every part of it is bounded: offenders keep one row each, and the length and class maps stop growing at a cap.
 *
 * <p>A plain mutable class (not a record): task results travel through Kryo, which cannot set a record's fields.
 */
final class ValidationSummary implements Serializable {

  private static final long serialVersionUID = 1L;

  /** Distinct feature lengths tracked one by one; rows of further lengths share one overflow bucket. */
  static final int MAX_TRACKED_LENGTHS = 64;

  long rows;
  long labeled;
  long trusted;
  long heldOut;

  // null ids: there is no id to name, so the first by (partition, position) is kept
  long nullIdCount;
  int nullIdPartition = Integer.MAX_VALUE;
  long nullIdPosition = Long.MAX_VALUE;
  String nullIdFile = "";

  Offender nullFeatures = new Offender();
  /** Feature length to [rows, smallest id] of rows with that length. */
  HashMap<Integer, Offender> lengths = new HashMap<>();
  /** Rows whose length did not fit in {@link #lengths}; detail is their length. */
  Offender otherLengths = new Offender();
  Offender nonFinite = new Offender();
  /** Text features that are empty or only whitespace; detail is the value, quoted and escaped. */
  Offender blankText = new Offender();
  Offender outsideClasses = new Offender();
  Offender trustedNullLabel = new Offender();
  /** String labels that are empty or only whitespace; detail is the value, quoted and escaped. */
  Offender blankLabel = new Offender();

  HashMap<String, Long> classCounts = new HashMap<>();
  boolean tooManyClasses;

  void nullId(int partition, long position, String file) {
    nullIdCount++;
    if (partition < nullIdPartition || (partition == nullIdPartition && position < nullIdPosition)) {
      nullIdPartition = partition;
      nullIdPosition = position;
      nullIdFile = file == null ? "" : file;
    }
  }

  void length(int length, Object id) {
    Offender o = lengths.get(length);
    if (o == null) {
      if (lengths.size() >= MAX_TRACKED_LENGTHS) {
        otherLengths.offer(id, Integer.toString(length));
        return;
      }
      o = new Offender();
      lengths.put(length, o);
    }
    o.offer(id, null);
  }

  void label(String label, int maxClasses) {
    Long n = classCounts.get(label);
    if (n != null) {
      classCounts.put(label, n + 1);
    } else if (classCounts.size() < maxClasses) {
      classCounts.put(label, 1L);
    } else {
      tooManyClasses = true;
    }
  }

  ValidationSummary merge(ValidationSummary o, int maxClasses) {
    rows += o.rows;
    labeled += o.labeled;
    trusted += o.trusted;
    heldOut += o.heldOut;
    if (o.nullIdCount > 0) {
      if (o.nullIdPartition < nullIdPartition
          || (o.nullIdPartition == nullIdPartition && o.nullIdPosition < nullIdPosition)) {
        nullIdPartition = o.nullIdPartition;
        nullIdPosition = o.nullIdPosition;
        nullIdFile = o.nullIdFile;
      }
      nullIdCount += o.nullIdCount;
    }
    nullFeatures.merge(o.nullFeatures);
    for (Map.Entry<Integer, Offender> e : o.lengths.entrySet()) {
      Offender mine = lengths.get(e.getKey());
      if (mine != null) {
        mine.merge(e.getValue());
      } else if (lengths.size() < MAX_TRACKED_LENGTHS) {
        lengths.put(e.getKey(), e.getValue());
      } else {
        Offender other = e.getValue();
        Offender asOther = new Offender();
        asOther.count = other.count;
        asOther.minId = other.minId;
        asOther.detail = Integer.toString(e.getKey());
        otherLengths.merge(asOther);
      }
    }
    otherLengths.merge(o.otherLengths);
    nonFinite.merge(o.nonFinite);
    blankText.merge(o.blankText);
    outsideClasses.merge(o.outsideClasses);
    trustedNullLabel.merge(o.trustedNullLabel);
    blankLabel.merge(o.blankLabel);
    for (Map.Entry<String, Long> e : o.classCounts.entrySet()) {
      Long n = classCounts.get(e.getKey());
      if (n != null) {
        classCounts.put(e.getKey(), n + e.getValue());
      } else if (classCounts.size() < maxClasses) {
        classCounts.put(e.getKey(), e.getValue());
      } else {
        tooManyClasses = true;
      }
    }
    tooManyClasses |= o.tooManyClasses;
    return this;
  }

  /** How many rows failed one check, and the one with the smallest id (with what was wrong with it). */
  static final class Offender implements Serializable {
    private static final long serialVersionUID = 1L;

    long count;
    /** Smallest non-null id seen ({@link Long} or {@link String}); null if every offender had a null id. */
    Object minId;
    String detail;

    void offer(Object id, String what) {
      count++;
      if (id != null && (minId == null || compareIds(id, minId) < 0)) {
        minId = id;
        detail = what;
      }
    }

    void merge(Offender o) {
      count += o.count;
      if (o.minId != null && (minId == null || compareIds(o.minId, minId) < 0)) {
        minId = o.minId;
        detail = o.detail;
      }
    }
  }

  static int compareIds(Object a, Object b) {
    if (a instanceof Long x && b instanceof Long y) {
      return Long.compare(x, y);
    }
    return a.toString().compareTo(b.toString());
  }
}
