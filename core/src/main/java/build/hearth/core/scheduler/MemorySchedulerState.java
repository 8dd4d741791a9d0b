package build.hearth.core.scheduler;

import build.hearth.spi.scheduler.Adopted;
import build.hearth.spi.scheduler.Claim;
import build.hearth.spi.scheduler.Claimed;
import build.hearth.spi.scheduler.Enqueued;
import build.hearth.spi.scheduler.ExecutionRecord;
import build.hearth.spi.scheduler.QueuedExecution;
import build.hearth.spi.scheduler.Requeued;
import build.hearth.spi.scheduler.SchedulerState;
import build.hearth.spi.scheduler.WorkerRecord;
import com.google.protobuf.ByteString;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler state of one process: the {@code memory} type, for a single server and for tests.
 * One lock guards everything and is held only for in-memory work; listeners are told after it is
 * released, on the thread that made the change.
 *
 * <p>Completed executions are kept for their retention, but at most {@code maxCompletedBytes} of
 * responses: beyond that the oldest completed are dropped early, so a flood of completions cannot
 * grow the heap for the whole retention. Operations expire with their time to live; both are
 * dropped lazily, on the next call.
 */
final class MemorySchedulerState implements SchedulerState {
  private static final Logger logger = LoggerFactory.getLogger(MemorySchedulerState.class);

  // What one kept completed execution costs besides its response: the record, its id and maps.
  private static final long COMPLETED_OVERHEAD_BYTES = 256;

  private static final Comparator<Execution> DISPATCH_ORDER =
      Comparator.<Execution>comparingInt(e -> e.entry.priority())
          .thenComparing(e -> !e.entry.requeued())
          .thenComparingLong(e -> e.sequence);
  private static final Comparator<Execution> QUEUE_TIME_ORDER =
      Comparator.<Execution, Instant>comparing(e -> e.entry.enqueuedAt())
          .thenComparingLong(e -> e.sequence);
  private static final Comparator<Execution> DEADLINE_ORDER =
      Comparator.<Execution, Instant>comparing(e -> e.claim.deadline().orElseThrow())
          .thenComparingLong(e -> e.sequence);

  private final Clock clock;
  private final long maxCompletedBytes;
  private final List<Listener> listeners = new CopyOnWriteArrayList<>();

  private final Object lock = new Object();
  private final Map<String, Execution> executions = new HashMap<>();
  private final Map<String, TreeSet<Execution>> queues = new TreeMap<>();
  private final TreeSet<Execution> byQueueTime = new TreeSet<>(QUEUE_TIME_ORDER);
  private final TreeSet<Execution> byDeadline = new TreeSet<>(DEADLINE_ORDER);
  private final Map<String, String> inFlightByAction = new HashMap<>();
  private final ArrayDeque<Execution> completed = new ArrayDeque<>();
  private final Map<String, Operation> operations = new HashMap<>();
  private final PriorityQueue<Operation> operationsByExpiry =
      new PriorityQueue<>(Comparator.comparing(Operation::expiresAt));
  private final Map<String, Worker> workers = new HashMap<>();
  private long claimed;
  private long completedBytes;
  private long nextSequence;

  /** One execution; fields guarded by the lock. */
  private static final class Execution {
    final String id;
    final String actionKey;
    // Null once completed: the task is not needed any more.
    QueuedExecution entry;
    int attempt;
    long sequence;
    ExecutionRecord.Stage stage = ExecutionRecord.Stage.QUEUED;
    Claim claim;
    ByteString response;
    Instant expiresAt;
    long bytes;

    Execution(QueuedExecution entry) {
      this.id = entry.executionId();
      this.actionKey = entry.actionKey();
      this.entry = entry;
      this.attempt = entry.attempt();
    }
  }

  private record Operation(String name, String executionId, Instant expiresAt) {}

  /** A worker's registration (null while unregistered), its lease and its claims. */
  private static final class Worker {
    WorkerRecord record;
    Instant leaseUntil;
    final Set<String> claims = new LinkedHashSet<>();
  }

  MemorySchedulerState(Clock clock, long maxCompletedBytes) {
    this.clock = clock;
    this.maxCompletedBytes = maxCompletedBytes;
  }

