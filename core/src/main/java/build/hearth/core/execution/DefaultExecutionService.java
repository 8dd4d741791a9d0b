package build.hearth.core.execution;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.Platform;
import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.Execution;
import build.hearth.api.ExecutionService;
import build.hearth.api.HearthException;
import build.hearth.api.MissingBlobsException;
import build.hearth.api.StatusCode;
import build.hearth.core.internal.Durations;
import build.hearth.core.scheduler.ActionRequest;
import build.hearth.core.scheduler.Scheduler;
import build.hearth.core.scheduler.Ticket;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Parser;
import com.google.rpc.Status;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The execution service of one instance. {@link #execute} does its checks and reads on the caller's
 * thread; everything after the scheduler took the action is driven by the ticket.
 *
 * <p>Every call of {@link #execute} gets its own operation name, also when it merges onto an
 * execution already in flight, so that cancelling or abandoning an operation concerns its own
 * client only (see {@link SharedExecution}). Two maps track executions: {@code inFlight} by action
 * digest, for merging (it never holds a {@code do_not_cache} action), and {@code byName}, each
 * operation by its name, for {@link #find}, which also keeps the operations of completed executions
 * until they expire. Expired ones are dropped lazily, on each call, in the order they completed;
 * and whenever more than {@code maxCompletedOperations} operations of completed executions are
 * kept, or they weigh more than {@code maxCompletedOperationBytes}, the oldest executions are
 * dropped at once, so that a flood of Execute calls (action-cache hits complete at once) cannot
 * hold their responses in memory for the whole retention. A completed execution weighs the
 * serialized size of its response, which all its operations share (big inline stdout or stderr
 * counts in full), plus {@link #OPERATION_OVERHEAD_BYTES} per operation. An execution in flight
 * takes at most {@code maxOperationsPerExecution} operations; a duplicate beyond them is refused
 * with RESOURCE_EXHAUSTED, so that repeating one Execute cannot grow memory until the action
 * completes.
 */
final class DefaultExecutionService implements ExecutionService {
  private static final Logger logger = LoggerFactory.getLogger(DefaultExecutionService.class);

  /**
   * The largest Action or Command blob this service parses. Real ones are a few kilobytes; the
   * bound keeps a digest naming some huge blob from being read into memory.
   */
  static final long MAX_MESSAGE_BYTES = 16L << 20;

  /**
   * What one kept operation of a completed execution costs in the heap besides the response it
   * shares with the execution's other operations: its name (a UUID under the instance's prefix),
   * the operation and its result future, its entry in the map of names, and for the first one the
   * execution itself, its action digest and its place in the queue of completed ones. Measured on
   * JDK 17 (64-bit, compressed pointers) at 540 bytes for an execution of one operation: the heap's
   * growth over 200,000 completed executions sharing one response, each in a map by name and a
   * queue, after full GCs. Rounded up; a further operation of a merged execution costs less.
   */
  static final long OPERATION_OVERHEAD_BYTES = 640;

  private final String instanceName;
  private final String operationPrefix;
  private final ContentAddressableStorage cas;
  private final Optional<ActionCache> actionCache;
  private final Scheduler<ExecutionTask, ActionOutcome> scheduler;
  private final Duration defaultTimeout;
  private final Duration maxTimeout;
  private final Clock clock;
  private final Duration retention;
  private final int maxCompletedOperations;
  private final long maxCompletedOperationBytes;
  private final SharedExecution.Limit maxOperationsPerExecution;
  private final ReattachGrace reattachGrace;
  private final Executor completionExecutor;
  private final ExecutionListener listener;
  private final Function<Digest, String> actionPages;
  // Whether the scheduler's result hook has already stamped and cached each result (a shared
  // scheduler, see ExecutionServices.resultHook), so that this service only builds the response.
  private final boolean resultsRecordedByScheduler;

  private final ConcurrentHashMap<Digest, SharedExecution> inFlight = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, SharedExecution.Operation> byName =
      new ConcurrentHashMap<>();
  // Completed executions in the order they completed, with their weight; guarded by itself.
  private final ArrayDeque<Kept> completed = new ArrayDeque<>();
  // The operations of the executions in completed, and their weight; guarded by completed.
  private long completedOperations;
  private long completedBytes;

  /** A completed execution and what keeping it costs, fixed when it was kept. */
  private record Kept(SharedExecution execution, long bytes) {}

  DefaultExecutionService(
      String instanceName,
      ContentAddressableStorage cas,
      Optional<ActionCache> actionCache,
      Scheduler<ExecutionTask, ActionOutcome> scheduler,
      Duration defaultTimeout,
      Duration maxTimeout,
      Clock clock,
      Duration retention,
      int maxCompletedOperations,
      long maxCompletedOperationBytes,
      int maxOperationsPerExecution,
      ReattachGrace reattachGrace,
      Executor completionExecutor,
      ExecutionListener listener,
      Function<Digest, String> actionPages,
      boolean resultsRecordedByScheduler) {
    this.instanceName = instanceName;
    this.operationPrefix = instanceName.isEmpty() ? "operations/" : instanceName + "/operations/";
    this.cas = cas;
    this.actionCache = actionCache;
    this.scheduler = scheduler;
    this.defaultTimeout = defaultTimeout;
    this.maxTimeout = maxTimeout;
    this.clock = clock;
    this.retention = retention;
    this.maxCompletedOperations = maxCompletedOperations;
    this.maxCompletedOperationBytes = maxCompletedOperationBytes;
    this.maxOperationsPerExecution =
        new SharedExecution.Limit(
            maxOperationsPerExecution,
            "execution.maxOperationsPerExecution of instance '" + instanceName + "'");
    this.reattachGrace = reattachGrace;
    this.completionExecutor = completionExecutor;
    this.listener = listener;
    this.actionPages = actionPages;
    this.resultsRecordedByScheduler = resultsRecordedByScheduler;
  }

  @Override
  public Execution execute(ExecuteRequest request) {
    Objects.requireNonNull(request, "request");
    expireCompleted();
    if (!request.hasActionDigest()) {
      throw HearthException.invalidArgument("the ExecuteRequest has no action_digest");
    }
    Digest actionDigest = digest(request.getActionDigest(), "action_digest");
    Action action = read(actionDigest, Action.parser(), "action", actionDigest);
    boolean cacheable = !action.getDoNotCache();

    // do_not_cache results are never written, so there is nothing of ours to find for them.
    if (cacheable && !request.getSkipCacheLookup()) {
      Optional<ActionResult> hit = lookUp(actionDigest);
      if (hit.isPresent()) {
        return answerFromCache(actionDigest, hit.get());
      }
    }
    if (cacheable) {
      SharedExecution running = inFlight.get(actionDigest);
      if (running != null) {
        Execution joined = running.tryJoin(newOperationName(), this::register);
        if (joined != null) {
          return joined;
        }
      }
    }

    ExecutionTask task = task(actionDigest, action);
    Platform platform = task.platform();
    SharedExecution execution =
        SharedExecution.queued(
            newOperationName(),
            actionDigest,
            this::retire,
            reattachGrace,
            maxOperationsPerExecution);
    if (cacheable) {
      while (true) {
        SharedExecution running = inFlight.putIfAbsent(actionDigest, execution);
        if (running == null) {
          break;
        }
        Execution joined = running.tryJoin(newOperationName(), this::register);
        if (joined != null) {
          return joined;
        }
        // It completed or is being cancelled, and will leave the map by itself; take its place.
        inFlight.remove(actionDigest, running);
      }
    }
    register(execution.first());
    ActionRequest<ExecutionTask> scheduled =
        ActionRequest.of(execution.name(), platform, task)
            .withPriority(request.getExecutionPolicy().getPriority())
            .withTimeout(task.timeout())
            .withMergeKey(cacheable ? actionDigest.toString() : "");
    Instant queuedAt = clock.instant();
    Ticket<ActionOutcome> ticket;
    try {
      ticket = scheduler.submit(scheduled);
    } catch (RuntimeException e) {
      // Requests that merged onto it meanwhile must not wait for a ticket that never came. A
      // refusal, such as a full queue, reaches them as it is; anything else is a bug.
      ExecuteResponse failed =
          e instanceof HearthException refused
              ? failure(refused.code(), refused.getMessage())
              : failure(StatusCode.INTERNAL, "submitting the action failed: " + e);
      execution.complete(failed);
      tellCompleted(actionDigest, failed);
      throw e;
    }
    logger.debug("{}: action {} submitted to the scheduler", execution.name(), actionDigest);
    execution.start(ticket);
    ticket
        .result()
        .whenComplete((outcome, error) -> finishLater(execution, task, queuedAt, outcome, error));
    return execution.first();
  }

  private void register(SharedExecution.Operation operation) {
    byName.put(operation.name(), operation);
  }

  @Override
  public Optional<Execution> find(String operationName) {
    Objects.requireNonNull(operationName, "operationName");
    if (!operationName.startsWith(operationPrefix)) {
      return Optional.empty();
    }
    Instant now = clock.instant();
    expireCompleted(now);
    SharedExecution.Operation operation = byName.get(operationName);
    if (operation == null) {
      return follow(operationName);
    }
    if (operation.execution().expired(now)) {
      return Optional.empty();
    }
    return Optional.of(operation);
  }

  /**
   * Finds an operation submitted through another server of the service, when the scheduler is
   * shared (its server may have died: the client re-attached here), and follows it like one of
   * ours. Not merged into {@code inFlight}: a later Execute of the action merges in the shared
   * state.
   */
  private Optional<Execution> follow(String operationName) {
    Optional<Ticket<ActionOutcome>> followed = scheduler.follow(operationName);
    if (followed.isEmpty()) {
      return Optional.empty();
    }
    Ticket<ActionOutcome> ticket = followed.get();
    Digest actionDigest;
    try {
      actionDigest = Digest.parse(ticket.mergeKey());
    } catch (RuntimeException e) {
      ticket.cancel();
      logger.warn(
          "operation {} follows an execution of no action: {}", operationName, e.toString());
      return Optional.empty();
    }
    SharedExecution execution =
        SharedExecution.queued(
            operationName, actionDigest, this::retire, reattachGrace, maxOperationsPerExecution);
    SharedExecution.Operation operation = execution.first();
    SharedExecution.Operation raced = byName.putIfAbsent(operationName, operation);
    if (raced != null) {
      ticket.cancel(); // another WaitExecution on this server followed it first
      return Optional.of(raced);
    }
    execution.start(ticket);
    ticket
        .result()
        .whenComplete((outcome, error) -> finishLater(execution, null, null, outcome, error));
    return Optional.of(operation);
  }

  // ---- reading and checking the request ----

  /** The task for a new execution: reads the command and checks that the input root is present. */
  private ExecutionTask task(Digest actionDigest, Action action) {
    if (!action.hasCommandDigest()) {
      throw HearthException.invalidArgument("action %s has no command_digest", actionDigest);
    }
    if (!action.hasInputRootDigest()) {
      throw HearthException.invalidArgument("action %s has no input_root_digest", actionDigest);
    }
    Digest commandDigest = digest(action.getCommandDigest(), "command_digest of the action");
    Digest inputRoot = digest(action.getInputRootDigest(), "input_root_digest of the action");
    Duration timeout = timeout(actionDigest, action);

    Set<Digest> absent = cas.findMissing(List.of(commandDigest, inputRoot));
    if (!absent.isEmpty()) {
      List<Digest> missing = new ArrayList<>();
      List<String> named = new ArrayList<>();
      if (absent.contains(commandDigest)) {
        missing.add(commandDigest);
        named.add("the command blob " + commandDigest);
      }
      if (absent.contains(inputRoot) && !inputRoot.equals(commandDigest)) {
        missing.add(inputRoot);
        named.add("the input root directory " + inputRoot);
      }
      throw new MissingBlobsException(
          String.join(" and ", named)
              + " of action "
              + actionDigest
              + (missing.size() == 1 ? " is" : " are")
              + " missing from the CAS; upload "
              + (missing.size() == 1 ? "it" : "them")
              + " and execute again",
          missing);
    }
    Command command = read(commandDigest, Command.parser(), "command", actionDigest);
    if (command.getArgumentsCount() == 0) {
      throw HearthException.invalidArgument(
          "the command %s of action %s has no arguments; it needs at least the program to run",
          commandDigest, actionDigest);
    }
    return new ExecutionTask(instanceName, actionDigest, action, command, timeout);
  }

  private Duration timeout(Digest actionDigest, Action action) {
    if (!action.hasTimeout()) {
      return defaultTimeout;
    }
    com.google.protobuf.Duration proto = action.getTimeout();
    if (proto.getSeconds() < 0 || proto.getNanos() < 0) {
      throw HearthException.invalidArgument(
          "the timeout of action %s is negative (%ds %dns); give a positive timeout or none",
          actionDigest, proto.getSeconds(), proto.getNanos());
    }
    if (proto.getNanos() > 999_999_999) {
      throw HearthException.invalidArgument(
          "the timeout of action %s has %d nanoseconds, more than a second's worth",
          actionDigest, proto.getNanos());
    }
    Duration timeout = Duration.ofSeconds(proto.getSeconds(), proto.getNanos());
    if (timeout.isZero()) {
      return defaultTimeout;
    }
    if (timeout.compareTo(maxTimeout) > 0) {
      throw HearthException.invalidArgument(
          "the timeout %s of action %s exceeds the maximum %s that this server allows; ask for a"
              + " shorter one, or raise the instance's execution.maxTimeout",
          Durations.format(timeout), actionDigest, Durations.format(maxTimeout));
    }
    return timeout;
  }

  private static Digest digest(build.bazel.remote.execution.v2.Digest proto, String field) {
    try {
      return Digest.fromProto(proto);
    } catch (HearthException e) {
      throw HearthException.invalidArgument("%s is not a valid digest: %s", field, e.getMessage());
    }
  }

  /**
   * Reads and parses a small message blob.
   *
   * @param what "action" or "command", for messages
   */
  private <M> M read(Digest digest, Parser<M> parser, String what, Digest actionDigest) {
    String whose = digest.equals(actionDigest) ? "" : " of action " + actionDigest;
    if (digest.sizeBytes() > MAX_MESSAGE_BYTES) {
      throw HearthException.invalidArgument(
          "the %s blob %s%s is %d bytes; this server reads Action and Command messages of at"
              + " most %d bytes",
          what, digest, whose, digest.sizeBytes(), MAX_MESSAGE_BYTES);
    }
    ByteString bytes;
    try {
      bytes = cas.get(digest);
    } catch (HearthException e) {
      if (e.code() == StatusCode.NOT_FOUND) {
        throw new MissingBlobsException(
            "the "
                + what
                + " blob "
                + digest
                + whose
                + " is missing from the CAS; upload it and execute again",
            List.of(digest));
      }
      throw e;
    }
    try {
      return parser.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw HearthException.invalidArgument(
          "the %s blob %s%s is not a valid %s message: %s",
          what, digest, whose, what.equals("action") ? "Action" : "Command", e.getMessage());
    }
  }

  // ---- the action cache ----

  private Optional<ActionResult> lookUp(Digest actionDigest) {
    if (actionCache.isEmpty()) {
      return Optional.empty();
    }
    try {
      return actionCache.get().get(actionDigest);
    } catch (RuntimeException e) {
      // A broken cache costs a rebuild, not the build.
      logger.warn("looking up action {} in the action cache failed; executing it", actionDigest, e);
      return Optional.empty();
    }
  }

  private Execution answerFromCache(Digest actionDigest, ActionResult result) {
    ExecuteResponse response =
        ExecuteResponse.newBuilder()
            .setResult(result)
            .setCachedResult(true)
            .setStatus(Status.newBuilder().setCode(StatusCode.OK.value()))
            .build();
    SharedExecution execution =
        SharedExecution.completed(newOperationName(), actionDigest, response);
    register(execution.first());
    retire(execution);
    tellCompleted(actionDigest, response);
    return execution.first();
  }

  // ---- completion ----

  private void finishLater(
      SharedExecution execution,
      ExecutionTask task,
      Instant queuedAt,
      ActionOutcome outcome,
      Throwable error) {
    try {
      completionExecutor.execute(() -> finish(execution, task, queuedAt, outcome, error));
    } catch (RejectedExecutionException e) {
      // Completing is cheap enough to do here rather than leave the execution hanging.
      finish(execution, task, queuedAt, outcome, error);
    }
  }

  private void finish(
      SharedExecution execution,
      ExecutionTask task,
      Instant queuedAt,
      ActionOutcome outcome,
      Throwable error) {
    ExecuteResponse response;
    try {
      response =
          error == null ? responseFor(task, queuedAt, outcome) : responseFor(execution, error);
    } catch (RuntimeException e) {
      logger.error("{}: building the response failed", execution.name(), e);
      response = failure(StatusCode.INTERNAL, "building the response failed: " + e);
    }
    response = withActionPage(execution.actionDigest(), response);
    execution.complete(response);
    tellCompleted(execution.actionDigest(), response);
  }

  private void tellCompleted(Digest actionDigest, ExecuteResponse response) {
    if (listener == ExecutionListener.NONE) {
      return;
    }
    try {
      listener.executionCompleted(actionDigest, response);
    } catch (RuntimeException e) {
      logger.warn("the execution listener failed on the completion of action {}", actionDigest, e);
    }
  }

  /**
   * The response to a worker's outcome. {@code task} and {@code queuedAt} are null for an execution
   * followed from another server, whose scheduler records results itself.
   */
  private ExecuteResponse responseFor(ExecutionTask task, Instant queuedAt, ActionOutcome outcome) {
    if (!resultsRecordedByScheduler) {
      outcome = ResultRecording.withQueuedTime(outcome, queuedAt);
      ResultRecording.store(actionCache, task, outcome);
    }
    ExecuteResponse.Builder response = ExecuteResponse.newBuilder().setResult(outcome.result());
    response.getStatusBuilder().setCode(outcome.code().value());
    if (!outcome.ran()) {
      response.getStatusBuilder().setMessage(outcome.message());
    } else if (!outcome.message().isEmpty()) {
      // What the worker says about a command that ran, such as that its memory limit killed it:
      // the status stays OK (the exit code tells the client it failed), and Bazel shows this.
      response.setMessage(outcome.message());
    }
    return response.build();
  }

  /**
   * Adds the failed action's page to the response's {@code message}, which Bazel prints with the
   * failure; a successful or cancelled execution is returned as it is.
   */
  private ExecuteResponse withActionPage(Digest actionDigest, ExecuteResponse response) {
    int code = response.getStatus().getCode();
    boolean failed =
        code != StatusCode.OK.value()
            ? code != StatusCode.CANCELLED.value()
            : response.getResult().getExitCode() != 0;
    if (!failed) {
      return response;
    }
    String page;
    try {
      page = actionPages.apply(actionDigest);
    } catch (RuntimeException e) {
      logger.warn("the address of action {}'s page could not be made", actionDigest, e);
      return response;
    }
    if (page.isEmpty()) {
      return response;
    }
    String message = response.getMessage();
    String details = "details: " + page;
    return response.toBuilder()
        .setMessage(message.isEmpty() ? details : message + "\n" + details)
        .build();
  }

  private static ExecuteResponse responseFor(SharedExecution execution, Throwable error) {
    Throwable cause = error;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    if (cause instanceof HearthException e) {
      return failure(e.code(), e.getMessage());
    }
    if (cause instanceof CancellationException) {
      return failure(StatusCode.CANCELLED, execution.name() + " was cancelled");
    }
    logger.error("{}: the action failed unexpectedly", execution.name(), cause);
    return failure(StatusCode.INTERNAL, "the action failed unexpectedly: " + cause);
  }

  private static ExecuteResponse failure(StatusCode code, String message) {
    return ExecuteResponse.newBuilder()
        .setStatus(Status.newBuilder().setCode(code.value()).setMessage(message))
        .build();
  }

  // ---- names and retention ----

  private String newOperationName() {
    return operationPrefix + UUID.randomUUID();
  }

  /** Called once per execution, when it completes: it can no longer be joined, only found. */
  private void retire(SharedExecution execution) {
    inFlight.remove(execution.actionDigest(), execution);
    execution.expiresAt(clock.instant().plus(retention));
    int operations = execution.operations().size();
    long bytes = execution.responseBytes() + operations * OPERATION_OVERHEAD_BYTES;
    synchronized (completed) {
      completed.addLast(new Kept(execution, bytes));
      completedOperations += operations;
      completedBytes += bytes;
      // Keeps at least the newest, whatever its size, so that its clients find their result.
      while ((completedOperations > maxCompletedOperations
              || completedBytes > maxCompletedOperationBytes)
          && completed.size() > 1) {
        forget(completed.removeFirst());
      }
    }
  }

  /** Drops a completed execution's operations; with {@code completed}'s monitor held. */
  private void forget(Kept kept) {
    List<SharedExecution.Operation> operations = kept.execution().operations();
    completedOperations -= operations.size();
    completedBytes -= kept.bytes();
    for (SharedExecution.Operation operation : operations) {
      byName.remove(operation.name(), operation);
    }
  }

  private void expireCompleted() {
    expireCompleted(clock.instant());
  }

  private void expireCompleted(Instant now) {
    synchronized (completed) {
      Kept oldest;
      while ((oldest = completed.peekFirst()) != null && oldest.execution().expired(now)) {
        forget(completed.removeFirst());
      }
    }
  }
}
