package build.hearth.core.scheduler;

import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.internal.Durations;
import build.hearth.core.internal.Threads;
import build.hearth.core.scheduler.ActiveAssignment.State;
import build.hearth.core.scheduler.Ticket.Stage;
import build.hearth.spi.worker.WorkerSpec;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler. One lock guards the queues and the worker bookkeeping; it is held only for
 * in-memory work, and everything that leaves the scheduler (listener calls, result futures) is
 * collected in an {@link Effects} and carried out after the lock is released.
 *
 * <p>Actions queue per {@link Requirements.Key}, and each queue knows the workers that meet its
 * key, so dispatch costs a look at the queues a worker can serve (when a slot frees up) or at the
 * workers a queue can use (when an action arrives), not a scan of all queued actions. That rests on
 * one invariant, restored by every operation before it releases the lock: <em>no worker that meets
 * a non-empty queue has a free slot.</em> So an action arriving at a non-empty queue simply joins
 * it, and a freed slot goes to the best head among the worker's queues.
 */
final class DefaultScheduler<T, R> implements Scheduler<T, R> {
  private static final Logger logger = LoggerFactory.getLogger(DefaultScheduler.class);

  // Beyond this an assignment's deadline is not kept: far past any real timeout, and its
  // nanoseconds could overflow.
  private static final Duration MAX_DEADLINE = Duration.ofDays(365 * 100);

  // A full queue drains as workers finish actions; a second is a polite first wait.
  private static final Duration QUEUE_FULL_RETRY_AFTER = Duration.ofSeconds(1);

  private static final Comparator<ActiveAssignment<?, ?>> DEADLINE_ORDER =
      Comparator.<ActiveAssignment<?, ?>>comparingLong(assignment -> assignment.deadlineNanos)
          .thenComparingLong(assignment -> assignment.sequence);

  private final PropertyTypes types;
  private final Duration maxQueueTime;
  private final int maxRetries;
  private final Duration assignmentGrace;
  private final int maxQueuedActions;
  private final String name;
  private final Clock clock;
  private final LongSupplier ticker;
  private final GuardedScorer scorer;
  private final SchedulerListener listener;
  private final Executor callbackExecutor;
  private final ExecutorService ownedCallbackExecutor;
  private final ScheduledExecutorService ownedTimer;
  private final ScheduledFuture<?> expiryTask;

  private final ReentrantLock lock = new ReentrantLock();
  private final Map<Requirements.Key, ActionQueue<T, R>> queues = new HashMap<>();
  private final Set<WorkerState<T, R>> workers = new LinkedHashSet<>();
  // Every queued action, oldest queue entry first. The maximum queue time is the same for all, so
  // this is also deadline order, and expiry only ever looks at the head.
  private final LinkedHashSet<QueuedAction<T, R>> byQueueTime = new LinkedHashSet<>();
  // Every active assignment that has a deadline, the first due first.
  private final TreeSet<ActiveAssignment<T, R>> byDeadline = new TreeSet<>(DEADLINE_ORDER);
  private long nextSequence;
  private long nextAssignment;
  private long overdue;
  private int executing;
  private int slots;
  private int busySlots;
  private long requeued;
  private boolean closed;

