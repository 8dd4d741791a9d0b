package build.hearth.grpc.reapi;

import build.hearth.api.Execution;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.internal.ProtoTime;
import build.hearth.grpc.common.Instances;
import build.hearth.grpc.common.Rpc;
import com.google.longrunning.CancelOperationRequest;
import com.google.longrunning.DeleteOperationRequest;
import com.google.longrunning.GetOperationRequest;
import com.google.longrunning.ListOperationsRequest;
import com.google.longrunning.ListOperationsResponse;
import com.google.longrunning.Operation;
import com.google.longrunning.OperationsGrpc;
import com.google.longrunning.WaitOperationRequest;
import com.google.protobuf.Empty;
import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.Executor;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The {@code google.longrunning.Operations} service over the executions of every instance, found by
 * operation name. Bazel does not use it; it serves tools and people that poll an operation or
 * cancel it. Every Execute call has an operation name of its own, so CancelOperation cancels the
 * caller's operation only: an execution that other clients merged onto runs on for them, and is
 * cancelled when the last of its operations is. Operations are listed and forgotten by the core
 * only, so ListOperations and DeleteOperation are UNIMPLEMENTED.
 *
 * <p>WaitOperation holds no thread: a waiting call is a small record woken by the execution's
 * result or by a timer, whichever comes first. Waiting does not take an {@link Execution.Watch}, so
 * a client that only polls does not keep an execution alive that its Execute caller abandoned.
 */
public final class OperationsGrpcService extends OperationsGrpc.OperationsImplBase {
  /** The longest a WaitOperation waits, whatever it asks for; the client can ask again. */
  static final Duration MAX_WAIT = Duration.ofMinutes(10);

  /** The most taken off the client's deadline so that the answer reaches it in time. */
  private static final long MAX_DEADLINE_MARGIN_NANOS = TimeUnit.SECONDS.toNanos(1);

  private final Instances instances;
  private final Executor pool;
  private final ScheduledExecutorService timer;

  /**
   * The calls waiting for each unfinished execution, by operation name. One result callback per
   * execution wakes them all, so a client polling with short timeouts does not pile callbacks onto
   * the execution's future.
   */
  private final ConcurrentMap<String, Set<Waiter>> waiting = new ConcurrentHashMap<>();

  /**
   * Serves the operations of the executions of {@code instances}.
   *
   * @param instances the server's instances
   * @param pool the executor that wakes a WaitOperation when its execution's result arrives
   * @param timer ends a WaitOperation that has waited as long as it may
   */
  public OperationsGrpcService(Instances instances, Executor pool, ScheduledExecutorService timer) {
    this.instances = instances;
    this.pool = pool;
    this.timer = timer;
  }

  @Override
  public void getOperation(GetOperationRequest request, StreamObserver<Operation> out) {
    Rpc.unary(out, () -> ExecutionOperations.snapshot(require(request.getName())));
  }

  @Override
  public void cancelOperation(CancelOperationRequest request, StreamObserver<Empty> out) {
    Rpc.unary(
        out,
        () -> {
          // Cancelling a finished operation is allowed and changes nothing, as google.longrunning
          // describes; its result stays what it was. Cancelling one that runs detaches it from its
          // execution (see Execution#cancel).
          require(request.getName()).cancel();
          return Empty.getDefaultInstance();
        });
  }