  // ---- the queue ----

  @Override
  public Enqueued enqueue(QueuedExecution entry, int maxQueued) {
    Enqueued answer;
    synchronized (lock) {
      expire();
      if (executions.containsKey(entry.executionId())) {
        return new Enqueued(Enqueued.Outcome.QUEUED, entry.executionId(), byQueueTime.size());
      }
      String running = entry.actionKey().isEmpty() ? null : inFlightByAction.get(entry.actionKey());
      if (running != null) {
        return new Enqueued(Enqueued.Outcome.JOINED, running, byQueueTime.size());
      }
      if (byQueueTime.size() >= maxQueued) {
        return new Enqueued(Enqueued.Outcome.FULL, entry.executionId(), byQueueTime.size());
      }
      Execution execution = new Execution(entry);
      executions.put(entry.executionId(), execution);
      if (!entry.actionKey().isEmpty()) {
        inFlightByAction.put(entry.actionKey(), entry.executionId());
      }
      queue(execution);
      answer = new Enqueued(Enqueued.Outcome.QUEUED, entry.executionId(), byQueueTime.size());
    }
    tell(listener -> listener.queued(entry.queueKey()));
    return answer;
  }

  @Override
  public Map<String, Long> queues() {
    synchronized (lock) {
      Map<String, Long> lengths = new TreeMap<>();
      queues.forEach((key, queue) -> lengths.put(key, (long) queue.size()));
      return lengths;
    }
  }

  @Override
  public Optional<Claimed> claim(
      Collection<String> queueKeys, String workerId, String serverId, Instant now, Duration grace) {
    synchronized (lock) {
      Execution best = null;
      for (String key : queueKeys) {
        TreeSet<Execution> queue = queues.get(key);
        if (queue != null && (best == null || DISPATCH_ORDER.compare(queue.first(), best) < 0)) {
          best = queue.first();
        }
      }
      if (best == null) {
        return Optional.empty();
      }
      unqueue(best);
      Duration timeout = best.entry.timeout();
      Optional<Instant> deadline =
          timeout.isZero() ? Optional.empty() : Optional.of(now.plus(timeout).plus(grace));
      best.claim =
          new Claim(
              best.entry.executionId(), workerId, serverId, best.entry.attempt(), now, deadline);
      best.stage = ExecutionRecord.Stage.EXECUTING;
      if (deadline.isPresent()) {
        byDeadline.add(best);
      }
      workers.computeIfAbsent(workerId, id -> new Worker()).claims.add(best.entry.executionId());
      claimed++;
      return Optional.of(new Claimed(best.entry, best.claim));
    }
  }

  @Override
  public Requeued requeue(
      String executionId, String workerId, int maxRetries, boolean countAttempt, Instant now) {
    QueuedExecution again;
    synchronized (lock) {
      Execution execution = executions.get(executionId);
      if (execution == null
          || execution.claim == null
          || !execution.claim.workerId().equals(workerId)) {
        return new Requeued(Requeued.Outcome.NOT_CLAIMED, Optional.empty());
      }
      QueuedExecution entry = execution.entry;
      again = entry.requeuedAfter(workerId, countAttempt, now);
      if (countAttempt && entry.lostWith().size() >= maxRetries) {
        return new Requeued(Requeued.Outcome.GAVE_UP, Optional.of(again));
      }
      unclaim(execution);
      execution.entry = again;
      execution.attempt = again.attempt();
      queue(execution);
    }
    tell(listener -> listener.queued(again.queueKey()));
    return new Requeued(Requeued.Outcome.REQUEUED, Optional.of(again));
  }

  @Override
  public List<QueuedExecution> queuedBefore(Instant before, int max) {
    synchronized (lock) {
      List<QueuedExecution> old = new ArrayList<>();
      for (Execution execution : byQueueTime) {
        if (old.size() >= max || !execution.entry.enqueuedAt().isBefore(before)) {
          break;
        }
        old.add(execution.entry);
      }
      return old;
    }
  }