  DefaultScheduler(
      PropertyTypes types,
      Duration maxQueueTime,
      int maxRetries,
      Duration assignmentGrace,
      int maxQueuedActions,
      String name,
      Clock clock,
      LongSupplier ticker,
      Executor callbackExecutor,
      Duration expiryCheckInterval,
      ScheduledExecutorService timer,
      WorkerScorer scorer,
      SchedulerListener listener) {
    this.types = types;
    this.maxQueueTime = maxQueueTime;
    this.maxRetries = maxRetries;
    this.assignmentGrace = assignmentGrace;
    this.maxQueuedActions = maxQueuedActions;
    this.name = name;
    this.clock = clock;
    this.ticker = ticker;
    this.scorer = new GuardedScorer(scorer);
    this.listener = listener;
    if (callbackExecutor == null) {
      ownedCallbackExecutor =
          Executors.newCachedThreadPool(Threads.daemon("hearth-scheduler-callback-"));
      this.callbackExecutor = ownedCallbackExecutor;
    } else {
      ownedCallbackExecutor = null;
      this.callbackExecutor = callbackExecutor;
    }
    if (expiryCheckInterval.isZero()) {
      ownedTimer = null;
      expiryTask = null;
    } else {
      ownedTimer =
          timer == null
              ? Executors.newSingleThreadScheduledExecutor(
                  Threads.daemon("hearth-scheduler-timer-"))
              : null;
      long millis = Math.max(1, expiryCheckInterval.toMillis());
      expiryTask =
          (timer != null ? timer : ownedTimer)
              .scheduleWithFixedDelay(this::expireQuietly, millis, millis, TimeUnit.MILLISECONDS);
    }
  }

  @Override
  public Ticket<R> submit(ActionRequest<T> request) {
    Objects.requireNonNull(request, "request");
    Requirements requirements;
    HearthException invalid = null;
    try {
      requirements = Requirements.parse(request.name(), request.platform(), types);
    } catch (HearthException e) {
      requirements = null;
      invalid = e;
    }
    QueuedAction<T, R> action = new QueuedAction<>(this, request, requirements);
    Effects effects = new Effects();
    lock.lock();
    try {
      if (invalid == null && !closed && byQueueTime.size() >= maxQueuedActions) {
        throw queueFull(request);
      }
      if (invalid != null) {
        finish(action, null, invalid, effects);
      } else if (closed) {
        finish(action, null, closedError(action), effects);
      } else {
        action.sequence = nextSequence++;
        ActionQueue<T, R> queue = queues.get(action.key());
        // A draining worker is in no eligible set but still counts here: an action only it could
        // run waits for its replacement rather than failing.
        boolean runnable =
            workers.isEmpty()
                || (queue != null && !queue.eligible.isEmpty())
                || anyWorkerSatisfies(action.key());
        if (!runnable) {
          finish(
              action,
              null,
              HearthException.failedPrecondition(
                  "action '%s' cannot run on any of the %d connected workers: %s",
                  request.name(),
                  workers.size(),
                  Requirements.whyUnsatisfiable(action.key(), offers())),
              effects);
        } else if (enqueue(action, effects)) {
          pump(action.queue, effects);
        }
      }
    } finally {
      lock.unlock();
    }
    effects.run();
    return action;
  }

  @Override
  public WorkerSession connect(WorkerSpec spec, WorkerListener<T, R> listener) {
    Objects.requireNonNull(spec, "spec");
    Objects.requireNonNull(listener, "listener");
    WorkerState<T, R> worker =
        new WorkerState<>(
            this,
            WorkerOffer.of(spec, types),
            listener,
            new Mailbox(spec.name(), callbackExecutor));
    Effects effects = new Effects();
    lock.lock();
    try {
      if (closed) {
        throw new HearthException(
            StatusCode.UNAVAILABLE,
            "the scheduler is shut down; worker '" + spec.name() + "' cannot connect");
      }
      worker.connected = true;
      workers.add(worker);
      scorer.connected(spec);
      slots += spec.slots();
      for (ActionQueue<T, R> queue : queues.values()) {
        if (worker.satisfies(queue.key)) {
          queue.eligible.add(worker);
          worker.queues.add(queue);
        }
      }
      fill(worker, effects);
    } finally {
      lock.unlock();
    }
    effects.run();
    return worker;
  }

