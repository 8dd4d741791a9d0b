package build.hearth.core.worker;

import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.execution.ActionRunner;
import build.hearth.core.execution.Cancellation;
import build.hearth.core.internal.Durations;
import build.hearth.core.internal.Threads;
import build.hearth.core.scheduler.Assignment;
import build.hearth.core.scheduler.Scheduler;
import build.hearth.core.scheduler.WarmWorkers;
import build.hearth.core.scheduler.WorkerListener;
import build.hearth.core.scheduler.WorkerSession;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import build.hearth.spi.worker.WorkerSpec;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker that runs the scheduler's actions on this machine, as many at once as its spec has
 * slots, each on a thread of its own pool through an {@link ActionRunner}.
 *
 * <pre>{@code
 * try (LocalWorker worker = LocalWorker.newBuilder()
 *         .spec(WorkerSpec.builder("local").slots(4).property("OSFamily", "Linux").build())
 *         .runner(runner)
 *         .build()) {
 *   worker.connect(scheduler);
 *   ...
 * }
 * }</pre>
 *
 * <p>{@link #assign} hands the assignment to a slot thread and returns at once, so the scheduler's
 * callback thread never waits for an action. The slot thread answers it: with {@link
 * Assignment#complete} and the runner's outcome (also when the command timed out or was cancelled),
 * or with {@link Assignment#fail} when the runner throws a {@link HearthException}; any other
 * exception is logged and reported as INTERNAL with its message. {@link #cancel} fires the
 * assignment's {@link Cancellation}, so the runner kills the command and the slot is answered
 * within moments.
 *
 * <p>Thread-safe. It does not own the runner: close the runner after the worker.
 */
public final class LocalWorker
    implements WorkerListener<ExecutionTask, ActionOutcome>, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LocalWorker.class);

  private final WorkerSpec spec;
  private final ActionRunner runner;
  private final WarmWorkers warmWorkers; // null when the scheduler does not route on warm processes
  private final Duration closeTimeout;
  private final ThreadPoolExecutor slotThreads;
  private final Map<Assignment<ExecutionTask, ActionOutcome>, Cancellation> running =
      new ConcurrentHashMap<>();
  private final Object lifecycle = new Object();
  private WorkerSession session;
  private boolean closed;
  // The last reportWarmProcesses state, reported again on connect; guarded by lifecycle.
  private Map<String, Integer> warmProcesses = Map.of();

  private LocalWorker(Builder b) {
    this.spec = b.spec;
    this.runner = b.runner;
    this.warmWorkers = b.warmWorkers;
    this.closeTimeout = b.closeTimeout;
    // As many threads as slots: the scheduler never assigns more, though the next assignment may
    // arrive while the thread whose answer freed the slot is still returning, so it can queue.
    this.slotThreads =
        new ThreadPoolExecutor(
            spec.slots(),
            spec.slots(),
            0,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            Threads.daemon("hearth-worker-" + spec.name() + "-slot-"));
  }

  public static Builder newBuilder() {
    return new Builder();
  }

  /** What this worker tells the scheduler when it connects. */
  public WorkerSpec spec() {
    return spec;
  }

  /**
   * Connects this worker to {@code scheduler} with its spec.
   *
   * @throws IllegalStateException if it is connected already, or closed
   * @throws HearthException what {@link Scheduler#connect} throws
   */
  public WorkerSession connect(Scheduler<ExecutionTask, ActionOutcome> scheduler) {
    Objects.requireNonNull(scheduler, "scheduler");
    synchronized (lifecycle) {
      if (closed) {
        throw new IllegalStateException("worker '" + spec.name() + "' is closed");
      }
      if (session != null && session.isConnected()) {
        throw new IllegalStateException("worker '" + spec.name() + "' is connected already");
      }
      session = scheduler.connect(spec, this);
      if (warmWorkers != null) {
        warmWorkers.report(spec.name(), warmProcesses);
      }
      return session;
    }
  }

  /**
   * Tells the scheduler's {@link WarmWorkers} (given to {@link Builder#warmWorkers}) how many idle
   * persistent-worker processes this worker holds per client key, so that actions of those keys
   * come here first. Call it whenever the counts change, and before answering the action whose end
   * freed a process; each call replaces the previous state whole. The state is kept, and reported
   * again when the worker connects. Does nothing without a {@link WarmWorkers}. Never blocks on
   * anything slow.
   */
  public void reportWarmProcesses(Map<String, Integer> idleByClientKey) {
    Map<String, Integer> idle = Map.copyOf(idleByClientKey);
    if (warmWorkers == null) {
      return;
    }
    synchronized (lifecycle) {
      // Under the lock, so that connect() cannot report an older state after this one.
      warmProcesses = idle;
      if (session != null && session.isConnected()) {
        warmWorkers.report(spec.name(), idle);
      }
    }
  }

  /**
   * Runs {@code assignment} on a slot thread.
   *
   * @throws HearthException UNAVAILABLE if the worker is closed, which makes the scheduler
   *     disconnect it and give the action to another worker
   */
  @Override
  public void assign(Assignment<ExecutionTask, ActionOutcome> assignment) {
    Cancellation cancellation = new Cancellation();
    // Registered before the thread starts, so a cancel that overtakes it still finds it.
    running.put(assignment, cancellation);
    try {
      slotThreads.execute(() -> runInSlot(assignment, cancellation));
    } catch (RejectedExecutionException e) {
      running.remove(assignment);
      throw HearthException.unavailable("worker '" + spec.name() + "' is closed", e);
    }
  }

  @Override
  public void cancel(Assignment<ExecutionTask, ActionOutcome> assignment) {
    Cancellation cancellation = running.get(assignment);
    if (cancellation != null) {
      cancellation.cancel();
    }
  }

  private void runInSlot(
      Assignment<ExecutionTask, ActionOutcome> assignment, Cancellation cancellation) {
    String name = assignment.request().name();
    try {
      if (cancellation.isCancelled() || assignment.isCancelled()) {
        assignment.fail(
            new HearthException(
                StatusCode.CANCELLED, "action '" + name + "' was cancelled before it started"));
        return;
      }
      ActionOutcome outcome = runner.run(assignment.request().task(), cancellation);
      assignment.complete(outcome);
    } catch (HearthException e) {
      assignment.fail(e);
    } catch (RuntimeException | Error e) {
      log.error("Worker '{}' failed to run action '{}'", spec.name(), name, e);
      assignment.fail(
          HearthException.internal(
              "worker '" + spec.name() + "' failed to run the action: " + e, e));
      if (e instanceof Error error) {
        throw error;
      }
    } finally {
      running.remove(assignment);
    }
  }

  /**
   * Disconnects from the scheduler (which gives the running actions to other workers), cancels what
   * still runs, and waits up to the close timeout for the slots to answer; threads still busy after
   * that are interrupted. Idempotent.
   */
  @Override
  public void close() {
    WorkerSession toDisconnect;
    synchronized (lifecycle) {
      if (closed) {
        return;
      }
      closed = true;
      toDisconnect = session;
    }
    if (toDisconnect != null) {
      toDisconnect.disconnect();
    }
    slotThreads.shutdown();
    List.copyOf(running.values()).forEach(Cancellation::cancel);
    try {
      if (!slotThreads.awaitTermination(closeTimeout.toNanos(), TimeUnit.NANOSECONDS)) {
        log.warn(
            "Worker '{}': {} actions still running {} after they were cancelled; interrupting them",
            spec.name(),
            running.size(),
            Durations.format(closeTimeout));
        slotThreads.shutdownNow();
      }
    } catch (InterruptedException e) {
      slotThreads.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "LocalWorker{" + spec.name() + ", " + spec.slots() + " slots}";
  }

  /** Configures a {@link LocalWorker}; the spec and the runner are required. Not thread-safe. */
  public static final class Builder {
    private WorkerSpec spec;
    private ActionRunner runner;
    private WarmWorkers warmWorkers;
    private Duration closeTimeout = Duration.ofSeconds(10);

    private Builder() {}

    /** The worker's name, platform properties and number of slots. */
    public Builder spec(WorkerSpec spec) {
      this.spec = Objects.requireNonNull(spec, "spec");
      return this;
    }

    /**
     * The scorer of the scheduler this worker connects to, which {@link
     * LocalWorker#reportWarmProcesses} reports to; none by default.
     */
    public Builder warmWorkers(WarmWorkers warmWorkers) {
      this.warmWorkers = Objects.requireNonNull(warmWorkers, "warmWorkers");
      return this;
    }

    /** Runs the actions; the caller keeps owning it. */
    public Builder runner(ActionRunner runner) {
      this.runner = Objects.requireNonNull(runner, "runner");
      return this;
    }

    /**
     * How long {@link LocalWorker#close()} waits for cancelled actions to end; 10 seconds by
     * default.
     */
    public Builder closeTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative()) {
        throw new IllegalArgumentException("closeTimeout must not be negative: " + timeout);
      }
      this.closeTimeout = timeout;
      return this;
    }

    /**
     * Starts the slot threads (lazily, as actions arrive).
     *
     * @throws IllegalStateException if the spec or the runner is missing
     */
    public LocalWorker build() {
      if (spec == null || runner == null) {
        throw new IllegalStateException("LocalWorker needs a spec and a runner");
      }
      return new LocalWorker(this);
    }
  }
}
