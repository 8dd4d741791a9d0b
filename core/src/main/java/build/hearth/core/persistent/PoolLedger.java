package build.hearth.core.persistent;

import build.hearth.api.PoolLimits;
import build.hearth.api.PoolStats;
import build.hearth.api.PoolStats.KeyStats;
import build.hearth.api.RetirementReason;
import build.hearth.core.internal.Durations;
import build.hearth.core.internal.Sizes;
import build.hearth.core.persistent.KeyPool.Count;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bookkeeping of a {@link ToolPool}: which processes each key has, who waits, and how many
 * slots are taken. It decides; the pool carries the decisions out (starts, shutdowns) without the
 * lock. Every method but the constructor must be called with {@link #lock} held; what has to happen
 * after the lock is released goes into the {@link PoolEffects} passed in.
 *
 * <p>Its one invariant, restored before the lock is released: no waiter could be served with what
 * is free. That is why a new acquire may take free room without looking at the queue.
 */
final class PoolLedger {
  // The pool's own logger, so that one logger name covers every pool log line.
  private static final Logger logger = LoggerFactory.getLogger(ToolPool.class);
  private static final Duration RESTART_WARNING_PERIOD = Duration.ofHours(1);
  private static final Duration FORGET_KEYS_AFTER = Duration.ofHours(1);

  /** Ends retired processes, off the lock. */
  interface Ender {
    void end(PooledProcess process, RetirementReason reason, CompletableFuture<Void> ended);
  }

  final ReentrantLock lock = new ReentrantLock();
  final Condition noneStarting = lock.newCondition();
  // Added under the lock, so that close() sees every retirement decided before it.
  final Set<CompletableFuture<Void>> pendingEnds = ConcurrentHashMap.newKeySet();

  private final ToolPool pool;
  private final Path directory;
  private final int maxProcesses;
  private final PoolLimits defaultLimits;
  private final Function<? super ToolKey, PoolLimits> limitsByKey;
  private final Ender ender;
  private final Map<ToolKey, KeyPool> keyPools = new HashMap<>();
  // Acquires that found no room, oldest first; each gets the first room it can use.
  private final LinkedHashSet<Waiter> waiters = new LinkedHashSet<>();
  private final KeyPool.Tally totals = new KeyPool.Tally(null);
  private int alive;
  private int maxAlive;
  private int starting;
  // Idle processes retired to make room under the pool-wide cap that have not ended yet: room on
  // its way, which waiters count on before evicting more.
  private int evictionsUnderway;
  private long directoryNumber;
  private boolean closing;

  PoolLedger(
      ToolPool pool,
      Path directory,
      int maxProcesses,
      PoolLimits defaultLimits,
      Function<? super ToolKey, PoolLimits> limitsByKey,
      Ender ender) {
    this.pool = pool;
    this.directory = directory;
    this.maxProcesses = maxProcesses;
    this.defaultLimits = defaultLimits;
    this.limitsByKey = limitsByKey;
    this.ender = ender;
  }

  boolean isClosing() {
    return closing;
  }

  int starting() {
    return starting;
  }

  /** The key's pool, made on first use; retires old processes of a tool the key changes. */
  KeyPool keyPool(ToolKey key, Instant now, PoolEffects effects) {
    KeyPool keyPool = keyPools.get(key);
    if (keyPool == null) {
      PoolLimits limits = limitsByKey.apply(key);
      keyPool = new KeyPool(key, limits != null ? limits : defaultLimits, totals, now);
      keyPools.put(key, keyPool);
    }
    keyPool.lastActivity = now;
    if (keyPool.alive() == 0) {
      // The key is new, or back after its processes retired: if it changes a tool whose old
      // processes still run, they go, so that they do not hold slots and memory for nothing.
      retireToolChanges(keyPool, now, effects);
    }
    return keyPool;
  }

  private void retireToolChanges(KeyPool keyPool, Instant now, PoolEffects effects) {
    for (KeyPool other : keyPools.values()) {
      if (other == keyPool || !keyPool.key.isToolChangeOf(other.key)) {
        continue;
      }
      String detail = "the tool changed: its files now make key " + keyPool.shortFingerprint;
      for (PooledProcess process : List.copyOf(other.processes)) {
        if (process.isIdle()) {
          retire(process, RetirementReason.TOOL_CHANGE, detail, now, effects);
        } else {
          process.drain(RetirementReason.TOOL_CHANGE, detail);
        }
      }
    }
  }

  /** Queues an acquire behind the others and serves whom it can; the new one may be served. */
  Waiter enqueue(KeyPool keyPool, Condition wakeup, Instant now, PoolEffects effects) {
    Waiter waiter = new Waiter(keyPool, wakeup);
    waiters.add(waiter);
    keyPool.waiting++;
    dispatch(now, effects);
    return waiter;
  }

  void unqueue(Waiter waiter) {
    if (waiters.remove(waiter)) {
      waiter.keyPool.waiting--;
    }
  }

  /**
   * Gives every waiter, oldest first, the room it can use: a process of its key with room, or a
   * slot to start one. Called after anything that may make room.
   */
  void dispatch(Instant now, PoolEffects effects) {
    if (closing || waiters.isEmpty()) {
      return;
    }
    int[] evictionCredit = {evictionsUnderway};
    for (Iterator<Waiter> it = waiters.iterator(); it.hasNext(); ) {
      Waiter waiter = it.next();
      if (waiter.cancelled) {
        continue;
      }
      PooledProcess granted = reserve(waiter.keyPool, now, effects, evictionCredit);
      if (granted != null) {
        it.remove();
        waiter.keyPool.waiting--;
        waiter.granted = granted;
        waiter.wakeup.signal();
      }
    }
  }

  /**
   * Room for one request of {@code keyPool}: a started process with room (its in-flight count
   * raised), or a new slot in STARTING state, or null.
   */
  private PooledProcess reserve(
      KeyPool keyPool, Instant now, PoolEffects effects, int[] evictionCredit) {
    PooledProcess best = keyPool.bestWithRoom();
    if (best != null) {
      best.inFlight++;
      effects.idleChanged();
      return best;
    }
    if (keyPool.key.multiplex() && keyPool.hasStarting()) {
      // A multiplex process on its way serves many requests: wait for it rather than start more.
      return null;
    }
    if (keyPool.alive() >= keyPool.limits.maxProcessesPerKey()) {
      return null;
    }
    if (alive >= maxProcesses) {
      if (evictionCredit[0] > 0) {
        evictionCredit[0]--;
      } else {
        evictFor(keyPool, now, effects);
      }
      return null;
    }
    Path processDirectory = directory.resolve(keyPool.shortFingerprint + "-" + ++directoryNumber);
    PooledProcess slot = new PooledProcess(keyPool, processDirectory, now);
    slot.inFlight = 1;
    keyPool.processes.add(slot);
    alive++;
    starting++;
    maxAlive = Math.max(maxAlive, alive);
    keyPool.noteAlive();
    return slot;
  }

  /** Retires the least recently used idle process of another key, if there is one. */
  private void evictFor(KeyPool keyPool, Instant now, PoolEffects effects) {
    PooledProcess victim = null;
    for (KeyPool other : keyPools.values()) {
      if (other == keyPool) {
        continue;
      }
      PooledProcess candidate = other.leastRecentlyUsedIdle();
      if (candidate != null && (victim == null || candidate.lastUsed.isBefore(victim.lastUsed))) {
        victim = candidate;
      }
    }
    if (victim == null) {
      return;
    }
    victim.evicted = true;
    evictionsUnderway++;
    victim.owner.tally.increment(Count.EVICTIONS);
    retire(
        victim,
        RetirementReason.IDLE,
        "evicted to make room under the pool's cap of "
            + maxProcesses
            + " processes for key "
            + keyPool.key.clientKey(),
        now,
        effects);
  }

  /** Hands out a lease on {@code process}, whose room is already reserved. */
  Lease commit(PooledProcess process, Instant now, PoolEffects effects) {
    KeyPool keyPool = process.owner;
    process.handed++;
    process.lastUsed = now;
    keyPool.lastActivity = now;
    keyPool.tally.increment(Count.REQUESTS);
    keyPool.tally.increment(process.handed > 1 ? Count.WARM_REQUESTS : Count.COLD_REQUESTS);
    long maxRequests = keyPool.limits.maxRequestsPerProcess();
    if (maxRequests > 0 && process.handed >= maxRequests) {
      process.drain(
          RetirementReason.MAX_REQUESTS, "served " + maxRequests + " requests, its maximum");
    }
    effects.idleChanged();
    return new Lease(pool, process, process.handed, now);
  }

  /** Undoes a reservation that its waiter no longer wants. */
  void giveBack(PooledProcess granted, Instant now, PoolEffects effects) {
    if (granted.isStarted()) {
      granted.inFlight--;
      settle(granted, now, effects);
    } else {
      forgetSlot(granted);
    }
    dispatch(now, effects);
  }

  /** Records that the slot's process has started. */
  void started(PooledProcess slot, ToolProcess process, Instant now, PoolEffects effects) {
    KeyPool keyPool = slot.owner;
    slot.process = process;
    slot.started = now;
    slot.lastUsed = now;
    keyPool.tally.increment(Count.SPAWNS);
    startEnded();
    String started = slot.describe() + " in " + slot.directory + "; " + capacityText(keyPool);
    effects.add(() -> logger.info("started {}", started));
    noteIdleRestart(keyPool, now, effects);
    effects.idleChanged();
    // A multiplex process has room for the requests that waited while it started.
    dispatch(now, effects);
  }

  /** Frees the slot of a process that could not be started. */
  void startFailed(PooledProcess slot, Instant now, PoolEffects effects) {
    slot.owner.tally.increment(Count.START_FAILURES);
    forgetSlot(slot);
    dispatch(now, effects);
  }

  private void forgetSlot(PooledProcess slot) {
    slot.owner.processes.remove(slot);
    slot.retired = true;
    alive--;
    startEnded();
  }

  private void startEnded() {
    starting--;
    if (starting == 0) {
      noneStarting.signalAll();
    }
  }

  /** Counts a start soon after an idle retirement, and warns about it at most hourly per key. */
  private void noteIdleRestart(KeyPool keyPool, Instant now, PoolEffects effects) {
    Duration timeout = keyPool.limits.idleTimeout();
    if (keyPool.lastIdleRetirement == null
        || timeout.isZero()
        || Duration.between(keyPool.lastIdleRetirement, now).compareTo(timeout) > 0) {
      return;
    }
    keyPool.tally.increment(Count.IDLE_RESTARTS);
    if (keyPool.lastRestartWarning != null
        && Duration.between(keyPool.lastRestartWarning, now).compareTo(RESTART_WARNING_PERIOD)
            < 0) {
      return;
    }
    keyPool.lastRestartWarning = now;
    ToolKey key = keyPool.key;
    effects.add(
        () ->
            logger.warn(
                "processes of persistent worker key {} are retired for idleness and started again"
                    + " within {}; consider a longer idleTimeout for it",
                key,
                Durations.format(timeout)));
  }

  /** Ends a lease normally, retiring its process if it died or went over a limit. */
  void released(
      Lease lease, long residentBytes, boolean stillAlive, Instant now, PoolEffects effects) {
    PooledProcess process = lease.slot();
    KeyPool keyPool = process.owner;
    process.inFlight--;
    process.lastUsed = now;
    keyPool.lastActivity = now;
    if (residentBytes >= 0) {
      process.residentBytes = OptionalLong.of(residentBytes);
    }
    keyPool.tally.heldFor(Math.max(0, Duration.between(lease.acquiredAt(), now).toNanos()));
    if (!stillAlive) {
      retire(
          process,
          RetirementReason.CRASH,
          "it ended on its own after request " + lease.requestNumber(),
          now,
          effects);
    } else {
      long limit = keyPool.limits.memoryLimitBytes();
      if (limit > 0 && residentBytes > limit) {
        process.drain(
            RetirementReason.MEMORY,
            Sizes.binary(residentBytes) + " resident, over the limit of " + Sizes.binary(limit));
      }
      settle(process, now, effects);
    }
    dispatch(now, effects);
  }

  /** Ends a lease by retiring its process. */
  void retired(
      Lease lease, RetirementReason reason, String detail, Instant now, PoolEffects effects) {
    PooledProcess process = lease.slot();
    process.inFlight--;
    process.lastUsed = now;
    retire(process, reason, detail, now, effects);
    dispatch(now, effects);
  }

  /** Retires a draining process once nothing is in flight on it. */
  private void settle(PooledProcess process, Instant now, PoolEffects effects) {
    effects.idleChanged();
    if (!process.retired && process.inFlight == 0 && process.drainReason != null) {
      retire(process, process.drainReason, process.drainDetail, now, effects);
    }
  }

  /**
   * Takes a started process out of service and has the ender end it after the lock is released. It
   * keeps its slot until {@link #ended} is called.
   */
  void retire(
      PooledProcess process,
      RetirementReason reason,
      String detail,
      Instant now,
      PoolEffects effects) {
    if (process.retired) {
      return;
    }
    Objects.requireNonNull(process.process, "only started processes retire");
    process.retired = true;
    KeyPool keyPool = process.owner;
    keyPool.processes.remove(process);
    keyPool.retiring++;
    keyPool.lastActivity = now;
    keyPool.tally.retired(reason);
    if (reason == RetirementReason.IDLE && !process.evicted) {
      keyPool.lastIdleRetirement = now;
    }
    CompletableFuture<Void> ended = new CompletableFuture<>();
    pendingEnds.add(ended);
    effects.idleChanged();
    String who = process.describe();
    String why = reason.label() + (detail.isEmpty() ? "" : ": " + detail);
    effects.add(
        () -> {
          logger.info("retiring {}, {}", who, why);
          ender.end(process, reason, ended);
        });
  }

  /** Frees the slot of a retired process that has ended. */
  void ended(PooledProcess process, Instant now, PoolEffects effects) {
    process.owner.retiring--;
    alive--;
    if (process.evicted) {
      evictionsUnderway--;
    }
    dispatch(now, effects);
  }

  /**
   * Retires processes idle for longer than their key's idle timeout and forgets keys long unused.
   *
   * @param stillIdle receives the idle processes that stay
   * @return the number retired
   */
  int retireIdle(Instant now, PoolEffects effects, List<PooledProcess> stillIdle) {
    int retired = 0;
    for (Iterator<KeyPool> it = keyPools.values().iterator(); it.hasNext(); ) {
      KeyPool keyPool = it.next();
      Duration timeout = keyPool.limits.idleTimeout();
      for (PooledProcess process : List.copyOf(keyPool.processes)) {
        if (!process.isIdle()) {
          continue;
        }
        Duration idleFor = Duration.between(process.lastUsed, now);
        if (!timeout.isZero() && idleFor.compareTo(timeout) > 0) {
          retire(
              process,
              RetirementReason.IDLE,
              "idle for "
                  + Durations.format(idleFor)
                  + ", longer than the idle timeout of "
                  + Durations.format(timeout),
              now,
              effects);
          retired++;
        } else {
          stillIdle.add(process);
        }
      }
      if (keyPool.isEmpty()
          && Duration.between(keyPool.lastActivity, now).compareTo(forgetAfter(keyPool)) > 0) {
        it.remove();
      }
    }
    dispatch(now, effects);
    return retired;
  }

  private static Duration forgetAfter(KeyPool keyPool) {
    Duration twice = keyPool.limits.idleTimeout().multipliedBy(2);
    return twice.compareTo(FORGET_KEYS_AFTER) > 0 ? twice : FORGET_KEYS_AFTER;
  }

  /** Starts closing: retires every started process and wakes every waiter. */
  void close(Instant now, PoolEffects effects) {
    closing = true;
    for (KeyPool keyPool : keyPools.values()) {
      for (PooledProcess process : List.copyOf(keyPool.processes)) {
        // A process still starting is retired by its starter, which sees the pool closing.
        if (process.isStarted()) {
          retire(process, RetirementReason.SHUTDOWN, "the pool closed", now, effects);
        }
      }
    }
    for (Waiter waiter : waiters) {
      waiter.wakeup.signal();
    }
  }

  Map<String, Integer> idleByClientKey() {
    if (closing) {
      return Map.of();
    }
    Map<String, Integer> idle = new TreeMap<>();
    for (KeyPool keyPool : keyPools.values()) {
      int withRoom = keyPool.withRoom();
      if (withRoom > 0) {
        idle.merge(keyPool.key.clientKey(), withRoom, Integer::sum);
      }
    }
    return Collections.unmodifiableMap(idle);
  }

  PoolStats stats(Instant now) {
    List<KeyStats> rows = new ArrayList<>(keyPools.size());
    for (KeyPool keyPool : keyPools.values()) {
      rows.add(keyPool.stats());
    }
    rows.sort(Comparator.comparing(KeyStats::clientKey).thenComparing(KeyStats::fingerprint));
    return new PoolStats(
        now, maxProcesses, alive, maxAlive, waiters.size(), totals.snapshot(), rows);
  }

  /** How full the key and the pool are, for log lines and errors. */
  String capacityText(KeyPool keyPool) {
    return keyPool.alive()
        + " of at most "
        + keyPool.limits.maxProcessesPerKey()
        + " processes of the key and "
        + alive
        + " of at most "
        + maxProcesses
        + " in the pool alive";
  }

  /**
   * Checks the bookkeeping against itself and against the caps, for tests.
   *
   * @throws IllegalStateException naming the first inconsistency found
   */
  void checkInvariants() {
    int sumAlive = 0;
    int sumStarting = 0;
    Map<KeyPool, Integer> waitingByKey = new HashMap<>();
    for (Waiter waiter : waiters) {
      waitingByKey.merge(waiter.keyPool, 1, Integer::sum);
      check(keyPools.get(waiter.keyPool.key) == waiter.keyPool, "a waiter's key is forgotten");
    }
    for (KeyPool keyPool : keyPools.values()) {
      sumAlive += keyPool.alive();
      check(keyPool.retiring >= 0, keyPool.key + " has a negative retiring count");
      check(
          keyPool.alive() <= keyPool.limits.maxProcessesPerKey(),
          keyPool.key + " has more processes than its cap");
      check(
          keyPool.waiting == waitingByKey.getOrDefault(keyPool, 0),
          keyPool.key + " counts " + keyPool.waiting + " waiters");
      for (PooledProcess process : keyPool.processes) {
        check(!process.retired, "a retired process is listed");
        check(process.owner == keyPool, "a process is listed under another key");
        check(
            process.inFlight >= 0 && process.inFlight <= keyPool.requestsPerProcess(),
            process.describe() + " has " + process.inFlight + " requests in flight");
        if (!process.isStarted()) {
          sumStarting++;
        }
      }
    }
    check(alive == sumAlive, "alive is " + alive + " but the keys hold " + sumAlive);
    check(alive <= maxProcesses, "alive is " + alive + ", over the cap of " + maxProcesses);
    check(starting == sumStarting, "starting is " + starting + " but " + sumStarting + " start");
    check(evictionsUnderway >= 0, "evictionsUnderway is " + evictionsUnderway);
  }

  private static void check(boolean condition, String message) {
    if (!condition) {
      throw new IllegalStateException(message);
    }
  }

  /** An acquire waiting for room. Guarded by the lock. */
  static final class Waiter {
    final KeyPool keyPool;
    final Condition wakeup;
    PooledProcess granted;
    boolean cancelled;

    Waiter(KeyPool keyPool, Condition wakeup) {
      this.keyPool = keyPool;
      this.wakeup = wakeup;
    }
  }
}
