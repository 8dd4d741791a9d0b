package build.hearth.core.scheduler;

import build.hearth.core.internal.Threads;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.LongSupplier;

/**
 * Builds a {@link Scheduler}; obtained from {@link Scheduler#newBuilder()}. Each setter checks its
 * argument and throws {@link IllegalArgumentException} for a bad one. Not thread-safe.
 */
public final class SchedulerBuilder {
  /**
   * How long past an action's timeout a worker may hold it without answering, by default: 1 minute,
   * enough to fetch inputs before the command starts and upload outputs after it ends.
   */
  public static final Duration DEFAULT_ASSIGNMENT_GRACE = Duration.ofMinutes(1);

  /**
   * How many actions may wait in the queue at once, by default: 10,000, far more than a busy build
   * farm queues, yet a bound on what a flood of Execute calls can hold in memory.
   */
  public static final int DEFAULT_MAX_QUEUED_ACTIONS = 10_000;

  private final Map<String, PropertyType> propertyTypes = new TreeMap<>();
  private PropertyType unknownPropertyType;
  private Duration maxQueueTime = Duration.ofHours(1);
  private int maxRetries = 3;
  private Duration assignmentGrace = DEFAULT_ASSIGNMENT_GRACE;
  private int maxQueuedActions = DEFAULT_MAX_QUEUED_ACTIONS;
  private String name = "";
  private Clock clock = Clock.systemUTC();
  private LongSupplier ticker = System::nanoTime;
  private Executor callbackExecutor;
  private Duration expiryCheckInterval = Duration.ofSeconds(1);
  private ScheduledExecutorService timer;
  private WorkerScorer workerScorer = WorkerScorer.NONE;
  private SchedulerListener listener = SchedulerListener.NONE;

  SchedulerBuilder() {}

