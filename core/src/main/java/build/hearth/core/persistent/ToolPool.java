package build.hearth.core.persistent;

import build.hearth.api.HearthException;
import build.hearth.api.PoolLimits;
import build.hearth.api.PoolStats;
import build.hearth.api.RetirementReason;
import build.hearth.api.StatusCode;
import build.hearth.core.execution.Cancellation;
import build.hearth.core.internal.DirectoryTrees;
import build.hearth.core.internal.Durations;
import build.hearth.core.internal.Threads;
import build.hearth.core.persistent.KeyPool.Count;
import build.hearth.core.persistent.PoolLedger.Waiter;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps persistent worker processes warm, bounded and retired on time. Callers {@link #acquire} a
 * {@link Lease} on a process of a {@link ToolKey}, send it one request, and {@link Lease#release()}
 * it; the pool hands out an idle process of the key, starts one while the key's {@link
 * PoolLimits#maxProcessesPerKey() cap} and the pool-wide cap allow, and otherwise waits for one or
 * answers one-shot, per the key's {@link PoolLimits#atCapacity() policy}.
 *
 * <pre>{@code
 * ToolPool pool = ToolPool.newBuilder()
 *     .directory(Path.of("/var/lib/hearth/persistent"))
 *     .processFactory(launcher::start)
 *     .limits(key -> key.tool().equals("javac") ? javacLimits : null)
 *     .maxProcesses(16)
 *     .build();
 * try (Lease lease = pool.acquire(key, Duration.ofMinutes(10), cancellation)) {
 *   ...
 * }
 * pool.close();
 * }</pre>
 *
 * <p>Processes retire when idle for longer than the key's idle timeout (swept periodically), after
 * their maximum number of requests, when over the memory limit after a request, when a lease
 * retires them (a crash, a cancellation), when a key with other tool files arrives for the same
 * tool, and when the pool closes. A retired process keeps its slot until it has ended, so the caps
 * bound the processes that really run. Every start, retirement and end is logged at INFO with the
 * key, tool and pid.
 *
 * <p>Thread-safe. One lock guards the bookkeeping and is held for in-memory work only: processes
 * start on the acquiring thread without it, and end on the retirement executor. Errors are {@link
 * HearthException}s: UNAVAILABLE once the pool is closed, CANCELLED when the caller's cancellation
 * or interruption stops a wait, RESOURCE_EXHAUSTED when the wait runs out, INTERNAL when a process
 * directory cannot be made; a process that cannot start fails with the factory's {@link
 * ToolProcessException}.
 */
public final class ToolPool implements AutoCloseable {
  private static final Duration CAP_NOTICE_INTERVAL = Duration.ofMinutes(1);

  private static final Logger logger = LoggerFactory.getLogger(ToolPool.class);

  private final Path directory;
  private final ProcessFactory factory;
  private final Duration shutdownGrace;
  private final Clock clock;
  private final Executor retirementExecutor;
  private final ExecutorService ownedRetirementExecutor;
  private final ScheduledExecutorService ownedTimer;
  private final ScheduledFuture<?> sweep;
  private final List<Runnable> idleListeners = new CopyOnWriteArrayList<>();
  private final CompletableFuture<Void> closed = new CompletableFuture<>();
  private final PoolLedger ledger;
  private final ReentrantLock lock;

  ToolPool(ToolPoolBuilder builder) {
    this.directory = builder.directory;
    this.factory = builder.processFactory;
    this.shutdownGrace = builder.shutdownGrace;
    this.clock = builder.clock;
    this.ledger =
        new PoolLedger(
            this,
            directory,
            builder.effectiveMaxProcesses(),
            builder.defaultLimits,
            builder.limits != null ? builder.limits : key -> null,
            this::beginEnd);
    this.lock = ledger.lock;
    if (builder.retirementExecutor != null) {
      this.ownedRetirementExecutor = null;
      this.retirementExecutor = builder.retirementExecutor;
    } else {
      this.ownedRetirementExecutor =
          Executors.newCachedThreadPool(Threads.daemon("hearth-pool-retire-"));
      this.retirementExecutor = ownedRetirementExecutor;
    }
    PoolDirectories.deleteLeftovers(directory);
    Duration interval = builder.effectiveSweepInterval();
    if (interval.isZero()) {
      this.ownedTimer = null;
      this.sweep = null;
    } else {
      this.ownedTimer =
          builder.timer == null
              ? Executors.newSingleThreadScheduledExecutor(Threads.daemon("hearth-pool-sweeper-"))
              : null;
      long millis = Math.max(1, interval.toMillis());
      this.sweep =
          (builder.timer != null ? builder.timer : ownedTimer)
              .scheduleWithFixedDelay(this::sweepQuietly, millis, millis, TimeUnit.MILLISECONDS);
    }
  }

  /** A builder for a pool; see {@link ToolPoolBuilder} for what is required. */
  public static ToolPoolBuilder newBuilder() {
    return new ToolPoolBuilder();
  }

  /** {@link #acquire(ToolKey, Duration, Cancellation)} without a cancellation. */
  public Lease acquire(ToolKey key, Duration maxWait) {
    return acquire(key, maxWait, null);
  }

  /**
   * A lease on a process of {@code key}: an idle one if there is one (warm), else a new one if the
   * key's cap and the pool-wide cap allow (cold; it starts on this thread). When the pool-wide cap
   * is reached and another key has an idle process, that process is retired to make room, and this
   * call waits for it to end. Otherwise, under {@link PoolLimits.AtCapacity#ONE_SHOT}, it returns a
   * {@link Lease#oneShot() one-shot} lease at once; under {@link PoolLimits.AtCapacity#WAIT} it
   * waits up to {@code maxWait}, and waiting acquires are served in the order they came.
   *
   * @param maxWait how long to wait for room; zero fails at once if there is none
   * @param cancellation stops the wait when cancelled; may be null
   * @throws HearthException UNAVAILABLE if the pool is closed or closes during the wait; CANCELLED
   *     if {@code cancellation} fires or the thread is interrupted (its interrupt flag is set
   *     again) before a process is ready; RESOURCE_EXHAUSTED if {@code maxWait} runs out; INTERNAL
   *     if the process's directory cannot be made
   * @throws ToolProcessException if a process had to be started and could not be
   */
  public Lease acquire(ToolKey key, Duration maxWait, Cancellation cancellation) {
    Objects.requireNonNull(key, "key");
    Objects.requireNonNull(maxWait, "maxWait");
    if (maxWait.isNegative()) {
      throw new IllegalArgumentException("maxWait must not be negative: " + maxWait);
    }
    if (cancellation != null && cancellation.isCancelled()) {
      throw cancelledError(key, "was cancelled");
    }
    PoolEffects effects = new PoolEffects();
    Waiter waiter;
    Grant grant = null;
    lock.lock();
    try {
      if (ledger.isClosing()) {
        throw closedError();
      }
      Instant now = clock.instant();
      KeyPool keyPool = ledger.keyPool(key, now, effects);
      waiter = ledger.enqueue(keyPool, lock.newCondition(), now, effects);
      if (waiter.granted != null) {
        grant = take(waiter.granted, now, effects);
      } else if (keyPool.limits.atCapacity() == PoolLimits.AtCapacity.ONE_SHOT) {
        ledger.unqueue(waiter);
        keyPool.tally.increment(Count.ONE_SHOT_RUNS);
        return Lease.oneShot(key);
      } else {
        keyPool.tally.increment(Count.WAITS_AT_CAP);
        String atCap = ledger.capacityText(keyPool);
        // Queueing at the cap is what an operator tunes maxProcessesPerKey for: say so, at most
        // once a minute per key, and only at debug level in between.
        if (keyPool.lastCapNotice == null
            || Duration.between(keyPool.lastCapNotice, now).compareTo(CAP_NOTICE_INTERVAL) >= 0) {
          keyPool.lastCapNotice = now;
          long waits = keyPool.tally.get(Count.WAITS_AT_CAP);
          effects.add(
              () ->
                  logger.info(
                      "actions wait for a persistent worker process of {}: {} ({} waits so far);"
                          + " raise maxProcessesPerKey (memory permitting) or add workers",
                      key,
                      atCap,
                      waits));
        } else {
          effects.add(
              () -> logger.debug("waiting for a persistent worker process of {}: {}", key, atCap));
        }
        if (maxWait.isZero()) {
          ledger.unqueue(waiter);
          throw exhaustedError(keyPool, maxWait);
        }
      }
    } finally {
      lock.unlock();
      finish(effects);
    }
    if (grant == null) {
      grant = await(waiter, maxWait, cancellation);
    }
    return grant.lease != null ? grant.lease : start(grant.toStart, cancellation);
  }

  /** Waits until {@code waiter} is granted room, or fails. */
  private Grant await(Waiter waiter, Duration maxWait, Cancellation cancellation) {
    if (cancellation != null) {
      cancellation.onCancel(() -> cancel(waiter));
    }
    PoolEffects effects = new PoolEffects();
    lock.lock();
    try {
      long nanos = Durations.toNanosSaturated(maxWait);
      boolean interrupted = false;
      while (waiter.granted == null && !waiter.cancelled && !ledger.isClosing() && nanos > 0) {
        try {
          nanos = waiter.wakeup.awaitNanos(nanos);
        } catch (InterruptedException e) {
          interrupted = true;
          waiter.cancelled = true;
        }
      }
      if (interrupted) {
        Thread.currentThread().interrupt();
      }
      HearthException error = null;
      if (ledger.isClosing()) {
        error = closedError();
      } else if (waiter.cancelled) {
        error =
            cancelledError(waiter.keyPool.key, interrupted ? "was interrupted" : "was cancelled");
      } else if (waiter.granted == null) {
        error = exhaustedError(waiter.keyPool, maxWait);
      }
      Instant now = clock.instant();
      if (error == null) {
        return take(waiter.granted, now, effects);
      }
      if (waiter.granted != null) {
        ledger.giveBack(waiter.granted, now, effects);
      } else {
        ledger.unqueue(waiter);
      }
      throw error;
    } finally {
      lock.unlock();
      finish(effects);
    }
  }

  private void cancel(Waiter waiter) {
    lock.lock();
    try {
      waiter.cancelled = true;
      waiter.wakeup.signal();
    } finally {
      lock.unlock();
    }
  }

  /** Turns room granted under the lock into a lease, or into a slot for the caller to start. */
  private Grant take(PooledProcess granted, Instant now, PoolEffects effects) {
    return granted.isStarted()
        ? new Grant(ledger.commit(granted, now, effects), null)
        : new Grant(null, granted);
  }

  /** Starts the process of a slot reserved for this caller, without the lock. */
  private Lease start(PooledProcess slot, Cancellation cancellation) {
    ToolKey key = slot.owner.key;
    ToolProcess process;
    try {
      PoolDirectories.recreate(slot.directory);
      process = factory.start(key, slot.directory);
      if (process == null) {
        throw new IllegalStateException("the process factory returned null for " + key);
      }
    } catch (IOException e) {
      abandonStart(slot, e);
      throw HearthException.internal(
          "cannot make the directory "
              + slot.directory
              + " for a persistent worker process of key "
              + key.clientKey()
              + ": "
              + e,
          e);
    } catch (RuntimeException | Error e) {
      abandonStart(slot, e);
      throw e;
    }
    boolean cancelled = cancellation != null && cancellation.isCancelled();
    PoolEffects effects = new PoolEffects();
    lock.lock();
    try {
      Instant now = clock.instant();
      ledger.started(slot, process, now, effects);
      if (ledger.isClosing()) {
        ledger.retire(
            slot, RetirementReason.SHUTDOWN, "the pool closed while it started", now, effects);
        throw closedError();
      }
      if (cancelled) {
        // The process stays, idle, for the next request of its key.
        ledger.giveBack(slot, now, effects);
        throw cancelledError(key, "was cancelled");
      }
      return ledger.commit(slot, now, effects);
    } finally {
      lock.unlock();
      finish(effects);
    }
  }

  private void abandonStart(PooledProcess slot, Throwable failure) {
    try {
      DirectoryTrees.delete(slot.directory);
    } catch (IOException e) {
      logger.warn("could not delete the directory {}: {}", slot.directory, e.toString());
    }
    logger.warn(
        "could not start a persistent worker process of {}: {}",
        slot.owner.key,
        failure.toString());
    PoolEffects effects = new PoolEffects();
    lock.lock();
    try {
      ledger.startFailed(slot, clock.instant(), effects);
    } finally {
      lock.unlock();
      finish(effects);
    }
  }

  /** Ends a lease whose request was answered; see {@link Lease#release()}. */
  void release(Lease lease) {
    PooledProcess process = lease.slot();
    ToolProcess running = process.process;
    OptionalLong resident = OptionalLong.empty();
    boolean stillAlive = true;
    try {
      // Both may ask the operating system, so they are asked before the lock is taken.
      resident = running.residentBytes();
      stillAlive = running.isAlive();
    } catch (RuntimeException e) {
      logger.warn("could not look at {}: {}", process.describe(), e.toString());
    }
    PoolEffects effects = new PoolEffects();
    lock.lock();
    try {
      ledger.released(lease, resident.orElse(-1), stillAlive, clock.instant(), effects);
    } finally {
      lock.unlock();
      finish(effects);
    }
  }

  /** Ends a lease and retires its process; see {@link Lease#retire}. */
  void retire(Lease lease, RetirementReason reason, String detail) {
    PoolEffects effects = new PoolEffects();
    lock.lock();
    try {
      ledger.retired(lease, reason, detail, clock.instant(), effects);
    } finally {
      lock.unlock();
      finish(effects);
    }
  }

  /** Hands a retired process to the retirement executor; called without the lock. */
  private void beginEnd(
      PooledProcess process, RetirementReason reason, CompletableFuture<Void> ended) {
    Runnable end = () -> end(process, reason, ended);
    try {
      retirementExecutor.execute(end);
    } catch (RejectedExecutionException e) {
      end.run();
    }
  }

  /** Ends a retired process and deletes its directory, then frees its slot. */
  private void end(PooledProcess process, RetirementReason reason, CompletableFuture<Void> ended) {
    String who = process.describe();
    try {
      long startNanos = System.nanoTime();
      try {
        if (reason == RetirementReason.CRASH || reason == RetirementReason.CANCELLED) {
          process.process.kill();
        } else {
          process.process.shutdown(shutdownGrace);
        }
      } catch (RuntimeException e) {
        logger.warn("could not end {}: {}", who, e.toString(), e);
      }
      try {
        DirectoryTrees.delete(process.directory);
      } catch (IOException e) {
        logger.warn("could not delete the directory {} of {}: {}", process.directory, who, e);
      }
      logger.info(
          "{} has ended ({}) in {}",
          who,
          reason.label(),
          Durations.format(Duration.ofNanos(System.nanoTime() - startNanos)));
    } finally {
      PoolEffects effects = new PoolEffects();
      lock.lock();
      try {
        ledger.ended(process, clock.instant(), effects);
      } finally {
        lock.unlock();
        finish(effects);
        ended.complete(null);
        ledger.pendingEnds.remove(ended);
      }
    }
  }

  /**
   * Retires every process idle for longer than its key's idle timeout, and every idle process that
   * has ended on its own ({@link RetirementReason#CRASH}); forgets keys long unused. The pool calls
   * it periodically (see {@link ToolPoolBuilder#sweepInterval}); tests and embedders may call it at
   * any time.
   *
   * @return the number of processes retired
   */
  public int retireIdle() {
    PoolEffects effects = new PoolEffects();
    List<PooledProcess> stillIdle = new ArrayList<>();
    int retired;
    lock.lock();
    try {
      if (ledger.isClosing()) {
        return 0;
      }
      retired = ledger.retireIdle(clock.instant(), effects, stillIdle);
    } finally {
      lock.unlock();
      finish(effects);
    }
    // isAlive() may ask the operating system, so it is asked without the lock.
    List<PooledProcess> dead = new ArrayList<>();
    for (PooledProcess process : stillIdle) {
      if (!process.process.isAlive()) {
        dead.add(process);
      }
    }
    if (dead.isEmpty()) {
      return retired;
    }
    PoolEffects deadEffects = new PoolEffects();
    lock.lock();
    try {
      Instant now = clock.instant();
      for (PooledProcess process : dead) {
        if (process.isIdle()) {
          ledger.retire(process, RetirementReason.CRASH, "it ended while idle", now, deadEffects);
          retired++;
        }
      }
      ledger.dispatch(now, deadEffects);
    } finally {
      lock.unlock();
      finish(deadEffects);
    }
    return retired;
  }

  private void sweepQuietly() {
    try {
      retireIdle();
    } catch (RuntimeException e) {
      logger.warn("the persistent worker pool's idle sweep failed", e);
    }
  }

  /**
   * For each client key, the number of its processes that could take a request now: idle ones, and
   * multiplex ones with room for one more. Keys with none are absent. Scheduling prefers workers
   * that report the key of an action here. Empty once the pool is closed.
   *
   * @return an immutable map, ordered by client key
   */
  public Map<String, Integer> idleByClientKey() {
    lock.lock();
    try {
      return ledger.idleByClientKey();
    } finally {
      lock.unlock();
    }
  }

  /**
   * Calls {@code listener} whenever {@link #idleByClientKey()} may have changed; it may also be
   * called when nothing changed. It runs on the thread that caused the change, without the pool's
   * lock, so it should be quick; it may call the pool. An exception it throws is logged.
   */
  public void addIdleListener(Runnable listener) {
    idleListeners.add(Objects.requireNonNull(listener, "listener"));
  }

  /** Stops calling {@code listener}; nothing happens if it was not added. */
  public void removeIdleListener(Runnable listener) {
    idleListeners.remove(listener);
  }

  /** A snapshot of the pool's processes and counters. */
  public PoolStats stats() {
    lock.lock();
    try {
      return ledger.stats(clock.instant());
    } finally {
      lock.unlock();
    }
  }

  /**
   * Closes the pool: stops the sweeps, fails waiting and later acquires with UNAVAILABLE, shuts
   * every process down in parallel with the shutdown grace (requests in flight fail), waits for
   * starts under way, and returns once every process has ended. Idempotent; a second call waits for
   * the first to finish.
   */
  @Override
  public void close() {
    PoolEffects effects = new PoolEffects();
    boolean first;
    lock.lock();
    try {
      first = !ledger.isClosing();
      if (first) {
        ledger.close(clock.instant(), effects);
      }
    } finally {
      lock.unlock();
    }
    if (!first) {
      closed.join();
      return;
    }
    try {
      if (sweep != null) {
        sweep.cancel(false);
      }
      finish(effects);
      lock.lock();
      try {
        // A start under way retires what it started once it sees the pool closing.
        while (ledger.starting() > 0) {
          ledger.noneStarting.awaitUninterruptibly();
        }
      } finally {
        lock.unlock();
      }
      CompletableFuture.allOf(ledger.pendingEnds.toArray(CompletableFuture<?>[]::new)).join();
      logger.info("the persistent worker pool in {} has closed", directory);
    } finally {
      if (ownedTimer != null) {
        ownedTimer.shutdownNow();
      }
      if (ownedRetirementExecutor != null) {
        ownedRetirementExecutor.shutdown();
      }
      closed.complete(null);
    }
  }

  /** See {@link PoolLedger#checkInvariants()}. */
  void checkInvariants() {
    lock.lock();
    try {
      ledger.checkInvariants();
    } finally {
      lock.unlock();
    }
  }

  private void finish(PoolEffects effects) {
    effects.runActions();
    if (effects.isIdleChanged()) {
      for (Runnable listener : idleListeners) {
        try {
          listener.run();
        } catch (RuntimeException e) {
          logger.warn("an idle listener of the persistent worker pool failed", e);
        }
      }
    }
  }

  private static HearthException closedError() {
    return new HearthException(
        StatusCode.UNAVAILABLE,
        "the persistent worker pool is closed; the worker is shutting down");
  }

  private static HearthException cancelledError(ToolKey key, String what) {
    return new HearthException(
        StatusCode.CANCELLED,
        "the action "
            + what
            + " while it waited for a persistent worker process of key "
            + key.clientKey());
  }

  private HearthException exhaustedError(KeyPool keyPool, Duration waited) {
    return new HearthException(
        StatusCode.RESOURCE_EXHAUSTED,
        "no persistent worker process of "
            + keyPool.key
            + " became free within "
            + Durations.format(waited)
            + " ("
            + ledger.capacityText(keyPool)
            + "); raise maxProcessesPerKey or the pool's maxProcesses, wait longer, or let the"
            + " key run one-shot at capacity");
  }

  /** Either a lease, or a reserved slot whose process the caller starts. */
  private record Grant(Lease lease, PooledProcess toStart) {}
}
