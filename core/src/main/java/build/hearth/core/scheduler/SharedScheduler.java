package build.hearth.core.scheduler;

import build.bazel.remote.execution.v2.Platform;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.spi.scheduler.Adopted;
import build.hearth.spi.scheduler.Claim;
import build.hearth.spi.scheduler.Claimed;
import build.hearth.spi.scheduler.Enqueued;
import build.hearth.spi.scheduler.ExecutionRecord;
import build.hearth.spi.scheduler.QueuedExecution;
import build.hearth.spi.scheduler.Requeued;
import build.hearth.spi.scheduler.SchedulerState;
import build.hearth.spi.scheduler.WorkerRecord;
import build.hearth.spi.worker.WorkerSpec;
import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Scheduler} whose queue, claims, operations and worker registry live in a {@link
 * SchedulerState} that several servers share, so that they act as one service.
 *
 * <p>Work is pulled, not pushed: the server that holds a worker's stream claims executions for it
 * from the state (when it connects, when one of its slots frees, when the state tells of a queued
 * execution, and on every periodic pass besides, since notifications are best effort: NativeLink's
 * operations stuck in QUEUED are the lesson). A claim is atomic in the state, so an execution runs
 * on one worker while that worker lives. The worker's answer goes through the {@link ResultHook} on
 * the server that received it and completes the execution in the state; the servers holding its
 * tickets hear of it by notification, or by the poll of every periodic pass when a notification is
 * lost, so a lost message costs latency and never an answer.
 *
 * <p>A worker that disconnects leaves its claims in place for its lease: it may re-attach through
 * another server. Once the lease lapses, any server's periodic pass queues its executions again,
 * counting an attempt. A server that closes leaves its queued executions in the state for the
 * others; its tickets end with UNAVAILABLE, and their clients find the operations again on another
 * server with {@link #follow}.
 *
 * <p>Thread-safe. No call holds a lock across a call to the state.
 */
final class SharedScheduler<T, R> implements Scheduler<T, R> {
  private static final Logger logger = LoggerFactory.getLogger(SharedScheduler.class);

  /** How many lapsed claims, overdue claims or expired entries one periodic pass handles. */
  private static final int BATCH = 100;

  /** How many completions are kept for a retry while the state cannot take them. */
  private static final int MAX_PENDING_COMPLETIONS = 10_000;

  /** How long the list of the service's workers read for the unsatisfiable check is trusted. */
  private static final Duration WORKERS_FRESH = Duration.ofSeconds(2);

  private final SchedulerState state;
  private final String serverId;
  private final String name;
  private final PropertyTypes types;
  private final StateCodec<T> tasks;
  private final StateCodec<R> results;
  private final ResultHook<T, R> onResult;
  private final Function<String, Set<String>> warmKeys;
  private final Duration maxQueueTime;
  private final int maxRetries;
  private final int maxQueued;
  private final Duration grace;
  private final Duration lease;
  private final Duration retention;
  private final Clock clock;
  private final Executor callbacks;
  private final SchedulerListener listener;
  // Told of this server's workers' connections and assignments, as DefaultScheduler tells it, so
  // that a WarmWorkers scorer counts their idle processes; its scores are not used here.
  private final WorkerScorer scorer;
  private final Runnable onClose;
  private final ScheduledFuture<?> tickTask;

  // The tickets held here, by execution id; several when requests joined one execution.
  private final Map<String, Set<Waiting>> waiting = new ConcurrentHashMap<>();
  private final Set<Local> workers = ConcurrentHashMap.newKeySet();
  private final Map<String, Requirements.Key> parsedKeys = new ConcurrentHashMap<>();
  // The queues of the service as last read, plus those heard of since; claims name them.
  private final Set<String> knownQueues = ConcurrentHashMap.newKeySet();
  private final ConcurrentLinkedQueue<Completion> pendingCompletions =
      new ConcurrentLinkedQueue<>();
  private final AtomicLong requeued = new AtomicLong();
  private final AtomicLong overdue = new AtomicLong();
  private final AutoCloseable subscription;
  private volatile LiveWorkers liveWorkers = new LiveWorkers(List.of(), Map.of(), Instant.MIN);
  private volatile String lastProblem = "";
  private volatile boolean closed;

  /**
   * The workers of the whole service, as read at {@code readAt}: what each offers, and which
   * workers hold idle processes of each persistent-worker key (draining ones left out).
   */
  private record LiveWorkers(
      List<WorkerOffer> offers, Map<String, Set<String>> warmWorkers, Instant readAt) {
    static LiveWorkers of(List<WorkerOffer> offers, List<WorkerRecord> records, Instant readAt) {
      Map<String, Set<String>> warm = new HashMap<>();
      for (WorkerRecord record : records) {
        if (!record.draining()) {
          for (String key : record.warmKeys()) {
            warm.computeIfAbsent(key, k -> new HashSet<>()).add(record.workerId());
          }
        }
      }
      return new LiveWorkers(offers, warm, readAt);
    }
  }

  /** A result the state could not take yet. */
  private record Completion(String executionId, ByteString response) {}

  SharedScheduler(
      SharedState<T, R> shared,
      String name,
      PropertyTypes types,
      Duration maxQueueTime,
      int maxRetries,
      int maxQueued,
      Duration grace,
      Clock clock,
      Executor callbacks,
      ScheduledExecutorService timer,
      Duration tick,
      SchedulerListener listener,
      WorkerScorer scorer,
      Runnable onClose) {
    this.state = shared.state();
    this.serverId = shared.serverId();
    this.tasks = shared.tasks();
    this.results = shared.results();
    this.onResult = shared.onResult();
    this.warmKeys = shared.warmKeys();
    this.lease = shared.lease();
    this.retention = shared.retention();
    this.name = name;
    this.types = types;
    this.maxQueueTime = maxQueueTime;
    this.maxRetries = maxRetries;
    this.maxQueued = maxQueued;
    this.grace = grace;
    this.clock = clock;
    this.callbacks = callbacks;
    this.listener = listener;
    this.scorer = new GuardedScorer(scorer);
    this.onClose = onClose;
    this.subscription =
        state.subscribe(
            new SchedulerState.Listener() {
              @Override
              public void queued(String queueKey) {
                knownQueues.add(queueKey);
                callbacks.execute(SharedScheduler.this::fillAll);
              }

              @Override
              public void completed(String executionId) {
                if (waiting.containsKey(executionId) || runsHere(executionId)) {
                  callbacks.execute(() -> heardCompleted(executionId));
                }
              }
            });
    this.tickTask =
        tick.isZero()
            ? null
            : timer.scheduleWithFixedDelay(
                this::tickQuietly, tick.toMillis(), tick.toMillis(), TimeUnit.MILLISECONDS);
  }

  // ---- submitting and following ----

  @Override
  public Ticket<R> submit(ActionRequest<T> request) {
    Requirements requirements;
    try {
      requirements = Requirements.parse(request.name(), request.platform(), types);
    } catch (HearthException e) {
      return failed(request.name(), e);
    }
    if (closed) {
      return failed(
          request.name(),
          new HearthException(StatusCode.UNAVAILABLE, "the scheduler '" + name + "' is closed"));
    }
    List<WorkerOffer> live = liveWorkers().offers();
    if (!live.isEmpty() && live.stream().noneMatch(o -> o.satisfies(requirements.key()))) {
      return failed(
          request.name(),
          HearthException.failedPrecondition(
              "action '%s' cannot run on any of the %d workers of the service: %s",
              request.name(),
              live.size(),
              Requirements.whyUnsatisfiable(requirements.key(), live)));
    }
    String warmKey = WarmWorkers.keyOf(request.platform());
    String queueKey = QueueKeys.text(requirements.key(), warmKey == null ? "" : warmKey);
    Instant now = clock.instant();
    // Held before it is queued: a worker may run it and its completion be announced before
    // enqueue returns here, and an announcement for an execution nobody holds is not kept.
    Waiting ticket =
        new Waiting(UUID.randomUUID().toString(), request.name(), request.mergeKey(), true);
    hold(ticket);
    Enqueued enqueued;
    try {
      enqueued =
          state.enqueue(
              QueuedExecution.of(
                  ticket.executionId,
                  queueKey,
                  request.mergeKey(),
                  request.priority(),
                  request.timeout(),
                  tasks.encode(request.task()),
                  now),
              maxQueued);
    } catch (RuntimeException e) {
      release(ticket);
      throw e;
    }
    if (enqueued.outcome() == Enqueued.Outcome.FULL) {
      release(ticket);
      throw HearthException.limitReached(
          "scheduler_queue",
          Duration.ofSeconds(1),
          "action '%s' was refused: the shared queue of scheduler '%s' already holds %d actions;"
              + " retry later",
          request.name(),
          name,
          enqueued.queued());
    }
    boolean joined = enqueued.outcome() == Enqueued.Outcome.JOINED;
    if (joined) {
      release(ticket);
      ticket = new Waiting(enqueued.executionId(), request.name(), request.mergeKey(), false);
      hold(ticket);
    }
    ticket.enqueued = true;
    state.putOperation(request.name(), enqueued.executionId(), operationTtl(request.timeout()));
    if (joined) {
      // The execution may have completed between the merge and our hold: ask once.
      refresh(ticket.executionId);
    } else {
      knownQueues.add(queueKey);
      fillAll();
    }
    return ticket;
  }

  /**
   * How long an operation's name leads to its execution: the longest it can take, and then some.
   */
  private Duration operationTtl(Duration timeout) {
    return maxQueueTime.plus(timeout).plus(grace).plus(retention).plus(lease);
  }

  @Override
  public Optional<Ticket<R>> follow(String operationName) {
    Optional<String> executionId = state.operation(operationName);
    if (executionId.isEmpty()) {
      return Optional.empty();
    }
    Optional<ExecutionRecord> record = state.execution(executionId.get());
    if (record.isEmpty() || record.get().actionKey().isEmpty()) {
      // Gone from the state, or an execution merged with none (do_not_cache), whose action the
      // state cannot name: the client executes again.
      return Optional.empty();
    }
    Waiting ticket = new Waiting(executionId.get(), operationName, record.get().actionKey(), true);
    ticket.enqueued = true;
    hold(ticket);
    apply(ticket.executionId, record.get());
    return Optional.of(ticket);
  }

  private void hold(Waiting ticket) {
    waiting.computeIfAbsent(ticket.executionId, id -> ConcurrentHashMap.newKeySet()).add(ticket);
  }

  private void release(Waiting ticket) {
    waiting.computeIfPresent(
        ticket.executionId,
        (id, tickets) -> {
          tickets.remove(ticket);
          return tickets.isEmpty() ? null : tickets;
        });
  }

  private void heardCompleted(String executionId) {
    if (waiting.containsKey(executionId)) {
      refresh(executionId);
    }
    for (Local worker : workers) {
      Running running = worker.active.get(executionId);
      if (running != null && !running.answered.get()) {
        // Completed elsewhere (cancelled, or answered by another worker after a requeue).
        running.cancel();
      }
    }
  }

  private boolean runsHere(String executionId) {
    for (Local worker : workers) {
      if (worker.active.containsKey(executionId)) {
        return true;
      }
    }
    return false;
  }

  /** Reads an execution's record and brings the tickets held for it up to date. */
  private void refresh(String executionId) {
    Optional<ExecutionRecord> record = state.execution(executionId);
    if (record.isPresent()) {
      apply(executionId, record.get());
      return;
    }
    HearthException gone =
        new HearthException(
            StatusCode.UNAVAILABLE,
            "the shared scheduler state no longer knows execution "
                + executionId
                + " (it expired, or the state lost it); execute the action again");
    for (Waiting ticket : waiting.getOrDefault(executionId, Set.of())) {
      // A ticket being submitted is held before its execution is queued: not gone yet.
      if (ticket.enqueued) {
        release(ticket);
        ticket.finish(null, gone);
      }
    }
  }

  private void apply(String executionId, ExecutionRecord record) {
    if (record.response().isPresent()) {
      Outcome<R> outcome = Outcome.decode(record.response().get(), results);
      finishAll(executionId, outcome.result(), outcome.error());
      return;
    }
    Ticket.Stage stage =
        record.stage() == ExecutionRecord.Stage.EXECUTING
            ? Ticket.Stage.EXECUTING
            : Ticket.Stage.QUEUED;
    for (Waiting ticket : waiting.getOrDefault(executionId, Set.of())) {
      ticket.stage(stage);
    }
  }

  private void finishAll(String executionId, R result, HearthException error) {
    Set<Waiting> tickets = waiting.remove(executionId);
    if (tickets != null) {
      for (Waiting ticket : tickets) {
        ticket.finish(result, error);
      }
    }
  }

  // ---- workers ----

  @Override
  public WorkerSession connect(WorkerSpec spec, WorkerListener<T, R> workerListener) {
    return reattach(spec, Set.of(), workerListener).session();
  }

  /** A lost worker's claims stay in the state for its lease: see {@link Local#disconnect()}. */
  @Override
  public Optional<Duration> reattachGrace() {
    return Optional.of(lease);
  }

  /**
   * Registers the worker, then, before any new claim fills its slots, adopts what it still runs:
   * the state moves to this server the claims of this worker among {@code running} (it checks the
   * worker's name, so another worker's executions are never taken), and the worker's other claims
   * are queued again, counting an attempt. Adopted claims become local assignments that take a slot
   * each and are answered like the claims this server made.
   */
  @Override
  public Reattached<T, R> reattach(
      WorkerSpec spec, Set<String> running, WorkerListener<T, R> workerListener) {
    if (closed) {
      throw new HearthException(StatusCode.UNAVAILABLE, "the scheduler '" + name + "' is closed");
    }
    Local worker =
        new Local(WorkerOffer.of(spec, types), workerListener, new Mailbox(spec.name(), callbacks));
    Instant now = clock.instant();
    state.register(record(worker), now, lease);
    List<Assignment<T, R>> adopted = new ArrayList<>();
    // Also with nothing running: claims a worker holds from an earlier connection and does not
    // name are queued again now, not left to a lease this connection keeps renewing.
    Adopted answer = state.adopt(worker.name(), serverId, running);
    if (!running.isEmpty() || !answer.notRunning().isEmpty()) {
      for (Claimed claimed : answer.adopted()) {
        QueuedExecution entry = claimed.execution();
        Running run;
        try {
          run = new Running(worker, entry, tasks.decode(entry.task()));
        } catch (RuntimeException e) {
          logger.error("execution {} holds a task this server cannot read", entry.executionId(), e);
          requeue(claimed.claim(), "its task cannot be read here", now, false);
          continue;
        }
        if (!worker.reserve()) {
          requeue(claimed.claim(), "its worker re-attached with no slot free for it", now, false);
          continue;
        }
        worker.active.put(entry.executionId(), run);
        adopted.add(run);
      }
      for (Claim claim : answer.notRunning()) {
        requeue(claim, "its worker re-attached no longer running it", now, false);
      }
      logger.info(
          "scheduler '{}': worker '{}' re-attached still running {} action(s); {} adopted, {}"
              + " queued again",
          name,
          worker.name(),
          running.size(),
          adopted.size(),
          answer.notRunning().size());
    }
    // Told once nothing can fail any more, so that each connected() has its disconnected().
    scorer.connected(spec);
    workers.add(worker);
    liveWorkers = new LiveWorkers(liveWorkers.offers(), liveWorkers.warmWorkers(), Instant.MIN);
    fill(worker);
    return new Reattached<>(worker, adopted);
  }

  private WorkerRecord record(Local worker) {
    Map<String, List<String>> properties = new HashMap<>();
    worker.offer.spec().properties().forEach((k, v) -> properties.put(k, List.copyOf(v)));
    Set<String> warm = warmKeysOf(worker);
    worker.publishedWarmKeys = warm;
    return new WorkerRecord(
        worker.name(), serverId, properties, worker.offer.spec().slots(), warm, worker.draining);
  }

  private Set<String> warmKeysOf(Local worker) {
    try {
      return Set.copyOf(warmKeys.apply(worker.name()));
    } catch (RuntimeException e) {
      logger.warn("the warm keys of worker '{}' could not be read", worker.name(), e);
      return Set.of();
    }
  }

  private void fillAll() {
    fillAll(false);
  }

  private void fillAll(boolean deferredToo) {
    for (Local worker : workers) {
      fill(worker, deferredToo);
    }
  }

  private void fill(Local worker) {
    fill(worker, false);
  }

  /**
   * Claims work for {@code worker} while it has free slots and the queues it meets hold some: first
   * from the queues of persistent-worker keys it holds warm processes of, then from the queues
   * without a key or whose key no other worker of the service holds warm. The queues of keys warm
   * on another worker are left to that worker, and claimed here only by the periodic pass ({@code
   * deferredToo}), so that a busy warm worker delays them by a pass at most; DefaultScheduler's
   * rule, "the warm worker if it is free", the service over.
   */
  private void fill(Local worker, boolean deferredToo) {
    Set<String> warmHere = warmKeysOf(worker);
    Map<String, Set<String>> warmWorkers = liveWorkers.warmWorkers();
    List<String> warm = new ArrayList<>();
    List<String> neutral = new ArrayList<>();
    List<String> deferred = new ArrayList<>();
    for (String key : knownQueues) {
      Requirements.Key parsed;
      try {
        parsed = parsedKeys.computeIfAbsent(key, QueueKeys::parse);
      } catch (IllegalArgumentException e) {
        continue; // another version's queue, which this server cannot judge
      }
      if (!worker.offer.satisfies(parsed)) {
        continue;
      }
      String warmKey = QueueKeys.warmKey(key);
      if (warmKey.isEmpty()) {
        neutral.add(key);
      } else if (warmHere.contains(warmKey)) {
        warm.add(key);
      } else if (warmWorkers.getOrDefault(warmKey, Set.of()).stream()
          .anyMatch(other -> !other.equals(worker.name()))) {
        deferred.add(key);
      } else {
        neutral.add(key);
      }
    }
    if (!claimFrom(worker, warm) && !claimFrom(worker, neutral) && deferredToo) {
      claimFrom(worker, deferred);
    }
  }

  /**
   * Claims from {@code keys} for {@code worker} while it has free slots and they hold work.
   * {@return false when these queues ran dry with a slot still free, so the caller may try others;
   * true when the worker is full, or the state failed}
   */
  private boolean claimFrom(Local worker, List<String> keys) {
    if (keys.isEmpty()) {
      return false;
    }
    while (worker.reserve()) {
      Optional<Claimed> claimed;
      Instant now = clock.instant();
      try {
        claimed = state.claim(keys, worker.name(), serverId, now, grace);
      } catch (RuntimeException e) {
        worker.release();
        problem("claiming work for worker '" + worker.name() + "'", e);
        return true;
      }
      if (claimed.isEmpty()) {
        worker.release();
        return false;
      }
      QueuedExecution entry = claimed.get().execution();
      Running running;
      try {
        running = new Running(worker, entry, tasks.decode(entry.task()));
      } catch (RuntimeException e) {
        worker.release();
        logger.error("execution {} holds a task this server cannot read", entry.executionId(), e);
        complete(
            entry.executionId(),
            Outcome.encode(
                null,
                new HearthException(
                    StatusCode.INTERNAL,
                    "the queued task of execution "
                        + entry.executionId()
                        + " could not be read: "
                        + e.getMessage()),
                results));
        continue;
      }
      worker.active.put(entry.executionId(), running);
      scorer.assigned(running.request, worker.offer.spec());
      tellStarted(entry, worker, now);
      worker.mailbox.post(() -> worker.listener.assign(running));
      worker.mailbox.schedule();
    }
    return true;
  }

  private void tellStarted(QueuedExecution entry, Local worker, Instant now) {
    try {
      listener.actionStarted(
          entry.executionId(), worker.name(), Duration.between(entry.enqueuedAt(), now));
    } catch (RuntimeException e) {
      logger.warn("the scheduler listener failed", e);
    }
  }

  private boolean answer(Running running, R result, HearthException error) {
    if (!running.answered.compareAndSet(false, true)) {
      return false;
    }
    Local worker = running.worker;
    worker.active.remove(running.entry.executionId());
    worker.release();
    boolean accepted = false;
    if (!running.cancelled.get()) {
      R published = result;
      if (error == null) {
        try {
          published = onResult.answered(running.task, running.entry.enqueuedAt(), result);
        } catch (RuntimeException e) {
          logger.warn("the result hook failed on execution {}", running.entry.executionId(), e);
        }
      }
      ByteString response = Outcome.encode(published, error, results);
      accepted = complete(running.entry.executionId(), response);
      if (accepted) {
        // Our own tickets need not wait for the notification.
        finishAll(running.entry.executionId(), published, error);
      }
    }
    fill(worker);
    return accepted;
  }

  /** Completes an execution in the state, keeping the result for a retry if the state is down. */
  private boolean complete(String executionId, ByteString response) {
    try {
      return state.complete(executionId, response, retention);
    } catch (RuntimeException e) {
      problem("completing execution " + executionId, e);
      if (pendingCompletions.size() < MAX_PENDING_COMPLETIONS) {
        pendingCompletions.add(new Completion(executionId, response));
      } else {
        logger.error(
            "dropping the result of execution {}: {} results already wait for the state",
            executionId,
            MAX_PENDING_COMPLETIONS);
      }
      return true;
    }
  }

  // ---- the periodic pass ----

  private void tickQuietly() {
    try {
      tick();
      if (!lastProblem.isEmpty()) {
        logger.info("scheduler '{}': the shared state answers again", name);
        lastProblem = "";
      }
    } catch (RuntimeException e) {
      problem("the periodic pass", e);
    }
  }

  private void problem(String what, RuntimeException e) {
    String text = what + " failed: " + e.getMessage();
    if (!text.equals(lastProblem)) {
      lastProblem = text;
      logger.warn("scheduler '{}': {}", name, text, e);
    }
  }

  /**
   * Retries results the state could not take, renews this server's workers' leases, queues again
   * what lost its worker, expires what waited too long, brings tickets up to date and claims work.
   */
  void tick() {
    Instant now = clock.instant();
    Completion pending;
    while ((pending = pendingCompletions.peek()) != null) {
      state.complete(pending.executionId(), pending.response(), retention);
      pendingCompletions.poll();
    }
    for (Local worker : workers) {
      if (!warmKeysOf(worker).equals(worker.publishedWarmKeys)
          || !state.renew(worker.name(), serverId, now, lease)) {
        state.register(record(worker), now, lease);
      }
    }
    for (Claim claim : state.lapsed(now, BATCH)) {
      requeue(claim, "its worker's lease lapsed", now, false);
    }
    for (Claim claim : state.overdueClaims(now, BATCH)) {
      requeue(claim, "its worker held it past its deadline", now, true);
    }
    for (QueuedExecution old : state.queuedBefore(now.minus(maxQueueTime), BATCH)) {
      complete(
          old.executionId(),
          Outcome.encode(
              null,
              new HearthException(
                  StatusCode.UNAVAILABLE,
                  String.format(
                      "the action waited longer than the maximum queue time (%s) of scheduler"
                          + " '%s' for a worker of the service",
                      maxQueueTime, name)),
              results));
    }
    for (String executionId : List.copyOf(waiting.keySet())) {
      refresh(executionId);
    }
    Set<String> queues = state.queues().keySet();
    knownQueues.retainAll(queues);
    knownQueues.addAll(queues);
    List<WorkerRecord> records = state.workers(now);
    liveWorkers = LiveWorkers.of(offers(records), records, now);
    fillAll(true);
  }

  private void requeue(Claim claim, String why, Instant now, boolean overdueClaim) {
    Requeued outcome = state.requeue(claim.executionId(), claim.workerId(), maxRetries, true, now);
    switch (outcome.outcome()) {
      case REQUEUED -> {
        requeued.incrementAndGet();
        logger.info(
            "scheduler '{}': execution {} queued again: {} ('{}')",
            name,
            claim.executionId(),
            why,
            claim.workerId());
      }
      case GAVE_UP -> {
        QueuedExecution lost = outcome.execution().orElseThrow();
        complete(
            claim.executionId(),
            Outcome.encode(
                null,
                new HearthException(
                    overdueClaim ? StatusCode.DEADLINE_EXCEEDED : StatusCode.UNAVAILABLE,
                    String.format(
                        "the action was lost %d times (workers %s), giving up after %d retries;"
                            + " last: %s",
                        lost.lostWith().size(),
                        String.join(", ", lost.lostWith()),
                        maxRetries,
                        why)),
                results));
      }
      case NOT_CLAIMED -> {
        return;
      }
    }
    if (overdueClaim) {
      overdue.incrementAndGet();
      for (Local worker : workers) {
        Running running = worker.active.get(claim.executionId());
        if (running != null) {
          running.cancel();
        }
      }
    }
  }

  @Override
  public int expireOverdue() {
    long before = requeued.get() + overdue.get();
    tick();
    return (int) (requeued.get() + overdue.get() - before);
  }

  private LiveWorkers liveWorkers() {
    LiveWorkers known = liveWorkers;
    Instant now = clock.instant();
    if (known.readAt().plus(WORKERS_FRESH).isBefore(now)) {
      List<WorkerRecord> records = state.workers(now);
      known = LiveWorkers.of(offers(records), records, now);
      liveWorkers = known;
    }
    return known;
  }

  private List<WorkerOffer> offers(List<WorkerRecord> records) {
    List<WorkerOffer> offers = new ArrayList<>();
    // Read with this server's property types: every server of a service reads one configuration.
    for (WorkerRecord record : records) {
      Map<String, Set<String>> properties = new HashMap<>();
      record.properties().forEach((k, v) -> properties.put(k, Set.copyOf(v)));
      try {
        offers.add(
            WorkerOffer.of(new WorkerSpec(record.workerId(), properties, record.slots()), types));
      } catch (RuntimeException e) {
        logger.debug("worker record {} is unreadable here", record.workerId(), e);
      }
    }
    return offers;
  }

  // ---- what it shows ----

  @Override
  public SchedulerStats stats() {
    SchedulerState.Counts counts;
    try {
      counts = state.counts();
    } catch (RuntimeException e) {
      counts = new SchedulerState.Counts(0, 0);
    }
    int slots = 0;
    int busy = 0;
    for (Local worker : workers) {
      slots += worker.offer.spec().slots();
      busy += worker.active.size();
    }
    return new SchedulerStats(
        (int) counts.queued(),
        (int) counts.claimed(),
        workers.size(),
        slots,
        busy,
        requeued.get(),
        overdue.get());
  }

  @Override
  public List<WorkerSnapshot> workers() {
    List<WorkerSnapshot> snapshots = new ArrayList<>();
    for (Local worker : workers) {
      snapshots.add(new WorkerSnapshot(worker.offer.spec(), worker.active.size(), worker.draining));
    }
    return snapshots;
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (tickTask != null) {
      tickTask.cancel(false);
    }
    try {
      subscription.close();
    } catch (Exception e) {
      logger.debug("closing the subscription failed", e);
    }
    for (Local worker : workers) {
      worker.disconnect();
    }
    for (String executionId : List.copyOf(waiting.keySet())) {
      finishAll(
          executionId,
          null,
          new HearthException(
              StatusCode.UNAVAILABLE,
              "this server's scheduler shut down; the action goes on in the service: wait for the"
                  + " operation on another server"));
    }
    onClose.run();
  }

  // ---- the pieces ----

  /** What a result or an error is in the state: a tag byte, then the result or code and text. */
  record Outcome<R>(R result, HearthException error) {
    static <R> ByteString encode(R result, HearthException error, StateCodec<R> results) {
      if (error == null) {
        return ByteString.copyFrom(new byte[] {0}).concat(results.encode(result));
      }
      byte[] message = String.valueOf(error.getMessage()).getBytes(StandardCharsets.UTF_8);
      ByteBuffer bytes = ByteBuffer.allocate(5 + message.length);
      bytes.put((byte) 1).putInt(error.code().value()).put(message);
      return ByteString.copyFrom(bytes.array());
    }

    static <R> Outcome<R> decode(ByteString bytes, StateCodec<R> results) {
      try {
        if (bytes.byteAt(0) == 0) {
          return new Outcome<>(results.decode(bytes.substring(1)), null);
        }
        ByteBuffer buffer = bytes.asReadOnlyByteBuffer();
        buffer.get();
        int code = buffer.getInt();
        String message = StandardCharsets.UTF_8.decode(buffer).toString();
        return new Outcome<>(null, new HearthException(StatusCode.forValue(code), message));
      } catch (RuntimeException e) {
        return new Outcome<>(
            null,
            new HearthException(
                StatusCode.INTERNAL,
                "the shared state holds a result this server cannot read ("
                    + bytes.size()
                    + " bytes): "
                    + e.getMessage()));
      }
    }
  }

  /** A ticket held by this server, until its execution completes. */
  private final class Waiting implements Ticket<R> {
    final String executionId;
    final String name;
    final String mergeKey;
    // Whether cancelling cancels the execution: true for the submitter and whoever follows its
    // operation; false for a request that joined another's execution, which only lets go of it.
    final boolean owns;
    // Whether its execution is in the state yet (a submission holds its ticket just before).
    volatile boolean enqueued;
    final CompletableFuture<R> result = new CompletableFuture<>();
    final List<Consumer<Stage>> listeners = new CopyOnWriteArrayList<>();
    private Stage stage = Stage.QUEUED; // guarded by this

    Waiting(String executionId, String name, String mergeKey, boolean owns) {
      this.executionId = executionId;
      this.name = name;
      this.mergeKey = mergeKey;
      this.owns = owns;
    }

    void finish(R value, HearthException error) {
      stage(Stage.COMPLETED);
      if (error != null) {
        result.completeExceptionally(error);
      } else {
        result.complete(value);
      }
    }

    synchronized void stage(Stage next) {
      if (stage == next || stage == Stage.COMPLETED) {
        return;
      }
      stage = next;
      for (Consumer<Stage> listener : listeners) {
        tell(listener, next);
      }
    }

    private void tell(Consumer<Stage> listener, Stage now) {
      try {
        listener.accept(now);
      } catch (RuntimeException e) {
        logger.warn("a stage listener of '{}' failed", name, e);
      }
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public String mergeKey() {
      return mergeKey;
    }

    @Override
    public CompletableFuture<R> result() {
      return result;
    }

    @Override
    public synchronized Stage stage() {
      return stage;
    }

    @Override
    public synchronized void addStageListener(Consumer<Stage> listener) {
      listeners.add(listener);
      tell(listener, stage);
    }

    @Override
    public boolean cancel() {
      return SharedScheduler.this.cancel(this);
    }
  }

  private Ticket<R> failed(String requestName, HearthException error) {
    Waiting ticket = new Waiting("", requestName, "", false);
    ticket.finish(null, error);
    return ticket;
  }

  private boolean cancel(Waiting ticket) {
    if (ticket.result.isDone()) {
      return false;
    }
    HearthException cancelled =
        new HearthException(StatusCode.CANCELLED, "action '" + ticket.name + "' was cancelled");
    if (!ticket.owns) {
      release(ticket);
      ticket.finish(null, cancelled);
      return true;
    }
    boolean completed =
        state.complete(ticket.executionId, Outcome.encode(null, cancelled, results), retention);
    if (completed) {
      finishAll(ticket.executionId, null, cancelled);
      heardCompleted(ticket.executionId);
    }
    return completed;
  }

  /** A worker connected to this server. */
  private final class Local implements WorkerSession {
    final WorkerOffer offer;
    final WorkerListener<T, R> listener;
    final Mailbox mailbox;
    final Map<String, Running> active = new ConcurrentHashMap<>();
    private int reserved; // guarded by this
    volatile boolean connected = true;
    volatile boolean draining;
    // The warm keys of its last registration in the state.
    volatile Set<String> publishedWarmKeys = Set.of();

    Local(WorkerOffer offer, WorkerListener<T, R> listener, Mailbox mailbox) {
      this.offer = offer;
      this.listener = listener;
      this.mailbox = mailbox;
    }

    /** Takes a slot for a claim about to be made; false when none is free. */
    synchronized boolean reserve() {
      if (!connected || draining || closed || reserved >= offer.spec().slots()) {
        return false;
      }
      reserved++;
      return true;
    }

    synchronized void release() {
      reserved--;
      if (draining && reserved == 0) {
        mailbox.post(listener::drained);
        mailbox.schedule();
      }
    }

    @Override
    public String name() {
      return offer.spec().name();
    }

    @Override
    public boolean isConnected() {
      return connected;
    }

    @Override
    public void drain() {
      synchronized (this) {
        if (draining) {
          return;
        }
        draining = true;
        if (reserved == 0) {
          mailbox.post(listener::drained);
          mailbox.schedule();
        }
      }
      try {
        state.register(record(this), clock.instant(), lease);
      } catch (RuntimeException e) {
        problem("recording that worker '" + name() + "' drains", e);
      }
    }

    @Override
    public boolean isDraining() {
      return draining;
    }

    @Override
    public void disconnect() {
      if (!connected) {
        return;
      }
      connected = false;
      workers.remove(this);
      scorer.disconnected(offer.spec());
      for (Running running : active.values()) {
        // Its claim stays for the lease, so the worker may deliver it through another server.
        running.answered.set(true);
      }
      active.clear();
      try {
        state.unregister(name(), serverId);
      } catch (RuntimeException e) {
        problem("unregistering worker '" + name() + "'", e);
      }
    }
  }

  /** An execution given to a local worker. */
  private final class Running implements Assignment<T, R> {
    final Local worker;
    final QueuedExecution entry;
    final T task;
    final ActionRequest<T> request;
    final AtomicBoolean answered = new AtomicBoolean();
    final AtomicBoolean cancelled = new AtomicBoolean();

    Running(Local worker, QueuedExecution entry, T task) {
      this.worker = worker;
      this.entry = entry;
      this.task = task;
      String warmKey = QueueKeys.warmKey(entry.queueKey());
      this.request =
          new ActionRequest<>(
              entry.executionId(),
              warmKey.isEmpty()
                  ? Platform.getDefaultInstance()
                  : Platform.newBuilder()
                      .addProperties(
                          Platform.Property.newBuilder()
                              .setName(PersistentWorkerProperties.KEY)
                              .setValue(warmKey))
                      .build(),
              entry.priority(),
              task,
              entry.timeout(),
              entry.actionKey());
    }

    void cancel() {
      if (cancelled.compareAndSet(false, true)) {
        worker.mailbox.post(() -> worker.listener.cancel(this));
        worker.mailbox.schedule();
      }
    }

    @Override
    public ActionRequest<T> request() {
      return request;
    }

    @Override
    public int attempt() {
      return entry.attempt();
    }

    @Override
    public boolean isCancelled() {
      return cancelled.get();
    }

    @Override
    public boolean complete(R result) {
      return answer(this, result, null);
    }

    @Override
    public boolean fail(HearthException error) {
      return answer(this, null, error);
    }
  }
}
