package build.hearth.core.persistent;

import build.hearth.api.PoolLimits;
import build.hearth.api.PoolStats;
import build.hearth.api.PoolStats.Counters;
import build.hearth.api.PoolStats.KeyStats;
import build.hearth.api.PoolStats.ProcessState;
import build.hearth.api.PoolStats.ProcessStats;
import build.hearth.api.RetirementReason;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/** The processes and counters of one {@link ToolKey}. Guarded by the pool's lock. */
final class KeyPool {
  private static final long[] LATENCY_BOUNDS_NANOS =
      PoolStats.LATENCY_BUCKET_BOUNDS.stream().mapToLong(Duration::toNanos).toArray();

  final ToolKey key;
  // When waiting at the cap was last logged at info level; guarded by the pool's lock.
  Instant lastCapNotice;
  final String fingerprint;
  final String shortFingerprint;
  final PoolLimits limits;
  final Tally tally;
  // Not yet retired, oldest first.
  final List<PooledProcess> processes = new ArrayList<>();
  // Retired but not yet ended; they keep their slots until they have.
  int retiring;
  int waiting;
  int maxAlive;
  Instant lastActivity;
  Instant lastIdleRetirement;
  Instant lastRestartWarning;

  KeyPool(ToolKey key, PoolLimits limits, Tally totals, Instant now) {
    this.key = key;
    this.fingerprint = key.fingerprint();
    this.shortFingerprint = fingerprint.substring(0, 12);
    this.limits = limits;
    this.tally = new Tally(totals);
    this.lastActivity = now;
  }

  /** How many requests one process serves at once. */
  int requestsPerProcess() {
    return key.multiplex() ? limits.maxInFlightPerMultiplexProcess() : 1;
  }

  /** Processes counted against the caps. */
  int alive() {
    return processes.size() + retiring;
  }

  boolean isEmpty() {
    return alive() == 0 && waiting == 0;
  }

  /**
   * The process the next request should go to, or null if none has room. The busiest one with room
   * wins, then the most recently used: requests gather on few processes, and the others go idle and
   * retire on time.
   */
  PooledProcess bestWithRoom() {
    PooledProcess best = null;
    for (PooledProcess candidate : processes) {
      if (candidate.hasRoom()
          && (best == null
              || candidate.inFlight > best.inFlight
              || (candidate.inFlight == best.inFlight
                  && !candidate.lastUsed.isBefore(best.lastUsed)))) {
        best = candidate;
      }
    }
    return best;
  }

  /** Whether a process of this key is still starting. */
  boolean hasStarting() {
    for (PooledProcess candidate : processes) {
      if (candidate.process == null && !candidate.retired) {
        return true;
      }
    }
    return false;
  }

  /** Processes that could take a request now. */
  int withRoom() {
    int count = 0;
    for (PooledProcess candidate : processes) {
      if (candidate.hasRoom()) {
        count++;
      }
    }
    return count;
  }

  /** The idle process that was used least recently, or null. */
  PooledProcess leastRecentlyUsedIdle() {
    PooledProcess oldest = null;
    for (PooledProcess candidate : processes) {
      if (candidate.isIdle() && (oldest == null || candidate.lastUsed.isBefore(oldest.lastUsed))) {
        oldest = candidate;
      }
    }
    return oldest;
  }

  void noteAlive() {
    maxAlive = Math.max(maxAlive, alive());
  }

  KeyStats stats() {
    int starting = 0;
    int idle = 0;
    int busy = 0;
    List<ProcessStats> rows = new ArrayList<>(processes.size());
    for (PooledProcess process : processes) {
      ProcessState state = process.state();
      switch (state) {
        case STARTING -> starting++;
        case IDLE -> idle++;
        case BUSY, DRAINING -> busy++;
      }
      rows.add(process.stats());
    }
    return new KeyStats(
        key.clientKey(),
        key.tool(),
        fingerprint,
        key.protocol(),
        key.multiplex(),
        limits,
        starting,
        idle,
        busy,
        retiring,
        waiting,
        maxAlive,
        tally.snapshot(),
        rows);
  }

  /** What {@link Tally} counts, besides retirements. */
  enum Count {
    SPAWNS,
    START_FAILURES,
    REQUESTS,
    WARM_REQUESTS,
    COLD_REQUESTS,
    WAITS_AT_CAP,
    ONE_SHOT_RUNS,
    EVICTIONS,
    IDLE_RESTARTS,
    LATENCY_COUNT,
    LATENCY_NANOS
  }

  /**
   * Counters of a key, or of the whole pool. A key's tally adds every count to the pool's too, so
   * the pool's totals survive keys that are forgotten. Guarded by the pool's lock.
   */
  static final class Tally {
    private final Tally parent;
    private final long[] counts = new long[Count.values().length];
    private final long[] retirements = new long[RetirementReason.values().length];
    // Not cumulative, one per bound; what is above the last bound is the rest of the count.
    private final long[] latencyBuckets = new long[LATENCY_BOUNDS_NANOS.length];

    Tally(Tally parent) {
      this.parent = parent;
    }

    void add(Count count, long amount) {
      counts[count.ordinal()] += amount;
      if (parent != null) {
        parent.add(count, amount);
      }
    }

    void increment(Count count) {
      add(count, 1);
    }

    /** Counts a released lease held for {@code nanos}. */
    void heldFor(long nanos) {
      counts[Count.LATENCY_COUNT.ordinal()]++;
      counts[Count.LATENCY_NANOS.ordinal()] += nanos;
      for (int i = 0; i < LATENCY_BOUNDS_NANOS.length; i++) {
        if (nanos <= LATENCY_BOUNDS_NANOS[i]) {
          latencyBuckets[i]++;
          break;
        }
      }
      if (parent != null) {
        parent.heldFor(nanos);
      }
    }

    void retired(RetirementReason reason) {
      retirements[reason.ordinal()]++;
      if (parent != null) {
        parent.retired(reason);
      }
    }

    Counters snapshot() {
      Map<RetirementReason, Long> byReason = new EnumMap<>(RetirementReason.class);
      for (RetirementReason reason : RetirementReason.values()) {
        byReason.put(reason, retirements[reason.ordinal()]);
      }
      return new Counters(
          get(Count.SPAWNS),
          get(Count.START_FAILURES),
          get(Count.REQUESTS),
          get(Count.WARM_REQUESTS),
          get(Count.COLD_REQUESTS),
          get(Count.WAITS_AT_CAP),
          get(Count.ONE_SHOT_RUNS),
          get(Count.EVICTIONS),
          get(Count.IDLE_RESTARTS),
          byReason,
          get(Count.LATENCY_COUNT),
          Duration.ofNanos(get(Count.LATENCY_NANOS)),
          Arrays.stream(latencyBuckets).boxed().toList());
    }

    long get(Count count) {
      return counts[count.ordinal()];
    }
  }
}
