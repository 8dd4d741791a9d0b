package build.hearth.core.scheduler;

import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * WORK IN PROGRESS (issue 16), not wired and not complete: a {@link Scheduler} over a shared {@link
 * SchedulerState}, so that the servers of one service share one queue. The plan is in the session
 * notes; this first cut dispatches, completes, cancels and requeues, but lacks drain, the ordering
 * guarantees of stage listeners, warm-worker routing and stats.
 *
 * <p>The server that holds a worker claims work for it from the state (when it connects, when a
 * slot frees, when the state tells of a queued execution, and every {@code tick} besides, since
 * notifications are best effort); the worker's answer completes the execution in the state, and the
 * server that holds the ticket hears of it (notification or poll).
 */
final class SharedScheduler<T, R> implements Scheduler<T, R> {
  private static final Logger logger = LoggerFactory.getLogger(SharedScheduler.class);
  private static final int BATCH = 100;

  /** Bytes for the state, and back. */
  interface Codec<V> {
    ByteString encode(V value);

    V decode(ByteString bytes);
  }

  private final SchedulerState state;
  private final String serverId;
  private final PropertyTypes types;
  private final Codec<T> tasks;
  private final Codec<R> results;
  private final Duration maxQueueTime;
  private final int maxRetries;
  private final int maxQueued;
  private final Duration grace;
  private final Duration lease;
  private final Duration retention;
  private final Clock clock;
  private final Executor callbacks;
  private final ScheduledExecutorService timer;
  private final Map<String, Waiting> waiting = new ConcurrentHashMap<>();
  private final Set<Local> workers = ConcurrentHashMap.newKeySet();
  private final Map<String, Requirements.Key> parsedKeys = new ConcurrentHashMap<>();
  private final AutoCloseable subscription;
  private volatile boolean closed;