  @Override
  public void waitOperation(WaitOperationRequest request, StreamObserver<Operation> out) {
    Execution execution;
    long waitNanos;
    try {
      execution = require(request.getName());
      waitNanos = waitNanos(request);
    } catch (RuntimeException e) {
      out.onError(Rpc.toException(e));
      return;
    }
    if (waitNanos <= 0 || execution.result().isDone()) {
      Rpc.unary(out, () -> ExecutionOperations.snapshot(execution));
      return;
    }
    ServerCallStreamObserver<Operation> call = (ServerCallStreamObserver<Operation>) out;
    Waiter waiter = new Waiter(execution, call);
    call.setOnCancelHandler(waiter::cancelled);
    enqueue(waiter);
    try {
      waiter.timeout = timer.schedule(waiter::answer, waitNanos, TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // The server is stopping; answer with what there is rather than leave the call hanging.
      waiter.answer();
      return;
    }
    if (waiter.isOver()) {
      // Answered by the result before the timer existed to be cancelled.
      waiter.timeout.cancel(false);
    }
  }

  @Override
  public void listOperations(
      ListOperationsRequest request, StreamObserver<ListOperationsResponse> out) {
    out.onError(
        Rpc.toException(
            new HearthException(
                StatusCode.UNIMPLEMENTED,
                "ListOperations is not supported by this server; follow an operation by the name"
                    + " Execute returned, with WaitExecution, GetOperation or WaitOperation")));
  }

  @Override
  public void deleteOperation(DeleteOperationRequest request, StreamObserver<Empty> out) {
    out.onError(
        Rpc.toException(
            new HearthException(
                StatusCode.UNIMPLEMENTED,
                "DeleteOperation is not supported by this server; it forgets an operation by"
                    + " itself a while after it completes. To stop one, use CancelOperation")));
  }

  private Execution require(String name) {
    return instances
        .findExecution(name)
        .orElseThrow(
            () ->
                HearthException.notFound(
                    "no operation named \"%s\" on this server; it finished and has expired"
                        + " (completed operations are kept for a while, and only the latest ones),"
                        + " or the server restarted",
                    Instances.abbreviate(name)));
  }

  /**
   * How long to wait: the request's timeout, at most {@link #MAX_WAIT} (also when it has none), and
   * short enough that the answer arrives before the client's own deadline, since google.longrunning
   * asks for the shorter of the two.
   */
  private static long waitNanos(WaitOperationRequest request) {
    long wait = MAX_WAIT.toNanos();
    if (request.hasTimeout()) {
      Duration asked = ProtoTime.toDuration(request.getTimeout());
      if (asked.isNegative()) {
        throw HearthException.invalidArgument(
            "timeout %s is negative; give a duration of zero or more", asked);
      }
      wait = Math.min(wait, asked.toNanos());
    }
    Deadline deadline = Context.current().getDeadline();
    if (deadline != null) {
      long remaining = deadline.timeRemaining(TimeUnit.NANOSECONDS);
      wait = Math.min(wait, remaining - Math.min(remaining / 10, MAX_DEADLINE_MARGIN_NANOS));
    }
    return wait;
  }

  private void enqueue(Waiter waiter) {
    String name = waiter.execution.name();
    AtomicBoolean first = new AtomicBoolean();
    waiting.compute(
        name,
        (key, waiters) -> {
          if (waiters == null) {
            waiters = ConcurrentHashMap.newKeySet();
            first.set(true);
          }
          waiters.add(waiter);
          return waiters;
        });
    if (first.get()) {
      // Runs at once if the execution completed meanwhile. Removing the entry and waking its
      // waiters is atomic with respect to enqueue(), so a waiter either is in the set woken here or
      // starts a new set whose own callback wakes it.
      waiter.execution.result().whenCompleteAsync((response, failure) -> wake(name), pool);
    }
  }

  private void wake(String name) {
    Set<Waiter> waiters = waiting.remove(name);
    if (waiters != null) {
      waiters.forEach(Waiter::answer);
    }
  }

  /** One WaitOperation call; answered once, by the result, the timer or not at all if cancelled. */
  private final class Waiter {
    final Execution execution;
    private final ServerCallStreamObserver<Operation> call;
    private final AtomicBoolean over = new AtomicBoolean();
    volatile Future<?> timeout;

    Waiter(Execution execution, ServerCallStreamObserver<Operation> call) {
      this.execution = execution;
      this.call = call;
    }

    void answer() {
      if (finish()) {
        Rpc.unary(call, () -> ExecutionOperations.snapshot(execution));
      }
    }

    void cancelled() {
      finish();
    }

    boolean isOver() {
      return over.get();
    }

    private boolean finish() {
      if (!over.compareAndSet(false, true)) {
        return false;
      }
      // The set stays even when empty: its result callback is already registered and removes it.
      Set<Waiter> waiters = waiting.get(execution.name());
      if (waiters != null) {
        waiters.remove(this);
      }
      Future<?> pending = timeout;
      if (pending != null) {
        pending.cancel(false);
      }
      return true;
    }
  }
}