  @Override
  public List<Claim> overdueClaims(Instant now, int max) {
    synchronized (lock) {
      List<Claim> overdue = new ArrayList<>();
      for (Execution execution : byDeadline) {
        if (overdue.size() >= max || execution.claim.deadline().orElseThrow().isAfter(now)) {
          break;
        }
        overdue.add(execution.claim);
      }
      return overdue;
    }
  }

  @Override
  public Counts counts() {
    synchronized (lock) {
      return new Counts(byQueueTime.size(), claimed);
    }
  }

  // ---- executions ----

  @Override
  public boolean complete(String executionId, ByteString response, Duration retention) {
    synchronized (lock) {
      expire();
      Execution execution = executions.get(executionId);
      if (execution == null || execution.stage == ExecutionRecord.Stage.COMPLETED) {
        return false;
      }
      if (execution.stage == ExecutionRecord.Stage.QUEUED) {
        unqueue(execution);
      } else {
        unclaim(execution);
      }
      if (!execution.actionKey.isEmpty()) {
        inFlightByAction.remove(execution.actionKey, executionId);
      }
      execution.stage = ExecutionRecord.Stage.COMPLETED;
      execution.response = response;
      execution.entry = null;
      execution.expiresAt = clock.instant().plus(retention);
      execution.bytes = response.size() + COMPLETED_OVERHEAD_BYTES;
      completed.addLast(execution);
      completedBytes += execution.bytes;
      // Keeps at least the newest, whatever its size, so that its clients find their result.
      while (completedBytes > maxCompletedBytes && completed.size() > 1) {
        forget(completed.removeFirst());
      }
    }
    tell(listener -> listener.completed(executionId));
    return true;
  }

  @Override
  public Optional<ExecutionRecord> execution(String executionId) {
    synchronized (lock) {
      expire();
      Execution execution = executions.get(executionId);
      if (execution == null) {
        return Optional.empty();
      }
      return Optional.of(
          new ExecutionRecord(
              executionId,
              execution.actionKey,
              execution.stage,
              execution.attempt,
              execution.claim == null ? "" : execution.claim.workerId(),
              Optional.ofNullable(execution.response)));
    }
  }

  @Override
  public Optional<Claim> claimOf(String executionId) {
    synchronized (lock) {
      Execution execution = executions.get(executionId);
      return execution == null ? Optional.empty() : Optional.ofNullable(execution.claim);
    }
  }

  // ---- operations ----

  @Override
  public void putOperation(String operationName, String executionId, Duration ttl) {
    synchronized (lock) {
      expire();
      Operation operation = new Operation(operationName, executionId, clock.instant().plus(ttl));
      operations.put(operationName, operation);
      operationsByExpiry.add(operation);
    }
  }

  @Override
  public Optional<String> operation(String operationName) {
    synchronized (lock) {
      expire();
      Operation operation = operations.get(operationName);
      return operation == null ? Optional.empty() : Optional.of(operation.executionId());
    }
  }

  // ---- workers ----

  @Override
  public void register(WorkerRecord record, Instant now, Duration lease) {
    synchronized (lock) {
      Worker worker = workers.computeIfAbsent(record.workerId(), id -> new Worker());
      worker.record = record;
      worker.leaseUntil = now.plus(lease);
    }
  }

  @Override
  public boolean renew(String workerId, String serverId, Instant now, Duration lease) {
    synchronized (lock) {
      Worker worker = workers.get(workerId);
      if (worker == null || worker.record == null || !worker.record.serverId().equals(serverId)) {
        return false;
      }
      worker.leaseUntil = now.plus(lease);
      return true;
    }
  }

  @Override
  public void unregister(String workerId, String serverId) {
    synchronized (lock) {
      Worker worker = workers.get(workerId);
      if (worker != null && worker.record != null && worker.record.serverId().equals(serverId)) {
        worker.record = null;
        if (worker.claims.isEmpty()) {
          workers.remove(workerId);
        }
      }
    }
  }

  @Override
  public List<WorkerRecord> workers(Instant now) {
    synchronized (lock) {
      List<WorkerRecord> live = new ArrayList<>();
      for (Worker worker : workers.values()) {
        if (worker.record != null && worker.leaseUntil.isAfter(now)) {
          live.add(worker.record);
        }
      }
      live.sort(Comparator.comparing(WorkerRecord::workerId));
      return live;
    }
  }