  @Override
  public int expireOverdue() {
    Effects effects = new Effects();
    int expired = 0;
    lock.lock();
    try {
      long now = clock.millis();
      long limit = maxQueueTime.toMillis();
      while (!byQueueTime.isEmpty()) {
        QueuedAction<T, R> action = byQueueTime.iterator().next();
        if (now - action.enqueuedAtMillis < limit) {
          break;
        }
        HearthException error = new HearthException(StatusCode.UNAVAILABLE, whyExpired(action));
        dequeue(action);
        finish(action, null, error, effects);
        expired++;
      }
      Set<ActionQueue<T, R>> grown = new LinkedHashSet<>();
      long nowNanos = ticker.getAsLong();
      while (!byDeadline.isEmpty() && byDeadline.first().deadlineNanos <= nowNanos) {
        takeBack(byDeadline.first(), nowNanos, grown, effects);
        expired++;
      }
      for (ActionQueue<T, R> queue : grown) {
        pump(queue, effects);
      }
    } finally {
      lock.unlock();
    }
    effects.run();
    return expired;
  }

  private void expireQuietly() {
    try {
      expireOverdue();
    } catch (RuntimeException e) {
      // A throwing task would never run again; keep the checks going.
      logger.error("expiring overdue actions failed", e);
    }
  }

  @Override
  public SchedulerStats stats() {
    lock.lock();
    try {
      return new SchedulerStats(
          byQueueTime.size(), executing, workers.size(), slots, busySlots, requeued, overdue);
    } finally {
      lock.unlock();
    }
  }

