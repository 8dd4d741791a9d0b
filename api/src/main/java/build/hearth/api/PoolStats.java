package build.hearth.api;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A snapshot of a worker's persistent-worker pool: what runs now, and what happened since the pool
 * was built. An embedder gets it from {@code Hearth.persistentWorkerStats()}; a server shows it
 * under {@code /admin/workers}. Immutable, so it can be handed to any thread.
 *
 * <p>A key's row stays while the key has processes or was used recently; after an hour (or twice
 * its idle timeout, if longer) without processes and without use it is dropped, and only {@link
 * #totals()} keep its counts.
 *
 * @param takenAt when the snapshot was taken, on the pool's clock
 * @param maxProcesses the pool-wide cap on processes across keys
 * @param alive processes counted against the caps now: starting, idle, busy and retiring
 * @param maxAlive the most processes that were alive at once
 * @param waiting acquires that wait for a process now
 * @param totals the counters of every key, including keys no longer listed
 * @param keys one row per key, ordered by client key, then fingerprint
 */
public record PoolStats(
    Instant takenAt,
    int maxProcesses,
    int alive,
    int maxAlive,
    int waiting,
    Counters totals,
    List<KeyStats> keys) {

  /**
   * The upper bounds of the buckets that {@link Counters#latencyBuckets()} counts lease hold times
   * in: 10 ms to 5 minutes, spaced for tools whose requests take from milliseconds (a warm javac on
   * a small target) to minutes.
   */
  public static final List<Duration> LATENCY_BUCKET_BOUNDS =
      List.of(
          Duration.ofMillis(10),
          Duration.ofMillis(50),
          Duration.ofMillis(100),
          Duration.ofMillis(250),
          Duration.ofMillis(500),
          Duration.ofSeconds(1),
          Duration.ofMillis(2500),
          Duration.ofSeconds(5),
          Duration.ofSeconds(10),
          Duration.ofSeconds(30),
          Duration.ofSeconds(60),
          Duration.ofMinutes(5));

  /**
   * Copies the list of keys.
   *
   * @param takenAt the {@code takenAt} component, as described above
   * @param maxProcesses the {@code maxProcesses} component, as described above
   * @param alive the {@code alive} component, as described above
   * @param maxAlive the {@code maxAlive} component, as described above
   * @param waiting the {@code waiting} component, as described above
   * @param totals the {@code totals} component, as described above
   * @param keys the {@code keys} component, as described above
   * @throws NullPointerException if {@code takenAt}, {@code totals} or {@code keys} is null
   */
  public PoolStats {
    Objects.requireNonNull(takenAt, "takenAt");
    Objects.requireNonNull(totals, "totals");
    keys = List.copyOf(keys);
  }

  /**
   * Finds the row of a key.
   *
   * @param fingerprint the key's {@link KeyStats#fingerprint()}
   * @return the row, if the pool has one
   */
  public Optional<KeyStats> key(String fingerprint) {
    return keys.stream().filter(row -> row.fingerprint().equals(fingerprint)).findFirst();
  }

  /**
   * Counts of what happened, since the pool was built.
   *
   * @param spawns processes started
   * @param startFailures starts that failed
   * @param requests leases handed out on a process; always {@code warmRequests + coldRequests}
   * @param warmRequests leases on a process that had had a lease before
   * @param coldRequests leases on a process's first request, normally on a newly started process
   * @param waitsAtCap acquires that found every process busy and no room for another, and waited
   *     (or, with no time to wait, failed)
   * @param oneShotRuns acquires answered with a one-shot lease, under {@link
   *     PoolLimits.AtCapacity#ONE_SHOT}
   * @param evictions idle processes retired to make room under the pool-wide cap for a process of
   *     another key; also counted as {@link RetirementReason#IDLE} retirements
   * @param idleRestarts processes started for a key within its idle timeout after a process of the
   *     key retired for idleness: a sign the idle timeout is too short
   * @param retirements retired processes by reason; every reason is present
   * @param latencyCount released leases whose hold time is in {@code latencySum}
   * @param latencySum the total time leases were held, from {@code acquire} returning to the
   *     lease's release: the request together with the caller's input sync and output collection;
   *     leases ended by retiring their process are not counted
   * @param latencyBuckets the leases of {@code latencyCount} by hold time: entry {@code i} counts
   *     those held longer than bound {@code i - 1} of {@link #LATENCY_BUCKET_BOUNDS} and at most
   *     bound {@code i} (not cumulative); those held longer than the last bound are the rest of
   *     {@code latencyCount}. Either one entry per bound, or empty when the distribution is not
   *     known (statistics from a source that does not record it)
   */
  public record Counters(
      long spawns,
      long startFailures,
      long requests,
      long warmRequests,
      long coldRequests,
      long waitsAtCap,
      long oneShotRuns,
      long evictions,
      long idleRestarts,
      Map<RetirementReason, Long> retirements,
      long latencyCount,
      Duration latencySum,
      List<Long> latencyBuckets) {

    /**
     * Completes the retirements with a zero for every reason not given, and copies the lists.
     *
     * @param spawns the {@code spawns} component, as described above
     * @param startFailures the {@code startFailures} component, as described above
     * @param requests the {@code requests} component, as described above
     * @param warmRequests the {@code warmRequests} component, as described above
     * @param coldRequests the {@code coldRequests} component, as described above
     * @param waitsAtCap the {@code waitsAtCap} component, as described above
     * @param oneShotRuns the {@code oneShotRuns} component, as described above
     * @param evictions the {@code evictions} component, as described above
     * @param idleRestarts the {@code idleRestarts} component, as described above
     * @param retirements the {@code retirements} component, as described above
     * @param latencyCount the {@code latencyCount} component, as described above
     * @param latencySum the {@code latencySum} component, as described above
     * @param latencyBuckets the {@code latencyBuckets} component, as described above
     * @throws IllegalArgumentException if {@code latencyBuckets} is neither empty nor one entry per
     *     bound
     */
    public Counters {
      EnumMap<RetirementReason, Long> complete = new EnumMap<>(RetirementReason.class);
      for (RetirementReason reason : RetirementReason.values()) {
        complete.put(reason, retirements.getOrDefault(reason, 0L));
      }
      retirements = Collections.unmodifiableMap(complete);
      Objects.requireNonNull(latencySum, "latencySum");
      latencyBuckets = List.copyOf(latencyBuckets);
      if (!latencyBuckets.isEmpty() && latencyBuckets.size() != LATENCY_BUCKET_BOUNDS.size()) {
        throw new IllegalArgumentException(
            "latencyBuckets has "
                + latencyBuckets.size()
                + " entries; it needs one per bound of LATENCY_BUCKET_BOUNDS ("
                + LATENCY_BUCKET_BOUNDS.size()
                + ") or none");
      }
    }

    /**
     * Counters without the distribution of hold times, which is then unknown.
     *
     * @param spawns processes started
     * @param startFailures starts that failed
     * @param requests leases handed out on a process
     * @param warmRequests leases on a process that had had a lease before
     * @param coldRequests leases on a process's first request
     * @param waitsAtCap acquires that waited at a cap
     * @param oneShotRuns acquires answered with a one-shot lease
     * @param evictions idle processes retired to make room for another key's
     * @param idleRestarts processes started soon after one of the key retired for idleness
     * @param retirements retired processes by reason
     * @param latencyCount released leases whose hold time is in {@code latencySum}
     * @param latencySum the total time leases were held
     */
    public Counters(
        long spawns,
        long startFailures,
        long requests,
        long warmRequests,
        long coldRequests,
        long waitsAtCap,
        long oneShotRuns,
        long evictions,
        long idleRestarts,
        Map<RetirementReason, Long> retirements,
        long latencyCount,
        Duration latencySum) {
      this(
          spawns,
          startFailures,
          requests,
          warmRequests,
          coldRequests,
          waitsAtCap,
          oneShotRuns,
          evictions,
          idleRestarts,
          retirements,
          latencyCount,
          latencySum,
          List.of());
    }

    /**
     * Counts the processes retired for one reason.
     *
     * @param reason why they retired
     * @return how many retired for it
     */
    public long retired(RetirementReason reason) {
      return retirements.get(reason);
    }

    /** {@return the number of processes retired for any reason} */
    public long retiredTotal() {
      return retirements.values().stream().mapToLong(Long::longValue).sum();
    }

    /** {@return the mean hold time of a lease, or zero when none was released yet} */
    public Duration meanLatency() {
      return latencyCount == 0 ? Duration.ZERO : latencySum.dividedBy(latencyCount);
    }
  }

  /**
   * One key's processes and counters.
   *
   * @param clientKey the key's {@code persistentWorkerKey}
   * @param tool the key's tool name, or {@code ""}
   * @param fingerprint the key's full fingerprint
   * @param protocol the key's protocol
   * @param multiplex whether the key's processes serve several requests at once
   * @param limits the limits that apply to the key
   * @param starting processes being started
   * @param idle processes serving no request
   * @param busy processes serving at least one request (including those that retire when done)
   * @param retiring processes retired but not yet ended; they still count against the caps
   * @param waiting acquires of this key waiting now
   * @param maxAlive the most processes of the key alive at once
   * @param counters what happened to the key
   * @param processes one row per process not yet retired, oldest first
   */
  public record KeyStats(
      String clientKey,
      String tool,
      String fingerprint,
      ToolProtocol protocol,
      boolean multiplex,
      PoolLimits limits,
      int starting,
      int idle,
      int busy,
      int retiring,
      int waiting,
      int maxAlive,
      Counters counters,
      List<ProcessStats> processes) {

    /**
     * Copies the list of processes.
     *
     * @param clientKey the {@code clientKey} component, as described above
     * @param tool the {@code tool} component, as described above
     * @param fingerprint the {@code fingerprint} component, as described above
     * @param protocol the {@code protocol} component, as described above
     * @param multiplex the {@code multiplex} component, as described above
     * @param limits the {@code limits} component, as described above
     * @param starting the {@code starting} component, as described above
     * @param idle the {@code idle} component, as described above
     * @param busy the {@code busy} component, as described above
     * @param retiring the {@code retiring} component, as described above
     * @param waiting the {@code waiting} component, as described above
     * @param maxAlive the {@code maxAlive} component, as described above
     * @param counters the {@code counters} component, as described above
     * @param processes the {@code processes} component, as described above
     */
    public KeyStats {
      processes = List.copyOf(processes);
    }

    /** {@return the processes counted against the caps: starting, idle, busy and retiring} */
    public int alive() {
      return starting + idle + busy + retiring;
    }
  }

  /** What a process is doing. */
  public enum ProcessState {
    /** The process factory is starting it. */
    STARTING,
    /** It serves no request and can take one. */
    IDLE,
    /** It serves at least one request. */
    BUSY,
    /**
     * It serves requests but takes no more: it retires when they are done (a tool change, its
     * request count or its memory).
     */
    DRAINING
  }

  /**
   * One process.
   *
   * @param pid the operating system's process id, or 0 while starting
   * @param state what it does
   * @param inFlight requests it serves now
   * @param requests leases handed out on it
   * @param residentBytes its resident memory as last read, after its latest request
   * @param started when it started (while starting: when the start began)
   * @param lastUsed when it last got or finished a request
   * @param directory its working directory
   * @param retiringFor why it retires when its requests are done, if it does
   */
  public record ProcessStats(
      long pid,
      ProcessState state,
      int inFlight,
      long requests,
      OptionalLong residentBytes,
      Instant started,
      Instant lastUsed,
      Path directory,
      Optional<RetirementReason> retiringFor) {}
}