  @Override
  public List<Claim> lapsed(Instant now, int max) {
    synchronized (lock) {
      List<Claim> orphaned = new ArrayList<>();
      List<String> gone = new ArrayList<>();
      for (Map.Entry<String, Worker> entry : workers.entrySet()) {
        Worker worker = entry.getValue();
        if (worker.leaseUntil != null && worker.leaseUntil.isAfter(now)) {
          continue;
        }
        worker.record = null;
        for (String executionId : worker.claims) {
          if (orphaned.size() < max) {
            orphaned.add(executions.get(executionId).claim);
          }
        }
        if (worker.claims.isEmpty()) {
          gone.add(entry.getKey());
        }
      }
      gone.forEach(workers::remove);
      return orphaned;
    }
  }

  @Override
  public Adopted adopt(String workerId, String serverId, Collection<String> running) {
    synchronized (lock) {
      Worker worker = workers.get(workerId);
      if (worker == null) {
        return new Adopted(List.of(), List.of());
      }
      Set<String> stillRunning = new HashSet<>(running);
      List<Claimed> adopted = new ArrayList<>();
      List<Claim> notRunning = new ArrayList<>();
      for (String executionId : worker.claims) {
        Execution execution = executions.get(executionId);
        if (stillRunning.contains(executionId)) {
          boolean due = execution.claim.deadline().isPresent();
          if (due) {
            byDeadline.remove(execution);
          }
          Claim claim = execution.claim;
          execution.claim =
              new Claim(
                  claim.executionId(),
                  claim.workerId(),
                  serverId,
                  claim.attempt(),
                  claim.claimedAt(),
                  claim.deadline());
          if (due) {
            byDeadline.add(execution);
          }
          adopted.add(new Claimed(execution.entry, execution.claim));
        } else {
          notRunning.add(execution.claim);
        }
      }
      return new Adopted(adopted, notRunning);
    }
  }

  // ---- notifications ----

  @Override
  public AutoCloseable subscribe(Listener listener) {
    listeners.add(listener);
    return () -> listeners.remove(listener);
  }

  @Override
  public void close() {
    listeners.clear();
  }

  // ---- with the lock held ----

  private void queue(Execution execution) {
    execution.sequence = nextSequence++;
    execution.stage = ExecutionRecord.Stage.QUEUED;
    queues
        .computeIfAbsent(execution.entry.queueKey(), key -> new TreeSet<>(DISPATCH_ORDER))
        .add(execution);
    byQueueTime.add(execution);
  }

  private void unqueue(Execution execution) {
    String key = execution.entry.queueKey();
    TreeSet<Execution> queue = queues.get(key);
    queue.remove(execution);
    if (queue.isEmpty()) {
      queues.remove(key);
    }
    byQueueTime.remove(execution);
  }

  private void unclaim(Execution execution) {
    Claim claim = execution.claim;
    if (claim.deadline().isPresent()) {
      byDeadline.remove(execution);
    }
    Worker worker = workers.get(claim.workerId());
    if (worker != null) {
      worker.claims.remove(execution.id);
      if (worker.claims.isEmpty() && worker.record == null) {
        workers.remove(claim.workerId());
      }
    }
    execution.claim = null;
    claimed--;
  }

  private void forget(Execution execution) {
    completedBytes -= execution.bytes;
    executions.remove(execution.id);
  }

  private void expire() {
    Instant now = clock.instant();
    Execution oldest;
    // Retention is the same for most executions, so the deque is close to expiry order; one kept
    // longer than a later one only delays that later one's removal.
    while ((oldest = completed.peekFirst()) != null && !oldest.expiresAt.isAfter(now)) {
      forget(completed.removeFirst());
    }
    Operation operation;
    while ((operation = operationsByExpiry.peek()) != null && !operation.expiresAt().isAfter(now)) {
      operationsByExpiry.poll();
      operations.remove(operation.name(), operation);
    }
  }

  private void tell(Consumer<Listener> event) {
    for (Listener listener : listeners) {
      try {
        event.accept(listener);
      } catch (RuntimeException e) {
        logger.warn("a scheduler-state listener failed", e);
      }
    }
  }
}