  @Override
  public List<WorkerSnapshot> workers() {
    lock.lock();
    try {
      List<WorkerSnapshot> snapshot = new ArrayList<>(workers.size());
      for (WorkerState<T, R> worker : workers) {
        snapshot.add(new WorkerSnapshot(worker.spec(), worker.active.size(), worker.draining));
      }
      return snapshot;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {
    Effects effects = new Effects();
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      for (QueuedAction<T, R> action : new ArrayList<>(byQueueTime)) {
        dequeue(action);
        finish(action, null, closedError(action), effects);
      }
      for (WorkerState<T, R> worker : workers) {
        worker.connected = false;
        scorer.disconnected(worker.spec());
        for (ActiveAssignment<T, R> assignment : worker.active) {
          if (assignment.state == State.ACTIVE) {
            executing--;
            finish(assignment.action, null, closedError(assignment.action), effects);
            worker.mailbox.post(() -> deliverCancel(assignment));
            effects.wake(worker.mailbox);
          }
          assignment.state = State.REVOKED;
        }
        worker.active.clear();
        worker.queues.clear();
      }
      workers.clear();
      byDeadline.clear();
      slots = 0;
      busySlots = 0;
    } finally {
      lock.unlock();
    }
    effects.run();
    if (expiryTask != null) {
      expiryTask.cancel(false);
    }
    if (ownedTimer != null) {
      ownedTimer.shutdown();
    }
    if (ownedCallbackExecutor != null) {
      // shutdown(), not shutdownNow(): the cancellations posted above are still delivered.
      ownedCallbackExecutor.shutdown();
    }
  }

  /** Cancels an action; {@code completeResult} is false when its future is already complete. */
  boolean cancel(QueuedAction<T, R> action, boolean completeResult) {
    Effects effects = new Effects();
    lock.lock();
    try {
      if (action.stage == Stage.COMPLETED) {
        return false;
      }
      if (action.stage == Stage.QUEUED) {
        dequeue(action);
      } else {
        ActiveAssignment<T, R> assignment = action.current;
        // The slot stays taken until the worker answers: the work may still be running there.
        byDeadline.remove(assignment);
        assignment.state = State.CANCELLED;
        action.current = null;
        executing--;
        assignment.worker.mailbox.post(() -> deliverCancel(assignment));
        effects.wake(assignment.worker.mailbox);
      }
      setStage(action, Stage.COMPLETED, effects);
      if (completeResult) {
        effects.fail(
            action.result,
            new HearthException(
                StatusCode.CANCELLED, "action '" + action.request.name() + "' was cancelled"));
      }
    } finally {
      lock.unlock();
    }
    effects.run();
    return true;
  }

  /** A worker's answer; both null releases a cancelled assignment that was never delivered. */
  boolean answer(ActiveAssignment<T, R> assignment, R result, HearthException error) {
    Effects effects = new Effects();
    boolean accepted;
    lock.lock();
    try {
      switch (assignment.state) {
        case ACTIVE -> {
          accepted = true;
          byDeadline.remove(assignment);
          QueuedAction<T, R> action = assignment.action;
          action.current = null;
          executing--;
          finish(action, result, error, effects);
        }
        case CANCELLED -> accepted = false;
        default -> {
          return false;
        }
      }
      assignment.state = State.FINISHED;
      WorkerState<T, R> worker = assignment.worker;
      worker.active.remove(assignment);
      busySlots--;
      fill(worker, effects);
    } finally {
      lock.unlock();
    }
    effects.run();
    return accepted;
  }

  /**
   * Takes a worker out of dispatch: it leaves every queue's eligible set, so neither {@link #pump}
   * nor {@link #fill} gives it anything, and its assignments run on to their answers. The class
   * invariant holds for the workers that are not draining.
   *
   * <p>The listener's {@link WorkerListener#drained()} goes through the worker's mailbox, posted
   * under the lock: it follows every assignment decided before, also one still waiting in the
   * mailbox, so a remote worker that hears it knows that nothing more is on its way.
   */
  void drain(WorkerState<T, R> worker) {
    int running;
    lock.lock();
    try {
      if (!worker.connected || worker.draining) {
        return;
      }
      worker.draining = true;
      for (ActionQueue<T, R> queue : worker.queues) {
        queue.eligible.remove(worker);
      }
      worker.queues.clear();
      running = worker.active.size();
      worker.mailbox.post(() -> deliverDrained(worker));
    } finally {
      lock.unlock();
    }
    worker.mailbox.schedule();
    logger.info(
        "worker '{}' is draining: it gets no new actions and finishes the {} it runs",
        worker.spec().name(),
        running);
  }

  /**
   * Removes a worker. {@code failure} is what its listener threw, or null when the worker left by
   * itself.
   */
  void disconnect(WorkerState<T, R> worker, Throwable failure) {
    Effects effects = new Effects();
    lock.lock();
    try {
      if (!worker.connected) {
        return;
      }
      if (failure != null) {
        worker.broken = true;
      }
      worker.connected = false;
      workers.remove(worker);
      scorer.disconnected(worker.spec());
      slots -= worker.spec().slots();
      for (ActionQueue<T, R> queue : worker.queues) {
        queue.eligible.remove(worker);
      }
      worker.queues.clear();
      Set<ActionQueue<T, R>> grown = new LinkedHashSet<>();
      for (ActiveAssignment<T, R> assignment : worker.active) {
        busySlots--;
        boolean wasActive = assignment.state == State.ACTIVE;
        byDeadline.remove(assignment);
        assignment.state = State.REVOKED;
        if (wasActive) {
          executing--;
          requeueOrFail(assignment.action, worker, grown, effects, null);
        }
      }
      worker.active.clear();
      for (ActionQueue<T, R> queue : grown) {
        pump(queue, effects);
      }
    } finally {
      lock.unlock();
    }
    effects.run();
  }

  /**
   * Takes an assignment back from a worker that held it past its deadline: the worker is told to
   * cancel it and keeps the slot until it answers (the answer is discarded), and the action is
   * queued again or fails as one lost with its worker.
   */
  private void takeBack(
      ActiveAssignment<T, R> assignment,
      long nowNanos,
      Set<ActionQueue<T, R>> grown,
      Effects effects) {
    byDeadline.remove(assignment);
    assignment.state = State.CANCELLED;
    executing--;
    overdue++;
    WorkerState<T, R> worker = assignment.worker;
    worker.mailbox.post(() -> deliverCancel(assignment));
    effects.wake(worker.mailbox);
    String why =
        String.format(
            Locale.ROOT,
            "worker '%s' held action '%s' for %s without an answer, past its timeout of %s plus the"
                + " scheduler's assignmentGrace of %s",
            worker.spec().name(),
            assignment.action.request.name(),
            Durations.format(Duration.ofNanos(Math.max(0, nowNanos - assignment.startedAtNanos))),
            Durations.format(assignment.action.request.timeout()),
            Durations.format(assignmentGrace));
    logger.warn("{}; taking it back and telling the worker to cancel it", why);
    requeueOrFail(assignment.action, worker, grown, effects, why);
  }

  /**
   * Queues an action again after it was lost with {@code worker}, or fails it once it has been lost
   * more often than the retries allow: with DEADLINE_EXCEEDED if {@code overdue} (why it was taken
   * back from a worker that held it too long) is given, else with UNAVAILABLE.
   */
  private void requeueOrFail(
      QueuedAction<T, R> action,
      WorkerState<T, R> worker,
      Set<ActionQueue<T, R>> grown,
      Effects effects,
      String overdue) {
    action.current = null;
    action.lostWith.add(worker.spec().name());
    if (action.lostWith.size() > maxRetries) {
      HearthException error =
          overdue != null
              ? new HearthException(
                  StatusCode.DEADLINE_EXCEEDED,
                  String.format(
                      Locale.ROOT,
                      "%s; the action was lost %d times (%s), giving up after %d retries",
                      overdue,
                      action.lostWith.size(),
                      String.join(", ", action.lostWith),
                      maxRetries))
              : new HearthException(
                  StatusCode.UNAVAILABLE,
                  String.format(
                      Locale.ROOT,
                      "action '%s' was lost %d times because its worker disconnected or held it"
                          + " past its deadline (%s); giving up after %d retries",
                      action.request.name(),
                      action.lostWith.size(),
                      String.join(", ", action.lostWith),
                      maxRetries));
      finish(action, null, error, effects);
      return;
    }
    action.attempt++;
    action.requeued = true;
    requeued++;
    if (enqueue(action, effects)) {
      grown.add(action.queue);
    }
  }

  /** Registers a stage listener; see {@link Ticket#addStageListener}. */
  void addStageListener(QueuedAction<T, R> action, Consumer<Stage> listener) {
    Objects.requireNonNull(listener, "listener");
    Mailbox events;
    lock.lock();
    try {
      if (action.stageEvents == null) {
        // Runnable::run: each change is told by the thread that made it, once the lock is released;
        // the mailbox keeps those calls serial and in the order the changes were made.
        action.stageEvents =
            new Mailbox("stage listeners of '" + action.request.name() + "'", Runnable::run);
        action.stageListeners = List.of(listener);
      } else {
        List<Consumer<Stage>> listeners = new ArrayList<>(action.stageListeners);
        listeners.add(listener);
        action.stageListeners = List.copyOf(listeners);
      }
      Stage current = action.stage;
      action.stageEvents.post(() -> tellStage(action, List.of(listener), current));
      events = action.stageEvents;
    } finally {
      lock.unlock();
    }
    events.schedule();
  }

  /** Moves an action to {@code stage}, telling its stage listeners once the lock is released. */
  private void setStage(QueuedAction<T, R> action, Stage stage, Effects effects) {
    if (action.stage == stage) {
      return;
    }
    action.stage = stage;
    if (action.stageListeners != null) {
      List<Consumer<Stage>> listeners = action.stageListeners;
      action.stageEvents.post(() -> tellStage(action, listeners, stage));
      effects.wake(action.stageEvents);
    }
  }

  // ---- called by the mailbox loops, without the lock ----

  private static void tellStage(
      QueuedAction<?, ?> action, List<Consumer<Stage>> listeners, Stage stage) {
    for (Consumer<Stage> listener : listeners) {
      try {
        listener.accept(stage);
      } catch (RuntimeException e) {
        logger.warn(
            "a stage listener of action '{}' failed on stage {}", action.request.name(), stage, e);
      }
    }
  }

  private void deliverAssign(ActiveAssignment<T, R> assignment) {
    switch (assignment.state) {
      case ACTIVE -> {}
      case CANCELLED -> {
        // Cancelled before the worker heard of it; the worker will never answer, so free the slot.
        answer(assignment, null, null);
        return;
      }
      default -> {
        return;
      }
    }
    WorkerState<T, R> worker = assignment.worker;
    if (worker.broken) {
      return;
    }
    assignment.delivered = true;
    try {
      worker.listener.assign(assignment);
    } catch (RuntimeException e) {
      logger.warn(
          "worker '{}' failed to take action '{}'; disconnecting it and queueing its actions again",
          worker.spec().name(),
          assignment.action.request.name(),
          e);
      disconnect(worker, e);
    }
  }

  private void deliverDrained(WorkerState<T, R> worker) {
    if (!worker.connected || worker.broken) {
      return;
    }
    try {
      worker.listener.drained();
    } catch (RuntimeException e) {
      logger.warn("worker '{}' failed to hear that it drains", worker.spec().name(), e);
    }
  }

  private void deliverCancel(ActiveAssignment<T, R> assignment) {
    WorkerState<T, R> worker = assignment.worker;
    if (!assignment.delivered || worker.broken) {
      return;
    }
    try {
      worker.listener.cancel(assignment);
    } catch (RuntimeException e) {
      logger.warn(
          "worker '{}' failed to cancel action '{}'",
          worker.spec().name(),
          assignment.action.request.name(),
          e);
    }
  }

  // ---- the queue, all with the lock held ----

  /** The refusal of a submission that finds the queue full. */
  private HearthException queueFull(ActionRequest<T> request) {
    String field =
        name.isEmpty()
            ? "the scheduler's maxQueuedActions"
            : "schedulers." + name + ".maxQueuedActions";
    return HearthException.limitReached(
        "scheduler_queue",
        QUEUE_FULL_RETRY_AFTER,
        "action '%s' was refused: the %s queue already holds %d actions (%s is %d); retry later",
        request.name(),
        name.isEmpty() ? "scheduler's" : "scheduler '" + name + "'",
        byQueueTime.size(),
        field,
        maxQueuedActions);
  }

  /**
   * Puts an action at its place in its queue, creating the queue if needed.
   *
   * @return whether the queue was empty before, in which case a suitable worker may be idle
   */
  private boolean enqueue(QueuedAction<T, R> action, Effects effects) {
    ActionQueue<T, R> queue = queues.get(action.key());
    if (queue == null) {
      queue = new ActionQueue<>(action.key());
      queues.put(queue.key, queue);
      for (WorkerState<T, R> worker : workers) {
        if (!worker.draining && worker.satisfies(queue.key)) {
          queue.eligible.add(worker);
          worker.queues.add(queue);
        }
      }
    }
    boolean wasEmpty = queue.actions.isEmpty();
    queue.actions.add(action);
    action.queue = queue;
    setStage(action, Stage.QUEUED, effects);
    action.enqueuedAtMillis = clock.millis();
    byQueueTime.add(action);
    return wasEmpty;
  }

  private void dequeue(QueuedAction<T, R> action) {
    ActionQueue<T, R> queue = action.queue;
    queue.actions.remove(action);
    byQueueTime.remove(action);
    action.queue = null;
    if (queue.actions.isEmpty()) {
      queues.remove(queue.key);
      for (WorkerState<T, R> worker : queue.eligible) {
        worker.queues.remove(queue);
      }
    }
  }

  /** Assigns the queue's actions to its idle workers, best match first, while both last. */
  private void pump(ActionQueue<T, R> queue, Effects effects) {
    while (!queue.actions.isEmpty()) {
      QueuedAction<T, R> head = queue.actions.first();
      WorkerState<T, R> worker = choose(head, queue);
      if (worker == null) {
        return;
      }
      start(head, worker, effects);
    }
  }

  /** Fills the worker's free slots with the first actions, in dispatch order, it can run. */
  private void fill(WorkerState<T, R> worker, Effects effects) {
    while (worker.connected && !worker.draining && worker.freeSlots() > 0) {
      QueuedAction<T, R> best = null;
      for (ActionQueue<T, R> queue : worker.queues) {
        QueuedAction<T, R> head = queue.actions.first();
        if (best == null || QueuedAction.DISPATCH_ORDER.compare(head, best) < 0) {
          best = head;
        }
      }
      if (best == null) {
        return;
      }
      start(best, worker, effects);
    }
  }

  /** The best worker with a free slot for {@code action}; see {@link WorkerScorer}. */
  private WorkerState<T, R> choose(QueuedAction<T, R> action, ActionQueue<T, R> queue) {
    WorkerState<T, R> best = null;
    int bestPreference = 0;
    int bestScore = 0;
    for (WorkerState<T, R> worker : queue.eligible) {
      int free = worker.freeSlots();
      if (free <= 0) {
        continue;
      }
      int preference = action.requirements.preference(worker);
      int score = scorer.score(action.request, worker.spec());
      if (best == null
          || preference > bestPreference
          || (preference == bestPreference
              && (score > bestScore || (score == bestScore && free > best.freeSlots())))) {
        best = worker;
        bestPreference = preference;
        bestScore = score;
      }
    }
    return best;
  }

  private void start(QueuedAction<T, R> action, WorkerState<T, R> worker, Effects effects) {
    dequeue(action);
    ActiveAssignment<T, R> assignment = new ActiveAssignment<>(this, action, worker);
    assignment.sequence = nextAssignment++;
    assignment.startedAtNanos = ticker.getAsLong();
    Duration timeout = action.request.timeout();
    // A deadline past the ticker's range (some 292 years) is no deadline.
    long allowed =
        timeout.plus(assignmentGrace).compareTo(MAX_DEADLINE) < 0
            ? timeout.plus(assignmentGrace).toNanos()
            : Long.MAX_VALUE;
    if (!timeout.isZero() && allowed < Long.MAX_VALUE - Math.max(0, assignment.startedAtNanos)) {
      assignment.deadlineNanos = assignment.startedAtNanos + allowed;
      byDeadline.add(assignment);
    }
    worker.active.add(assignment);
    busySlots++;
    executing++;
    action.current = assignment;
    scorer.assigned(action.request, worker.spec());
    setStage(action, Stage.EXECUTING, effects);
    worker.mailbox.post(() -> deliverAssign(assignment));
    effects.wake(worker.mailbox);
    if (listener != SchedulerListener.NONE) {
      Duration queued = Duration.ofMillis(Math.max(0, clock.millis() - action.enqueuedAtMillis));
      String actionName = action.request.name();
      String workerName = worker.spec().name();
      effects.event(() -> tellStarted(actionName, workerName, queued));
    }
  }

  private void tellStarted(String actionName, String workerName, Duration queued) {
    try {
      listener.actionStarted(actionName, workerName, queued);
    } catch (RuntimeException e) {
      logger.warn("the scheduler listener failed on the start of action '{}'", actionName, e);
    }
  }

  private void finish(QueuedAction<T, R> action, R result, HearthException error, Effects effects) {
    setStage(action, Stage.COMPLETED, effects);
    if (error != null) {
      effects.fail(action.result, error);
    } else {
      effects.succeed(action.result, result);
    }
  }

  private List<WorkerOffer> offers() {
    List<WorkerOffer> offers = new ArrayList<>(workers.size());
    for (WorkerState<T, R> worker : workers) {
      offers.add(worker.offer);
    }
    return offers;
  }

  private boolean anyWorkerSatisfies(Requirements.Key key) {
    for (WorkerState<T, R> worker : workers) {
      if (worker.satisfies(key)) {
        return true;
      }
    }
    return false;
  }

  private String whyExpired(QueuedAction<T, R> action) {
    String waited =
        String.format(
            Locale.ROOT,
            "action '%s' waited %s in the queue",
            action.request.name(),
            Durations.format(maxQueueTime));
    String lost =
        action.lostWith.isEmpty()
            ? ""
            : " (it was queued again after losing worker(s) "
                + String.join(", ", action.lostWith)
                + ")";
    if (workers.isEmpty()) {
      return waited
          + lost
          + ", and no worker is connected to the scheduler; start workers, or raise the maximum"
          + " queue time if they take long to connect";
    }
    ActionQueue<T, R> queue = action.queue;
    if (queue.eligible.isEmpty()) {
      return waited
          + lost
          + ", and no connected worker can run it: "
          + Requirements.whyUnsatisfiable(queue.key, offers());
    }
    return String.format(
        Locale.ROOT,
        "%s%s while the %d connected worker(s) that can run it were busy (%d actions queued); add"
            + " workers or raise the maximum queue time",
        waited,
        lost,
        queue.eligible.size(),
        byQueueTime.size());
  }

  private static HearthException closedError(QueuedAction<?, ?> action) {
    return new HearthException(
        StatusCode.UNAVAILABLE,
        "the scheduler shut down before action '" + action.request.name() + "' completed");
  }

  /**
   * Checks the bookkeeping against itself and against the invariant in the class comment, for
   * tests.
   *
   * @throws IllegalStateException describing the first inconsistency found
   */
  void checkInvariants() {
    lock.lock();
    try {
      int queuedActions = 0;
      for (ActionQueue<T, R> queue : queues.values()) {
        check(!queue.actions.isEmpty(), "empty queue kept: " + queue.key);
        queuedActions += queue.actions.size();
        for (QueuedAction<T, R> action : queue.actions) {
          check(action.stage == Stage.QUEUED && action.queue == queue, "misfiled " + action);
        }
        for (WorkerState<T, R> worker : workers) {
          boolean satisfies = !worker.draining && worker.satisfies(queue.key);
          check(queue.eligible.contains(worker) == satisfies, "eligibility of " + worker);
          check(worker.queues.contains(queue) == satisfies, "queues of " + worker);
          check(!satisfies || worker.freeSlots() == 0, worker + " idle beside " + queue.key);
        }
        check(workers.containsAll(queue.eligible), "a disconnected worker is eligible");
      }
      check(queuedActions == byQueueTime.size(), "queued count");
      int active = 0;
      int busy = 0;
      int totalSlots = 0;
      for (WorkerState<T, R> worker : workers) {
        totalSlots += worker.spec().slots();
        busy += worker.active.size();
        check(worker.freeSlots() >= 0, "over-committed " + worker);
        for (ActiveAssignment<T, R> assignment : worker.active) {
          if (assignment.state == State.ACTIVE) {
            active++;
            check(assignment.action.current == assignment, "stray " + assignment);
            check(assignment.action.stage == Stage.EXECUTING, "stage of " + assignment);
          } else {
            check(assignment.state == State.CANCELLED, "finished but held: " + assignment);
          }
        }
      }
      check(active == executing, "executing count " + executing + " != " + active);
      for (ActiveAssignment<T, R> assignment : byDeadline) {
        check(assignment.state == State.ACTIVE, "a deadline kept for " + assignment);
      }
      check(busy == busySlots, "busy slots " + busySlots + " != " + busy);
      check(totalSlots == slots, "slots " + slots + " != " + totalSlots);
    } finally {
      lock.unlock();
    }
  }

  private static void check(boolean condition, String message) {
    if (!condition) {
      throw new IllegalStateException(message);
    }
  }
}