  SharedScheduler(
      SchedulerState state,
      String serverId,
      PropertyTypes types,
      Codec<T> tasks,
      Codec<R> results,
      Duration maxQueueTime,
      int maxRetries,
      int maxQueued,
      Duration grace,
      Duration lease,
      Duration retention,
      Clock clock,
      Executor callbacks,
      ScheduledExecutorService timer,
      Duration tick) {
    this.state = state;
    this.serverId = serverId;
    this.types = types;
    this.tasks = tasks;
    this.results = results;
    this.maxQueueTime = maxQueueTime;
    this.maxRetries = maxRetries;
    this.maxQueued = maxQueued;
    this.grace = grace;
    this.lease = lease;
    this.retention = retention;
    this.clock = clock;
    this.callbacks = callbacks;
    this.timer = timer;
    this.subscription =
        state.subscribe(
            new SchedulerState.Listener() {
              @Override
              public void queued(String queueKey) {
                callbacks.execute(SharedScheduler.this::fillAll);
              }

              @Override
              public void completed(String executionId) {
                callbacks.execute(() -> heardCompleted(executionId));
              }
            });
    if (!tick.isZero()) {
      timer.scheduleWithFixedDelay(
          this::tickQuietly, tick.toMillis(), tick.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  // ---- submitting ----

  @Override
  public Ticket<R> submit(ActionRequest<T> request) {
    String id = UUID.randomUUID().toString();
    Waiting ticket = new Waiting(id, request.name());
    Requirements requirements;
    try {
      requirements = Requirements.parse(request.name(), request.platform(), types);
    } catch (HearthException e) {
      ticket.finish(null, e);
      return ticket;
    }
    if (closed) {
      ticket.finish(null, new HearthException(StatusCode.UNAVAILABLE, "the scheduler is closed"));
      return ticket;
    }
    List<WorkerOffer> live = offers(state.workers(clock.instant()));
    if (!live.isEmpty() && live.stream().noneMatch(o -> o.satisfies(requirements.key()))) {
      ticket.finish(
          null,
          HearthException.failedPrecondition(
              "action '%s' cannot run on any of the %d workers of the service: %s",
              request.name(),
              live.size(),
              Requirements.whyUnsatisfiable(requirements.key(), live)));
      return ticket;
    }
    waiting.put(id, ticket);
    Enqueued enqueued =
        state.enqueue(
            QueuedExecution.of(
                id,
                QueueKeys.text(requirements.key()),
                "",
                request.priority(),
                request.timeout(),
                tasks.encode(request.task()),
                clock.instant()),
            maxQueued);
    if (enqueued.outcome() == Enqueued.Outcome.FULL) {
      waiting.remove(id);
      throw HearthException.limitReached(
          "scheduler_queue",
          Duration.ofSeconds(1),
          "action '%s' was refused: the shared queue already holds %d actions; retry later",
          request.name(),
          enqueued.queued());
    }
    fillAll();
    return ticket;
  }

  private void heardCompleted(String executionId) {
    Waiting ticket = waiting.get(executionId);
    if (ticket != null) {
      state
          .execution(executionId)
          .flatMap(ExecutionRecord::response)
          .ifPresent(response -> finishFrom(ticket, response));
    }
    for (Local worker : workers) {
      Running running = worker.active.get(executionId);
      if (running != null && running.cancelled.compareAndSet(false, true)) {
        worker.mailbox.post(() -> worker.listener.cancel(running));
        worker.mailbox.schedule();
      }
    }
  }

  private void finishFrom(Waiting ticket, ByteString response) {
    if (waiting.remove(ticket.id, ticket)) {
      Outcome<R> outcome = Outcome.decode(response, results);
      ticket.finish(outcome.result(), outcome.error());
    }
  }

  // ---- workers ----

  @Override
  public WorkerSession connect(WorkerSpec spec, WorkerListener<T, R> listener) {
    if (closed) {
      throw new HearthException(StatusCode.UNAVAILABLE, "the scheduler is closed");
    }
    Local worker =
        new Local(WorkerOffer.of(spec, types), listener, new Mailbox(spec.name(), callbacks));
    state.register(record(worker), clock.instant(), lease);
    workers.add(worker);
    fill(worker);
    return worker;
  }

  private WorkerRecord record(Local worker) {
    Map<String, List<String>> properties = new HashMap<>();
    worker.offer.spec().properties().forEach((k, v) -> properties.put(k, List.copyOf(v)));
    return new WorkerRecord(
        worker.name(),
        serverId,
        properties,
        worker.offer.spec().slots(),
        Set.of(),
        worker.draining);
  }

  private void fillAll() {
    for (Local worker : workers) {
      fill(worker);
    }
  }

  /** Claims work for {@code worker} while it has free slots and the queues it meets hold some. */
  private void fill(Local worker) {
    while (worker.reserve()) {
      Optional<Claimed> claimed;
      try {
        List<String> keys = new ArrayList<>();
        for (String key : state.queues().keySet()) {
          Requirements.Key parsed = parsedKeys.computeIfAbsent(key, QueueKeys::parse);
          if (worker.offer.satisfies(parsed)) {
            keys.add(key);
          }
        }
        claimed =
            keys.isEmpty()
                ? Optional.empty()
                : state.claim(keys, worker.name(), serverId, clock.instant(), grace);
      } catch (RuntimeException e) {
        worker.release();
        logger.warn("claiming work for worker '{}' failed", worker.name(), e);
        return;
      }
      if (claimed.isEmpty()) {
        worker.release();
        return;
      }
      QueuedExecution entry = claimed.get().execution();
      Running running = new Running(worker, entry, tasks.decode(entry.task()));
      worker.active.put(entry.executionId(), running);
      worker.mailbox.post(() -> worker.listener.assign(running));
      worker.mailbox.schedule();
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
      accepted =
          state.complete(
              running.entry.executionId(), Outcome.encode(result, error, results), retention);
    }
    fill(worker);
    return accepted;
  }

  // ---- the periodic pass ----

  private void tickQuietly() {
    try {
      tick();
    } catch (RuntimeException e) {
      logger.warn("the shared scheduler's periodic pass failed", e);
    }
  }

  /** Renews leases, requeues what lost its worker, expires the queue, polls tickets, fills. */
  void tick() {
    Instant now = clock.instant();
    for (Local worker : workers) {
      if (!state.renew(worker.name(), serverId, now, lease)) {
        state.register(record(worker), now, lease);
      }
    }
    for (Claim claim : state.lapsed(now, BATCH)) {
      requeue(claim, "its worker's lease lapsed", now);
    }
    for (Claim claim : state.overdueClaims(now, BATCH)) {
      requeue(claim, "its worker held it past its deadline", now);
    }
    for (QueuedExecution old : state.queuedBefore(now.minus(maxQueueTime), BATCH)) {
      state.complete(
          old.executionId(),
          Outcome.encode(
              null,
              new HearthException(
                  StatusCode.UNAVAILABLE, "the action waited longer than the maximum queue time"),
              results),
          retention);
    }
    for (Waiting ticket : waiting.values()) {
      state
          .execution(ticket.id)
          .ifPresent(
              record -> {
                if (record.response().isPresent()) {
                  finishFrom(ticket, record.response().get());
                } else {
                  ticket.stage(
                      record.stage() == ExecutionRecord.Stage.EXECUTING
                          ? Ticket.Stage.EXECUTING
                          : Ticket.Stage.QUEUED);
                }
              });
    }
    fillAll();
  }

  private void requeue(Claim claim, String why, Instant now) {
    Requeued requeued = state.requeue(claim.executionId(), claim.workerId(), maxRetries, true, now);
    if (requeued.outcome() == Requeued.Outcome.GAVE_UP) {
      state.complete(
          claim.executionId(),
          Outcome.encode(
              null,
              new HearthException(
                  StatusCode.UNAVAILABLE,
                  String.format(
                      "the action was lost %d times (%s), giving up after %d retries; last: %s",
                      requeued.execution().orElseThrow().lostWith().size(),
                      String.join(", ", requeued.execution().orElseThrow().lostWith()),
                      maxRetries,
                      why)),
              results),
          retention);
    }
  }

  @Override
  public int expireOverdue() {
    tick();
    return 0;
  }

  @Override
  public SchedulerStats stats() {
    SchedulerState.Counts counts = state.counts();
    int slots = 0;
    int busy = 0;
    for (Local worker : workers) {
      slots += worker.offer.spec().slots();
      busy += worker.active.size();
    }
    return new SchedulerStats(
        (int) counts.queued(), (int) counts.claimed(), workers.size(), slots, busy, 0, 0);
  }

  @Override
  public void close() {
    closed = true;
    try {
      subscription.close();
    } catch (Exception e) {
      logger.debug("closing the subscription failed", e);
    }
    for (Local worker : workers) {
      worker.disconnect();
    }
    for (Waiting ticket : waiting.values()) {
      ticket.finish(
          null,
          new HearthException(
              StatusCode.UNAVAILABLE,
              "this server's scheduler shut down; the action may still run"));
    }
    waiting.clear();
  }

  private List<WorkerOffer> offers(List<WorkerRecord> records) {
    List<WorkerOffer> offers = new ArrayList<>();
    // The types of a record's properties are this server's: every server reads one configuration.
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

  // ---- the pieces ----

  /** What a result or an error is in the state: a tag byte, then the result or code and text. */
  private record Outcome<R>(R result, HearthException error) {
    static <R> ByteString encode(R result, HearthException error, Codec<R> results) {
      if (error == null) {
        return ByteString.copyFrom(new byte[] {0}).concat(results.encode(result));
      }
      byte[] message = String.valueOf(error.getMessage()).getBytes(StandardCharsets.UTF_8);
      ByteBuffer bytes = ByteBuffer.allocate(5 + message.length);
      bytes.put((byte) 1).putInt(error.code().value()).put(message);
      return ByteString.copyFrom(bytes.array());
    }

    static <R> Outcome<R> decode(ByteString bytes, Codec<R> results) {
      if (bytes.byteAt(0) == 0) {
        return new Outcome<>(results.decode(bytes.substring(1)), null);
      }
      ByteBuffer buffer = bytes.asReadOnlyByteBuffer();
      buffer.get();
      int code = buffer.getInt();
      String message = StandardCharsets.UTF_8.decode(buffer).toString();
      return new Outcome<>(null, new HearthException(StatusCode.forValue(code), message));
    }
  }

  /** A ticket submitted through this server, until its execution completes. */
  private final class Waiting implements Ticket<R> {
    final String id;
    final String name;
    final CompletableFuture<R> result = new CompletableFuture<>();
    final List<Consumer<Stage>> listeners = new CopyOnWriteArrayList<>();
    volatile Stage stage = Stage.QUEUED;

    Waiting(String id, String name) {
      this.id = id;
      this.name = name;
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
      listeners.forEach(listener -> listener.accept(next));
    }

    @Override
    public String name() {
      return name;
    }

    @Override
    public CompletableFuture<R> result() {
      return result;
    }

    @Override
    public Stage stage() {
      return stage;
    }

    @Override
    public synchronized void addStageListener(Consumer<Stage> listener) {
      listeners.add(listener);
      listener.accept(stage);
    }

    @Override
    public boolean cancel() {
      boolean completed =
          state.complete(
              id,
              Outcome.encode(
                  null,
                  new HearthException(StatusCode.CANCELLED, "action '" + name + "' was cancelled"),
                  results),
              retention);
      if (completed) {
        state.execution(id).flatMap(ExecutionRecord::response).ifPresent(r -> finishFrom(this, r));
      }
      return completed;
    }
  }

  /** A worker connected to this server. */
  private final class Local implements WorkerSession {
    final WorkerOffer offer;
    final WorkerListener<T, R> listener;
    final Mailbox mailbox;
    final Map<String, Running> active = new ConcurrentHashMap<>();
    private int reserved;
    volatile boolean connected = true;
    volatile boolean draining;

    Local(WorkerOffer offer, WorkerListener<T, R> listener, Mailbox mailbox) {
      this.offer = offer;
      this.listener = listener;
      this.mailbox = mailbox;
    }

    /** Takes a slot for a claim about to be made; false when none is free. */
    synchronized boolean reserve() {
      if (!connected || draining || reserved >= offer.spec().slots()) {
        return false;
      }
      reserved++;
      return true;
    }

    synchronized void release() {
      reserved--;
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
      draining = true;
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
      // The claims stay: the lease lets the worker re-attach elsewhere before they are requeued.
      state.unregister(name(), serverId);
    }
  }

  /** An execution given to a local worker. */
  private final class Running implements Assignment<T, R> {
    final Local worker;
    final QueuedExecution entry;
    final ActionRequest<T> request;
    final AtomicBoolean answered = new AtomicBoolean();
    final AtomicBoolean cancelled = new AtomicBoolean();

    Running(Local worker, QueuedExecution entry, T task) {
      this.worker = worker;
      this.entry = entry;
      this.request =
          new ActionRequest<>(
              entry.executionId(),
              build.bazel.remote.execution.v2.Platform.getDefaultInstance(),
              entry.priority(),
              task,
              entry.timeout());
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
