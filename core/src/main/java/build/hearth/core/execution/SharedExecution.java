package build.hearth.core.execution;

import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionStage;
import build.hearth.api.Digest;
import build.hearth.api.Execution;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.scheduler.Ticket;
import com.google.rpc.Status;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One execution, shared by every request merged onto it. Each request gets its own {@link
 * Operation}: an {@link Execution} with its own operation name, result and stage listeners, so that
 * what one client does to its operation (cancel it, stop following it) is about that client only.
 *
 * <p>Interest is counted per operation in two ways. The {@code execute} call that returned an
 * operation holds a <em>claim</em> until a {@linkplain Execution#watch() watch} is taken on it,
 * which replaces the claim; the execution is cancelled only when no claim and no watch is left on
 * any of its operations. So a request that joins just as the last watcher leaves keeps the
 * execution alive until its own transport watches it, and an embedder that calls {@code execute}
 * without ever watching lets it run to its end. When the last watch closes, the execution waits a
 * {@linkplain ReattachGrace grace period} before it is cancelled, so that a client whose stream
 * broke can re-attach with WaitExecution; any watch taken meanwhile keeps it. {@linkplain
 * Execution#cancel() Cancelling} an operation withdraws its claim and watches at once and completes
 * that operation as CANCELLED; the execution runs on for the operations left, and is cancelled with
 * the last.
 *
 * <p>Thread-safe. The fields below, and those of every operation, are guarded by {@code this};
 * listeners and the scheduler are called only after the monitor is released.
 */
final class SharedExecution {
  /**
   * The most operations one execution holds by default. Each Execute that merges onto an execution
   * in flight adds an operation (with its own name, result and watches) that lives as long as the
   * execution, up to the maximum queue time and the action's timeout; without a bound one client
   * repeating an Execute could grow the heap until then. A thousand clients waiting for the same
   * action at once is far past any real build; a client beyond it can wait on an operation it has
   * with WaitExecution, or retry once the action is done (then it is an action-cache hit).
   */
  static final int DEFAULT_MAX_OPERATIONS = 1000;

  /** The limit's name in refusals and in {@code hearth_limit_refusals_total}. */
  static final String OPERATIONS_LIMIT = "operations_per_execution";

  // Duplicates wait for the execution to end; a second is a polite first wait.
  private static final Duration RETRY_AFTER = Duration.ofSeconds(1);

  private final String name;
  private final Digest actionDigest;
  private final Consumer<SharedExecution> onComplete;
  private final ReattachGrace grace;
  private final Limit maxOperations;
  private final List<Operation> operations = new ArrayList<>(1);
  // The serialized size of the response, once completed; what keeping it costs, roughly.
  private volatile int responseBytes;

  private ExecutionStage.Value stage;
  private int claims;
  private int watches;
  // Counts watches ever taken, so that a grace timer knows whether anyone re-attached meanwhile.
  private long watchesTaken;
  private boolean cancelRequested;
  private boolean done;
  private Ticket<?> ticket;

  // Set once the execution completed; after this instant find() no longer returns it.
  private volatile Instant expiresAt;

  /**
   * The bound on operations per execution and the configuration field that sets it, which a refusal
   * names.
   */
  record Limit(int max, String field) {
    Limit {
      if (max < 1) {
        throw new IllegalArgumentException(field + " must be positive: " + max);
      }
    }
  }

  private SharedExecution(
      String name,
      Digest actionDigest,
      Consumer<SharedExecution> onComplete,
      ReattachGrace grace,
      Limit maxOperations) {
    this.name = name;
    this.actionDigest = actionDigest;
    this.onComplete = onComplete;
    this.grace = grace;
    this.maxOperations = maxOperations;
    this.stage = ExecutionStage.Value.QUEUED;
  }

  /**
   * A queued execution and the operation of the call that creates it, which holds a claim; {@link
   * #start} it next.
   *
   * @param grace how long it waits for a client to re-attach once nobody watches it
   * @param maxOperations how many operations it takes at most, this one included
   */
  static SharedExecution queued(
      String name,
      Digest actionDigest,
      Consumer<SharedExecution> onComplete,
      ReattachGrace grace,
      Limit maxOperations) {
    SharedExecution execution =
        new SharedExecution(name, actionDigest, onComplete, grace, maxOperations);
    synchronized (execution) {
      execution.operations.add(execution.new Operation(name, true));
      execution.claims = 1;
    }
    return execution;
  }

  /** An execution answered at once, such as from the action cache, with one operation. */
  static SharedExecution completed(String name, Digest actionDigest, ExecuteResponse response) {
    SharedExecution execution =
        new SharedExecution(
            name,
            actionDigest,
            unused -> {},
            new ReattachGrace(Duration.ZERO, null),
            new Limit(1, "(an execution answered at once has one operation)"));
    synchronized (execution) {
      execution.operations.add(execution.new Operation(name, false));
    }
    execution.complete(response);
    return execution;
  }

  /**
   * The serialized size of the response this execution completed with, which every one of its
   * operations shares; 0 before it completed.
   */
  int responseBytes() {
    return responseBytes;
  }

  /** The name of the first operation, which names the execution in the scheduler and in logs. */
  String name() {
    return name;
  }

  Digest actionDigest() {
    return actionDigest;
  }

  /** The operation of the call that created this execution. */
  synchronized Operation first() {
    return operations.get(0);
  }

  /** Every operation of this execution; complete once it has completed. */
  synchronized List<Operation> operations() {
    return List.copyOf(operations);
  }

  /**
   * Adds an operation, holding a claim, for another request that merges onto this execution, and
   * hands it to {@code register} before anyone else can see it.
   *
   * @param register called with the operation while no completion can intervene, so that it is
   *     findable exactly as long as the execution's other operations
   * @return the new operation, or null if the execution has completed or is being cancelled, and so
   *     cannot be joined
   * @throws HearthException RESOURCE_EXHAUSTED (limit {@code operations_per_execution}, with a
   *     retry hint) if it holds its maximum of operations already
   */
  synchronized Operation tryJoin(String operationName, Consumer<Operation> register) {
    if (done || cancelRequested) {
      return null;
    }
    if (operations.size() >= maxOperations.max()) {
      throw HearthException.limitReached(
          OPERATIONS_LIMIT,
          RETRY_AFTER,
          "action %s was refused: its execution %s already has %d operations, one per Execute"
              + " merged onto it (at most %d per execution: %s is %d); wait on an operation you"
              + " have with WaitExecution, or retry later",
          actionDigest,
          name,
          operations.size(),
          maxOperations.max(),
          maxOperations.field(),
          maxOperations.max());
    }
    Operation operation = new Operation(operationName, true);
    operations.add(operation);
    claims++;
    register.accept(operation);
    return operation;
  }

  /** Follows the scheduler's ticket; the caller completes this execution when the ticket does. */
  void start(Ticket<?> ticket) {
    boolean cancelNow;
    synchronized (this) {
      this.ticket = ticket;
      cancelNow = cancelRequested;
    }
    ticket.addStageListener(this::ticketStage);
    if (cancelNow) {
      ticket.cancel();
    }
  }

  private void ticketStage(Ticket.Stage ticketStage) {
    switch (ticketStage) {
      case QUEUED -> moveTo(ExecutionStage.Value.QUEUED);
      case EXECUTING -> moveTo(ExecutionStage.Value.EXECUTING);
        // COMPLETED comes with the response, after the action cache was written.
      case COMPLETED -> {}
    }
  }

  private void moveTo(ExecutionStage.Value next) {
    List<StageFeed> toWake = new ArrayList<>();
    synchronized (this) {
      if (done || stage == next) {
        return;
      }
      stage = next;
      for (Operation operation : operations) {
        for (StageFeed feed : operation.feeds) {
          feed.offer(next);
          toWake.add(feed);
        }
      }
    }
    toWake.forEach(StageFeed::schedule);
  }

  /** Completes the execution with {@code response}; later calls are ignored. */
  void complete(ExecuteResponse response) {
    List<StageFeed> toWake = new ArrayList<>();
    List<Operation> toAnswer = new ArrayList<>();
    synchronized (this) {
      if (done) {
        return;
      }
      done = true;
      stage = ExecutionStage.Value.COMPLETED;
      responseBytes = response.getSerializedSize();
      for (Operation operation : operations) {
        if (operation.detached) {
          continue; // answered when its client cancelled it
        }
        for (StageFeed feed : operation.feeds) {
          feed.offer(ExecutionStage.Value.COMPLETED);
          toWake.add(feed);
        }
        operation.feeds = List.of();
        toAnswer.add(operation);
      }
      ticket = null;
    }
    onComplete.accept(this);
    for (Operation operation : toAnswer) {
      operation.result.complete(response);
    }
    toWake.forEach(StageFeed::schedule);
  }

  /**
   * Called when a watch closed: if nobody wants the execution any more, cancels it after the grace
   * unless a watch is taken meanwhile.
   */
  private void cancelAfterGraceIfUnwanted() {
    long taken;
    synchronized (this) {
      if (watches > 0 || claims > 0 || done || cancelRequested) {
        return;
      }
      taken = watchesTaken;
    }
    grace.afterGrace(() -> cancelIfUnwanted(taken));
  }

  /** Cancels the execution if no operation holds a claim or a watch any more. */
  private void cancelIfUnwanted() {
    cancelIfUnwanted(-1);
  }

  /**
   * Cancels the execution if no operation holds a claim or a watch any more and, unless {@code
   * taken} is -1, no watch was taken since {@link #watchesTaken} was {@code taken}.
   */
  private void cancelIfUnwanted(long taken) {
    Ticket<?> toCancel;
    synchronized (this) {
      if (watches > 0 || claims > 0 || done || cancelRequested) {
        return;
      }
      if (taken != -1 && taken != watchesTaken) {
        return; // someone re-attached and left again; their own grace timer decides
      }
      cancelRequested = true;
      toCancel = ticket;
    }
    // Without a ticket yet, start() sees cancelRequested and cancels it.
    if (toCancel != null) {
      toCancel.cancel();
    }
  }

  void expiresAt(Instant instant) {
    expiresAt = instant;
  }

  /** Whether it completed and has been kept long enough, at {@code now}. */
  boolean expired(Instant now) {
    Instant expiry = expiresAt;
    return expiry != null && !now.isBefore(expiry);
  }

  Instant expiresAt() {
    return expiresAt;
  }

  @Override
  public String toString() {
    return "SharedExecution{" + name + ", " + actionDigest + "}";
  }

  /**
   * One request's view of the shared execution, under its own operation name: what WaitExecution,
   * GetOperation and CancelOperation find by that name.
   */
  final class Operation implements Execution {
    private final String operationName;
    private final CompletableFuture<ExecuteResponse> result = new CompletableFuture<>();
    // Guarded by the SharedExecution's monitor.
    private boolean claimed;
    private int ownWatches;
    private boolean detached;
    private List<StageFeed> feeds = new ArrayList<>();

    private Operation(String operationName, boolean claimed) {
      this.operationName = operationName;
      this.claimed = claimed;
    }

    /** The execution this operation follows. */
    SharedExecution execution() {
      return SharedExecution.this;
    }

    @Override
    public String name() {
      return operationName;
    }

    @Override
    public Digest actionDigest() {
      return actionDigest;
    }

    @Override
    public ExecutionStage.Value stage() {
      synchronized (SharedExecution.this) {
        return detached ? ExecutionStage.Value.COMPLETED : stage;
      }
    }

    /**
     * A new future for each caller, so that one caller completing or cancelling its copy does not
     * change what the others see; {@link #cancel()} is the way to cancel.
     */
    @Override
    public CompletableFuture<ExecuteResponse> result() {
      return result.copy();
    }

    @Override
    public void addStageListener(Consumer<ExecutionStage.Value> listener, Executor executor) {
      Objects.requireNonNull(listener, "listener");
      Objects.requireNonNull(executor, "executor");
      StageFeed feed = new StageFeed(operationName, listener, executor);
      synchronized (SharedExecution.this) {
        boolean over = done || detached;
        feed.offer(over ? ExecutionStage.Value.COMPLETED : stage);
        if (!over) {
          feeds.add(feed);
        }
      }
      feed.schedule();
    }

    @Override
    public Watch watch() {
      synchronized (SharedExecution.this) {
        if (detached) {
          return () -> {};
        }
        if (claimed) {
          claimed = false;
          claims--;
        }
        ownWatches++;
        watches++;
        watchesTaken++;
      }
      AtomicBoolean closed = new AtomicBoolean();
      return new Watch() {
        @Override
        public void close() {
          if (closed.compareAndSet(false, true)) {
            release(true);
          }
        }

        @Override
        public void abandon() {
          if (closed.compareAndSet(false, true)) {
            release(false);
          }
        }
      };
    }

    /**
     * @param grace whether the client may still come back, so that an execution nobody wants any
     *     more waits for the re-attach grace before it is cancelled
     */
    private void release(boolean grace) {
      synchronized (SharedExecution.this) {
        if (detached) {
          return; // cancel() withdrew this watch already
        }
        ownWatches--;
        watches--;
      }
      if (grace) {
        cancelAfterGraceIfUnwanted();
      } else {
        cancelIfUnwanted();
      }
    }

    /**
     * Detaches this operation: it completes at once as CANCELLED, and the execution is cancelled
     * only if no other operation still wants it.
     */
    @Override
    public boolean cancel() {
      List<StageFeed> toWake;
      boolean alone;
      synchronized (SharedExecution.this) {
        if (done || detached) {
          return false;
        }
        detached = true;
        if (claimed) {
          claimed = false;
          claims--;
        }
        watches -= ownWatches;
        ownWatches = 0;
        for (StageFeed feed : feeds) {
          feed.offer(ExecutionStage.Value.COMPLETED);
        }
        toWake = feeds;
        feeds = List.of();
        alone = claims == 0 && watches == 0;
      }
      String message =
          alone
              ? operationName + " was cancelled"
              : operationName
                  + " was cancelled; the action runs on for the other clients that asked for it";
      result.complete(
          ExecuteResponse.newBuilder()
              .setStatus(
                  Status.newBuilder().setCode(StatusCode.CANCELLED.value()).setMessage(message))
              .build());
      toWake.forEach(StageFeed::schedule);
      cancelIfUnwanted();
      return true;
    }

    @Override
    public String toString() {
      return "Execution{" + operationName + ", " + actionDigest + ", " + stage() + "}";
    }
  }
}
