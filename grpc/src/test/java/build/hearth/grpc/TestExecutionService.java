package build.hearth.grpc;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionStage;
import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.Execution;
import build.hearth.api.ExecutionService;
import build.hearth.api.HearthException;
import build.hearth.api.MissingBlobsException;
import build.hearth.api.StatusCode;
import build.hearth.grpc.common.Rpc;
import com.google.protobuf.InvalidProtocolBufferException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

/**
 * An {@link ExecutionService} that behaves as the contract says, except that nothing runs: a test
 * moves each execution through its stages and completes it. It checks the CAS for the action and
 * its command, answers from the real action cache, merges identical in-flight actions, counts
 * watches and cancels an execution when its last watch closes.
 */
public final class TestExecutionService implements ExecutionService {
  private final ContentAddressableStorage cas;
  private final ActionCache actionCache;
  private final Map<String, TestExecution> byName = new ConcurrentHashMap<>();
  private final Map<Digest, TestExecution> inFlight = new ConcurrentHashMap<>();
  public final List<ExecuteRequest> requests = new CopyOnWriteArrayList<>();

  public TestExecutionService(ContentAddressableStorage cas, ActionCache actionCache) {
    this.cas = cas;
    this.actionCache = actionCache;
  }

  @Override
  public Execution execute(ExecuteRequest request) {
    requests.add(request);
    Digest action = Digest.fromProto(request.getActionDigest());
    if (!cas.contains(action)) {
      throw new MissingBlobsException(
          "action " + action + " is not in the CAS; upload it and execute again", List.of(action));
    }
    Action parsed;
    try {
      parsed = Action.parseFrom(cas.get(action));
    } catch (InvalidProtocolBufferException e) {
      throw HearthException.invalidArgument("action %s is not an Action", action);
    }
    Digest command = Digest.fromProto(parsed.getCommandDigest());
    if (!cas.contains(command)) {
      throw new MissingBlobsException(
          "command "
              + command
              + " of action "
              + action
              + " is not in the CAS; upload it and"
              + " execute again",
          List.of(command));
    }
    if (!request.getSkipCacheLookup()) {
      Optional<ActionResult> cached = actionCache.get(action);
      if (cached.isPresent()) {
        TestExecution hit = register(new TestExecution(action));
        hit.complete(
            ExecuteResponse.newBuilder().setResult(cached.get()).setCachedResult(true).build());
        return hit;
      }
    }
    return inFlight.compute(
        action,
        (key, running) ->
            running != null && !running.result().isDone()
                ? running
                : register(new TestExecution(action)));
  }

  @Override
  public Optional<Execution> find(String operationName) {
    return Optional.ofNullable(byName.get(operationName));
  }

  /** The execution of {@code action} that is (or was last) in flight. */
  public TestExecution inFlight(Digest action) {
    TestExecution execution = inFlight.get(action);
    if (execution == null) {
      throw new AssertionError("no execution of " + action);
    }
    return execution;
  }

  private TestExecution register(TestExecution execution) {
    byName.put(execution.name(), execution);
    return execution;
  }

  /** One execution, driven by the test. */
  public static final class TestExecution implements Execution {
    private final String name = "operations/" + UUID.randomUUID();
    private final Digest actionDigest;
    private final CompletableFuture<ExecuteResponse> result = new CompletableFuture<>();
    private final List<Listener> listeners = new ArrayList<>();
    private final AtomicInteger cancels = new AtomicInteger();
    private final AtomicInteger watchesTaken = new AtomicInteger();
    private ExecutionStage.Value stage = ExecutionStage.Value.QUEUED;
    private int openWatches;

    TestExecution(Digest actionDigest) {
      this.actionDigest = actionDigest;
    }

    private record Listener(Consumer<ExecutionStage.Value> consumer, Executor executor) {}

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

    @Override
    public CompletableFuture<ExecuteResponse> result() {
      return result;
    }

    @Override
    public synchronized void addStageListener(
        Consumer<ExecutionStage.Value> listener, Executor executor) {
      listeners.add(new Listener(listener, executor));
      ExecutionStage.Value current = stage;
      executor.execute(() -> listener.accept(current));
    }

    /** Moves to EXECUTING, as when a worker takes the action. */
    public void startExecuting() {
      advance(ExecutionStage.Value.EXECUTING);
    }

    /** Moves back to QUEUED, as when the worker is lost. */
    public void requeue() {
      advance(ExecutionStage.Value.QUEUED);
    }

    /** Completes with {@code response}; false if already completed. */
    public boolean complete(ExecuteResponse response) {
      synchronized (this) {
        if (stage == ExecutionStage.Value.COMPLETED) {
          return false;
        }
        advance(ExecutionStage.Value.COMPLETED);
      }
      result.complete(response);
      return true;
    }

    private synchronized void advance(ExecutionStage.Value next) {
      if (stage == ExecutionStage.Value.COMPLETED) {
        throw new IllegalStateException(name + " already completed");
      }
      stage = next;
      // Submitted under the lock, so each listener's executor receives the stages in order.
      for (Listener listener : listeners) {
        listener.executor().execute(() -> listener.consumer().accept(next));
      }
    }

    @Override
    public Watch watch() {
      synchronized (this) {
        openWatches++;
      }
      watchesTaken.incrementAndGet();
      AtomicBoolean closed = new AtomicBoolean();
      return () -> {
        if (!closed.compareAndSet(false, true)) {
          return;
        }
        boolean abandoned;
        synchronized (this) {
          openWatches--;
          abandoned = openWatches == 0 && stage != ExecutionStage.Value.COMPLETED;
        }
        if (abandoned) {
          cancel();
        }
      };
    }

    @Override
    public boolean cancel() {
      cancels.incrementAndGet();
      return complete(
          ExecuteResponse.newBuilder()
              .setStatus(Rpc.rpcStatus(StatusCode.CANCELLED, "cancelled"))
              .build());
    }

    public synchronized int openWatches() {
      return openWatches;
    }

    public int watchesTaken() {
      return watchesTaken.get();
    }

    public int cancels() {
      return cancels.get();
    }
  }
}