  /**
   * Gives platform property {@code name} a type; a later call for the same name replaces it.
   *
   * <p>The properties of persistent-worker actions, {@code persistentWorkerKey}, {@code
   * persistentWorkerTool}, {@code persistentWorkerProtocol} and {@code persistentWorkerMultiplex},
   * are {@link PropertyType#IGNORE} unless given a type here: they are used for routing (see {@link
   * WarmWorkers}) and by the worker, not for matching. So is {@code cache-silo-key} ({@link
   * PlatformLexicon#CACHE_SILO_KEY}), which only keys the action cache. The sandbox's {@code
   * network} is {@link PropertyType#EXACT} and its {@code memoryLimit} and {@code processLimit} are
   * {@link PropertyType#IGNORE} unless given a type here (see {@link SandboxPlatformProperties}).
   */
  public SchedulerBuilder propertyType(String name, PropertyType type) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("a platform property needs a name");
    }
    propertyTypes.put(name, type);
    return this;
  }

  /** Calls {@link #propertyType} for each entry. */
  public SchedulerBuilder propertyTypes(Map<String, PropertyType> types) {
    types.forEach(this::propertyType);
    return this;
  }

  /**
   * The type of action properties that have no type of their own. By default there is none, and an
   * action naming such a property fails with INVALID_ARGUMENT, which is what REAPI asks of servers
   * and catches typos. {@link PropertyType#EXACT} instead accepts any property and requires workers
   * to offer it; {@link PropertyType#IGNORE} accepts and disregards it. {@link
   * PropertyType#MINIMUM} is not allowed, since it would make every worker property a number.
   *
   * @param type the type, or null for none
   */
  public SchedulerBuilder unknownPropertyType(PropertyType type) {
    if (type == PropertyType.MINIMUM) {
      throw new IllegalArgumentException(
          "unknown properties cannot be MINIMUM; give each numeric property its own type");
    }
    this.unknownPropertyType = type;
    return this;
  }

  /**
   * How long an action may wait in the queue before it fails with UNAVAILABLE; 1 hour by default.
   */
  public SchedulerBuilder maxQueueTime(Duration maxQueueTime) {
    Objects.requireNonNull(maxQueueTime, "maxQueueTime");
    if (maxQueueTime.isNegative() || maxQueueTime.isZero()) {
      throw new IllegalArgumentException("maxQueueTime must be positive: " + maxQueueTime);
    }
    this.maxQueueTime = maxQueueTime;
    return this;
  }

  /**
   * How many times an action is queued again after its worker disconnected while running it; 3 by
   * default. After one more loss it fails with UNAVAILABLE. 0 fails it on the first loss.
   */
  public SchedulerBuilder maxRetries(int maxRetries) {
    if (maxRetries < 0) {
      throw new IllegalArgumentException("maxRetries must not be negative: " + maxRetries);
    }
    this.maxRetries = maxRetries;
    return this;
  }

  /**
   * How many actions may wait in the queue at once; {@link #DEFAULT_MAX_QUEUED_ACTIONS} by default.
   * A {@linkplain Scheduler#submit submission} that would wait beyond it is refused with
   * RESOURCE_EXHAUSTED (limit {@code scheduler_queue}) and a hint to retry a little later. Actions
   * queued again after losing their worker were admitted already and are never refused.
   */
  public SchedulerBuilder maxQueuedActions(int maxQueuedActions) {
    if (maxQueuedActions < 1) {
      throw new IllegalArgumentException("maxQueuedActions must be positive: " + maxQueuedActions);
    }
    this.maxQueuedActions = maxQueuedActions;
    return this;
  }

  /**
   * The scheduler's name in the configuration, used in messages that point at its fields, such as a
   * refusal naming {@code schedulers.NAME.maxQueuedActions}; empty by default.
   */
  public SchedulerBuilder name(String name) {
    this.name = Objects.requireNonNull(name, "name");
    return this;
  }

  /**
   * How long past an action's {@linkplain ActionRequest#timeout() timeout} a worker may hold its
   * assignment without answering; {@link #DEFAULT_ASSIGNMENT_GRACE} by default. The grace covers
   * what a worker does outside the command's timeout: fetching inputs, uploading outputs, the
   * answer's way back. A worker that holds an assignment longer (it is alive, but the action hangs
   * or the worker lies) loses it: the worker is told to cancel it, its slot stays taken until it
   * answers, and the action is queued again like one whose worker was lost, or fails with
   * DEADLINE_EXCEEDED once the {@linkplain #maxRetries retries} are used up. Checked every {@link
   * #expiryCheckInterval}, on the {@link #ticker}.
   */
  public SchedulerBuilder assignmentGrace(Duration grace) {
    Objects.requireNonNull(grace, "grace");
    if (grace.isNegative()) {
      throw new IllegalArgumentException("assignmentGrace must not be negative: " + grace);
    }
    this.assignmentGrace = grace;
    return this;
  }

  /**
   * The monotonic time source, in nanoseconds, that assignment deadlines are measured with; {@code
   * System::nanoTime} by default, so that a step of the wall clock (NTP, a resumed virtual machine)
   * takes no assignment back. Only differences of its values count. Tests pass a fake.
   */
  public SchedulerBuilder ticker(LongSupplier nanoTime) {
    this.ticker = Objects.requireNonNull(nanoTime, "nanoTime");
    return this;
  }

  /** The clock that queue times are measured with; the system clock by default. */
  public SchedulerBuilder clock(Clock clock) {
    this.clock = Objects.requireNonNull(clock, "clock");
    return this;
  }

  /**
   * Where {@link WorkerListener} calls run. By default the scheduler creates a cached pool of
   * daemon threads and shuts it down on {@link Scheduler#close()}; an executor given here is not
   * shut down. {@code Runnable::run} makes the calls on the thread that caused them, after the
   * scheduler's lock is released, which suits tests and listeners that never block.
   */
  public SchedulerBuilder callbackExecutor(Executor executor) {
    this.callbackExecutor = Objects.requireNonNull(executor, "executor");
    return this;
  }

  /**
   * How often the scheduler calls {@link Scheduler#expireOverdue()}; 1 second by default. Zero
   * turns the automatic checks off, and the embedder calls it instead.
   */
  public SchedulerBuilder expiryCheckInterval(Duration interval) {
    Objects.requireNonNull(interval, "interval");
    if (interval.isNegative()) {
      throw new IllegalArgumentException("expiryCheckInterval must not be negative: " + interval);
    }
    this.expiryCheckInterval = interval;
    return this;
  }

  /**
   * The executor that runs the periodic expiry checks. By default the scheduler creates a daemon
   * thread and stops it on {@link Scheduler#close()}; an executor given here is not shut down, only
   * the scheduler's task on it is cancelled.
   */
  public SchedulerBuilder timer(ScheduledExecutorService timer) {
    this.timer = Objects.requireNonNull(timer, "timer");
    return this;
  }

  /**
   * Ranks suitable workers beyond the priority properties; {@link WorkerScorer#NONE} by default.
   */
  public SchedulerBuilder workerScorer(WorkerScorer scorer) {
    this.workerScorer = Objects.requireNonNull(scorer, "scorer");
    return this;
  }

  /** Hears what the scheduler does with actions; {@link SchedulerListener#NONE} by default. */
  public SchedulerBuilder listener(SchedulerListener listener) {
    this.listener = Objects.requireNonNull(listener, "listener");
    return this;
  }

  /**
   * Builds the scheduler, starting the threads it owns.
   *
   * @throws IllegalStateException if a timer was given but the expiry check interval is zero
   */
  public <T, R> Scheduler<T, R> build() {
    checkTimer();
    return new DefaultScheduler<>(
        propertyTypes(),
        maxQueueTime,
        maxRetries,
        assignmentGrace,
        maxQueuedActions,
        name,
        clock,
        ticker,
        callbackExecutor,
        expiryCheckInterval,
        timer,
        workerScorer,
        listener);
  }

  /**
   * Builds a scheduler whose queue, claims and worker registry live in a state shared by the
   * servers of one service: actions submitted through any of them run on the workers of all, and
   * survive this server. The {@linkplain #expiryCheckInterval expiry check interval} is also the
   * period at which it re-reads the state, renews its workers' leases and claims work
   * (notifications come sooner, but may be lost); the {@linkplain #workerScorer scorer} is not
   * used.
   *
   * @param shared the state and what the scheduler stores in it
   * @param <T> the type of the tasks
   * @param <R> the type of the results
   * @return the scheduler, already listening to the state
   * @throws IllegalStateException if a timer was given but the expiry check interval is zero
   */
  public <T, R> Scheduler<T, R> build(SharedState<T, R> shared) {
    Objects.requireNonNull(shared, "shared");
    checkTimer();
    List<AutoCloseable> owned = new ArrayList<>();
    Executor callbacks = callbackExecutor;
    if (callbacks == null) {
      ExecutorService pool =
          Executors.newCachedThreadPool(Threads.daemon("hearth-scheduler-callback-"));
      owned.add(pool::shutdown);
      callbacks = pool;
    }
    ScheduledExecutorService ticks = timer;
    if (ticks == null && !expiryCheckInterval.isZero()) {
      ScheduledExecutorService own =
          Executors.newSingleThreadScheduledExecutor(Threads.daemon("hearth-scheduler-timer-"));
      owned.add(own::shutdown);
      ticks = own;
    }
    return new SharedScheduler<>(
        shared,
        name,
        propertyTypes(),
        maxQueueTime,
        maxRetries,
        maxQueuedActions,
        assignmentGrace,
        clock,
        callbacks,
        ticks,
        expiryCheckInterval,
        listener,
        workerScorer,
        () -> owned.forEach(SchedulerBuilder::closeQuietly));
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception e) {
      throw new IllegalStateException("closing a scheduler thread pool failed", e);
    }
  }

  private void checkTimer() {
    if (timer != null && expiryCheckInterval.isZero()) {
      throw new IllegalStateException(
          "a timer was given but expiryCheckInterval is zero; set a positive interval");
    }
  }

  private PropertyTypes propertyTypes() {
    Map<String, PropertyType> types = new TreeMap<>(propertyTypes);
    // They route a persistent-worker action; none may restrict which workers can run it.
    for (String name : PersistentWorkerProperties.ALL) {
      types.putIfAbsent(name, PropertyType.IGNORE);
    }
    // It only keys the action cache (the platform is part of the action's digest).
    types.putIfAbsent(PlatformLexicon.CACHE_SILO_KEY, PropertyType.IGNORE);
    // Workers offer the network their sandbox gives actions; the limits are the worker's to check.
    types.putIfAbsent(SandboxPlatformProperties.NETWORK, PropertyType.EXACT);
    for (String name : SandboxPlatformProperties.WORKER_ENFORCED) {
      types.putIfAbsent(name, PropertyType.IGNORE);
    }
    return new PropertyTypes(types, unknownPropertyType);
  }
}
