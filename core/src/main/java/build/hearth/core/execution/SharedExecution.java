package build.hearth.core.execution;

import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionStage;
import build.hearth.api.Digest;
import build.hearth.api.Execution;
import build.hearth.core.scheduler.Ticket;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One execution, shared by every request merged onto it.
 *
 * <p>Interest is counted in two ways. Each {@code execute} call that returned this execution holds
 * a <em>claim</em> until a {@linkplain #watch() watch} is taken, which replaces one claim; the
 * execution is cancelled only when no claim and no watch is left. So a request that joins just as
 * the last watcher leaves keeps the execution alive until its own transport watches it, and an
 * embedder that calls {@code execute} without ever watching lets it run to its end.
 *
 * <p>Thread-safe. The fields below are guarded by {@code this}; listeners and the scheduler are
 * called only after the monitor is released.
 */
final class SharedExecution implements Execution {
  private final String name;
  private final Digest actionDigest;
  private final Consumer<SharedExecution> onComplete;
  private final CompletableFuture<ExecuteResponse> result = new CompletableFuture<>();

  private ExecutionStage.Value stage;
  private List<StageFeed> feeds = new ArrayList<>();
  private int claims;
  private int watches;
  private boolean cancelRequested;
  private boolean done;
  private Ticket<?> ticket;

  // Set once the execution completed; after this instant find() no longer returns it.
  private volatile Instant expiresAt;

  private SharedExecution(
      String name, Digest actionDigest, Consumer<SharedExecution> onComplete, int claims) {
    this.name = name;
    this.actionDigest = actionDigest;
    this.onComplete = onComplete;
    this.claims = claims;
    this.stage = ExecutionStage.Value.QUEUED;
  }

  /** A queued execution, claimed by the call that creates it; {@link #start} it next. */
  static SharedExecution queued(
      String name, Digest actionDigest, Consumer<SharedExecution> onComplete) {
    return new SharedExecution(name, actionDigest, onComplete, 1);
  }

  /** An execution answered at once, such as from the action cache. */
  static SharedExecution completed(String name, Digest actionDigest, ExecuteResponse response) {
    SharedExecution execution = new SharedExecution(name, actionDigest, unused -> {}, 0);
    execution.complete(response);
    return execution;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public Digest actionDigest() {
    return actionDigest;
  }

  @Override
  public synchronized ExecutionStage.Value stage() {
    return stage;
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
    StageFeed feed = new StageFeed(name, listener, executor);
    synchronized (this) {
      feed.offer(stage);
      if (!done) {
        feeds.add(feed);
      }
    }
    feed.schedule();
  }

  @Override
  public Watch watch() {
    synchronized (this) {
      if (claims > 0) {
        claims--;
      }
      watches++;
    }
    AtomicBoolean closed = new AtomicBoolean();
    return () -> {
      if (closed.compareAndSet(false, true)) {
        release();
      }
    };
  }

  private void release() {
    Ticket<?> toCancel;
    synchronized (this) {
      watches--;
      if (watches > 0 || claims > 0 || done || cancelRequested) {
        return;
      }
      cancelRequested = true;
      toCancel = ticket;
    }
    // Without a ticket yet, start() sees cancelRequested and cancels it.
    if (toCancel != null) {
      toCancel.cancel();
    }
  }

  @Override
  public boolean cancel() {
    Ticket<?> toCancel;
    synchronized (this) {
      if (done) {
        return false;
      }
      cancelRequested = true;
      toCancel = ticket;
    }
    return toCancel == null || toCancel.cancel();
  }

  /**
   * Adds a claim for another request that merges onto this execution.
   *
   * @return false if it has completed or is being cancelled, and so cannot be joined
   */
  synchronized boolean tryJoin() {
    if (done || cancelRequested) {
      return false;
    }
    claims++;
    return true;
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
    List<StageFeed> toWake;
    synchronized (this) {
      if (done || stage == next) {
        return;
      }
      stage = next;
      for (StageFeed feed : feeds) {
        feed.offer(next);
      }
      toWake = List.copyOf(feeds);
    }
    toWake.forEach(StageFeed::schedule);
  }

  /** Completes the execution with {@code response}; later calls are ignored. */
  void complete(ExecuteResponse response) {
    List<StageFeed> toWake;
    synchronized (this) {
      if (done) {
        return;
      }
      done = true;
      stage = ExecutionStage.Value.COMPLETED;
      for (StageFeed feed : feeds) {
        feed.offer(ExecutionStage.Value.COMPLETED);
      }
      toWake = feeds;
      feeds = List.of();
      ticket = null;
    }
    onComplete.accept(this);
    result.complete(response);
    toWake.forEach(StageFeed::schedule);
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
    return "Execution{" + name + ", " + actionDigest + ", " + stage() + "}";
  }
}
