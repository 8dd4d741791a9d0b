package build.hearth.core.execution;

import static build.hearth.core.scheduler.Platforms.platform;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionPolicy;
import build.bazel.remote.execution.v2.ExecutionStage;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.Platform;
import build.hearth.api.Digest;
import build.hearth.api.Execution;
import build.hearth.api.ExecutionService;
import build.hearth.api.HearthException;
import build.hearth.api.MissingBlobsException;
import build.hearth.api.StatusCode;
import build.hearth.core.Hearth;
import build.hearth.core.execution.ExecutionTesting.FakeWorker;
import build.hearth.core.execution.ExecutionTesting.ManualTimer;
import build.hearth.core.scheduler.Assignment;
import build.hearth.core.scheduler.PropertyType;
import build.hearth.core.scheduler.Scheduler;
import build.hearth.core.worker.LocalWorker;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import build.hearth.spi.worker.WorkerSpec;
import build.hearth.testing.FakeClock;
import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ExecutionServiceTest {
  private final FakeClock clock = new FakeClock();
  private final ManualTimer timer = new ManualTimer();
  private final Hearth hearth = Hearth.newBuilder().build();
  private final Scheduler<ExecutionTask, ActionOutcome> scheduler =
      Scheduler.newBuilder()
          .callbackExecutor(Runnable::run)
          .expiryCheckInterval(Duration.ZERO)
          .clock(clock)
          .propertyType("OSFamily", PropertyType.EXACT)
          .build();
  private final ExecutionService service =
      ExecutionServices.newBuilder()
          .instanceName("main")
          .cas(hearth.cas())
          .actionCache(hearth.actionCache())
          .scheduler(scheduler)
          .defaultTimeout(Duration.ofMinutes(15))
          .maxTimeout(Duration.ofHours(1))
          .clock(clock)
          .retention(Duration.ofMinutes(10))
          .timer(timer)
          .build();

  @AfterEach
  void close() {
    scheduler.close();
    hearth.close();
  }

  private FakeWorker connectWorker(String... namesAndValues) {
    WorkerSpec.Builder spec = WorkerSpec.builder("worker").slots(4);
    for (int i = 0; i < namesAndValues.length; i += 2) {
      spec.property(namesAndValues[i], namesAndValues[i + 1]);
    }
    FakeWorker worker = new FakeWorker();
    scheduler.connect(spec.build(), worker);
    return worker;
  }

  private Digest put(com.google.protobuf.Message message) {
    return hearth.cas().put(message.toByteString());
  }

  private static Command command(String... arguments) {
    return Command.newBuilder().addAllArguments(List.of(arguments)).build();
  }

  /** Stores the command, an input root and the action; returns the action's digest. */
  private Digest storeAction(Command command, Consumer<Action.Builder> customize) {
    Digest inputRoot = put(Directory.getDefaultInstance());
    Action.Builder action =
        Action.newBuilder()
            .setCommandDigest(put(command).toProto())
            .setInputRootDigest(inputRoot.toProto());
    customize.accept(action);
    return put(action.build());
  }

  private Digest storeAction(String... arguments) {
    return storeAction(command(arguments), action -> {});
  }

  private static ExecuteRequest request(Digest action) {
    return ExecuteRequest.newBuilder().setActionDigest(action.toProto()).build();
  }

  private static ExecuteResponse response(Execution execution) {
    assertThat(execution.result()).isDone();
    return execution.result().join();
  }

  // ---- the action cache ----

  @Test
  void anActionCacheHitCompletesAtOnce() {
    FakeWorker worker = connectWorker();
    Digest action = storeAction("true");
    ActionResult cached = ActionResult.newBuilder().setExitCode(0).build();
    hearth.actionCache().put(action, cached);

    Execution execution = service.execute(request(action));

    assertThat(execution.stage()).isEqualTo(ExecutionStage.Value.COMPLETED);
    ExecuteResponse response = response(execution);
    assertThat(response.getCachedResult()).isTrue();
    assertThat(response.getResult()).isEqualTo(cached);
    assertThat(response.getStatus().getCode()).isZero();
    assertThat(execution.actionDigest()).isEqualTo(action);
    assertThat(worker.assigned).isEmpty();
    assertThat(service.find(execution.name())).contains(execution);
  }

  @Test
  void skipCacheLookupExecutesDespiteACachedResult() {
    FakeWorker worker = connectWorker();
    Digest action = storeAction("true");
    hearth.actionCache().put(action, ActionResult.newBuilder().setExitCode(0).build());

    Execution execution =
        service.execute(request(action).toBuilder().setSkipCacheLookup(true).build());

    assertThat(worker.assigned).hasSize(1);
    worker.exit(0);
    assertThat(response(execution).getCachedResult()).isFalse();
  }

  @Test
  void resultsOfCommandsThatExitZeroAreCached() {
    FakeWorker worker = connectWorker();
    Digest action = storeAction("true");

    Execution execution = service.execute(request(action));
    worker.exit(0);

    assertThat(response(execution).getStatus().getCode()).isZero();
    assertThat(hearth.actionCache().get(action)).isPresent();
    Execution again = service.execute(request(action));
    assertThat(response(again).getCachedResult()).isTrue();
    assertThat(worker.assigned).hasSize(1);
  }

  @Test
  void resultsOfCommandsThatExitNonZeroAreNotCached() {
    FakeWorker worker = connectWorker();
    Digest action = storeAction("false");

    Execution first = service.execute(request(action));
    worker.exit(1);

    ExecuteResponse response = response(first);
    assertThat(response.getStatus().getCode()).isZero();
    assertThat(response.getResult().getExitCode()).isEqualTo(1);
    assertThat(hearth.actionCache().get(action)).isEmpty();
    Execution second = service.execute(request(action));
    assertThat(second.name()).isNotEqualTo(first.name());
    assertThat(worker.assigned).hasSize(2);
  }

  @Test
  void aFailedActionCacheWriteDoesNotFailTheExecution() {
    FakeWorker worker = connectWorker();
    Digest action = storeAction("true");
    Execution execution = service.execute(request(action));
    Digest absent = Digest.of("never stored".getBytes(StandardCharsets.UTF_8));

    // The action cache refuses a result whose stdout is not in the CAS.
    worker
        .last()
        .complete(
            ActionOutcome.completed(
                ActionResult.newBuilder().setStdoutDigest(absent.toProto()).build()));

    assertThat(response(execution).getStatus().getCode()).isZero();
    assertThat(hearth.actionCache().get(action)).isEmpty();
  }

  // ---- merging ----

  @Test
  void identicalActionsInFlightShareOneExecution() {
    FakeWorker worker = connectWorker();
    Digest action = storeAction("true");

    Execution first = service.execute(request(action));
    Execution second = service.execute(request(action));
    Execution skipping =
        service.execute(request(action).toBuilder().setSkipCacheLookup(true).build());

    // One execution, and an operation name of its own for each request.
    assertThat(worker.assigned).hasSize(1);
    assertThat(List.of(first.name(), second.name(), skipping.name())).doesNotHaveDuplicates();
    assertThat(service.find(second.name())).contains(second);
    worker.exit(0);
    assertThat(response(first)).isEqualTo(response(second)).isEqualTo(response(skipping));
  }

  @Test
  void concurrentIdenticalRequestsMergeOntoOneExecutionPerAction() throws Exception {
    FakeWorker worker = connectWorker();
    List<Digest> actions = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      actions.add(storeAction("echo", "" + i));
    }
    ExecutorService threads = Executors.newFixedThreadPool(8);
    try {
      List<Future<Execution>> executions = new ArrayList<>();
      CountDownLatch start = new CountDownLatch(1);
      for (int i = 0; i < 240; i++) {
        Digest action = actions.get(i % actions.size());
        executions.add(
            threads.submit(
                () -> {
                  start.await();
                  return service.execute(request(action));
                }));
      }
      start.countDown();
      Map<Digest, Set<String>> names = new HashMap<>();
      for (Future<Execution> future : executions) {
        Execution execution = future.get(10, TimeUnit.SECONDS);
        names.computeIfAbsent(execution.actionDigest(), d -> new HashSet<>()).add(execution.name());
      }

      // One execution per action; every request an operation name of its own.
      assertThat(names).hasSize(3).allSatisfy((digest, set) -> assertThat(set).hasSize(80));
      assertThat(worker.assigned).hasSize(3);
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void doNotCacheActionsAreNeitherMergedNorCached() {
    FakeWorker worker = connectWorker();
    Digest action = storeAction(command("date"), builder -> builder.setDoNotCache(true));

    Execution first = service.execute(request(action));
    Execution second = service.execute(request(action));

    assertThat(second.name()).isNotEqualTo(first.name());
    assertThat(worker.assigned).hasSize(2);
    worker.assigned.forEach(
        assignment ->
            assignment.complete(
                ActionOutcome.completed(ActionResult.newBuilder().setExitCode(0).build())));
    assertThat(response(first).getStatus().getCode()).isZero();
    assertThat(response(second).getStatus().getCode()).isZero();
    assertThat(hearth.actionCache().get(action)).isEmpty();
  }

  // ---- checking the request ----

  @Test
  void aMissingActionIsReportedWithItsDigest() {
    Digest action =
        Digest.of(
            Action.getDefaultInstance().toBuilder().setDoNotCache(true).build().toByteArray());

    assertThatThrownBy(() -> service.execute(request(action)))
        .isInstanceOfSatisfying(
            MissingBlobsException.class,
            e -> {
              assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION);
              assertThat(e.missing()).containsExactly(action);
              assertThat(e.getMessage())
                  .contains("action blob " + action + " is missing from the CAS");
            });
  }

  @Test
  void aMissingCommandAndInputRootAreReportedTogether() {
    Digest command = Digest.of(command("true").toByteArray());
    Directory root =
        Directory.newBuilder()
            .addFiles(FileNode.newBuilder().setName("in").setDigest(Digest.EMPTY.toProto()))
            .build();
    Digest inputRoot = Digest.of(root.toByteArray());
    Digest action =
        put(
            Action.newBuilder()
                .setCommandDigest(command.toProto())
                .setInputRootDigest(inputRoot.toProto())
                .build());

    assertThatThrownBy(() -> service.execute(request(action)))
        .isInstanceOfSatisfying(
            MissingBlobsException.class,
            e -> {
              assertThat(e.missing()).containsExactly(command, inputRoot);
              assertThat(e.getMessage())
                  .contains("command blob " + command, "input root directory " + inputRoot);
            });
  }

  @Test
  void malformedRequestsAreInvalidArguments() {
    assertThatThrownBy(() -> service.execute(ExecuteRequest.getDefaultInstance()))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> {
              assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
              assertThat(e.getMessage()).contains("action_digest");
            });
    ExecuteRequest badDigest =
        ExecuteRequest.newBuilder()
            .setActionDigest(
                build.bazel.remote.execution.v2.Digest.newBuilder().setHash("xyz").setSizeBytes(3))
            .build();
    assertThatThrownBy(() -> service.execute(badDigest))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> {
              assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
              assertThat(e.getMessage()).contains("action_digest");
            });
    Digest garbage = hearth.cas().put(ByteString.copyFromUtf8("not a protobuf \u00ff\u00ff"));
    assertThatThrownBy(() -> service.execute(request(garbage)))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> {
              assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
              assertThat(e.getMessage()).contains("not a valid Action");
            });
  }

  @Test
  void aTimeoutOverTheMaximumIsRefused() {
    Digest action =
        storeAction(
            command("sleep", "7200"),
            builder ->
                builder.setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(7200)));

    assertThatThrownBy(() -> service.execute(request(action)))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> {
              assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
              assertThat(e.getMessage()).contains("timeout 2h", "exceeds the maximum 1h");
            });
  }

  @Test
  void aNegativeTimeoutIsRefused() {
    Digest action =
        storeAction(
            command("true"),
            builder ->
                builder.setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(-1)));

    assertThatThrownBy(() -> service.execute(request(action)))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT));
  }

  @Test
  void theDefaultTimeoutAppliesWhenTheActionSetsNone() {
    FakeWorker worker = connectWorker();
    service.execute(request(storeAction("true")));
    Digest timed =
        storeAction(
            command("sleep", "1"),
            builder ->
                builder.setTimeout(com.google.protobuf.Duration.newBuilder().setSeconds(90)));
    service.execute(request(timed));

    worker.assigned.get(0).complete(ActionOutcome.completed(ActionResult.getDefaultInstance()));
    assertThat(worker.assigned.get(0).request().task().timeout()).isEqualTo(Duration.ofMinutes(15));
    assertThat(worker.last().request().task().timeout()).isEqualTo(Duration.ofSeconds(90));
  }

  @Test
  void theTaskCarriesTheActionPriorityAndPlatform() {
    FakeWorker worker = connectWorker("OSFamily", "linux");
    Digest action =
        storeAction(command("true"), builder -> builder.setPlatform(platform("OSFamily", "linux")));

    Execution execution =
        service.execute(
            request(action).toBuilder()
                .setExecutionPolicy(ExecutionPolicy.newBuilder().setPriority(7))
                .build());

    Assignment<ExecutionTask, ActionOutcome> assignment = worker.last();
    assertThat(assignment.request().priority()).isEqualTo(7);
    assertThat(assignment.request().name()).isEqualTo(execution.name());
    assertThat(assignment.request().platform()).isEqualTo(platform("OSFamily", "linux"));
    ExecutionTask task = assignment.request().task();
    assertThat(task.instanceName()).isEqualTo("main");
    assertThat(task.actionDigest()).isEqualTo(action);
    assertThat(task.command().getArguments(0)).isEqualTo("true");
  }

  @Test
  void olderClientsPlatformInTheCommandIsUsed() {
    FakeWorker worker = connectWorker("OSFamily", "linux");
    Command command =
        command("true").toBuilder().setPlatform(platform("OSFamily", "linux")).build();

    service.execute(request(storeAction(command, builder -> {})));

    assertThat(worker.last().request().platform()).isEqualTo(platform("OSFamily", "linux"));
  }

  // ---- stages and outcomes ----

  @Test
  void listenersSeeQueuedExecutingCompletedInOrder() {
    Execution execution = service.execute(request(storeAction("true")));
    List<ExecutionStage.Value> stages = new CopyOnWriteArrayList<>();
    execution.addStageListener(stages::add, Runnable::run);
    assertThat(stages).containsExactly(ExecutionStage.Value.QUEUED);

    FakeWorker worker = connectWorker();
    assertThat(execution.stage()).isEqualTo(ExecutionStage.Value.EXECUTING);
    worker.exit(0);

    assertThat(stages)
        .containsExactly(
            ExecutionStage.Value.QUEUED,
            ExecutionStage.Value.EXECUTING,
            ExecutionStage.Value.COMPLETED);
    List<ExecutionStage.Value> late = new CopyOnWriteArrayList<>();
    execution.addStageListener(late::add, Runnable::run);
    assertThat(late).containsExactly(ExecutionStage.Value.COMPLETED);
  }

  @Test
  void stagesArriveInOrderOnAPool() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<List<ExecutionStage.Value>> seen = new CopyOnWriteArrayList<>();
      FakeWorker worker = connectWorker();
      for (int i = 0; i < 50; i++) {
        Execution execution = service.execute(request(storeAction("echo", "" + i)));
        List<ExecutionStage.Value> stages = new CopyOnWriteArrayList<>();
        seen.add(stages);
        execution.addStageListener(stages::add, pool);
        worker.exit(0);
      }
      pool.shutdown();
      assertThat(pool.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
      assertThat(seen)
          .allSatisfy(
              stages ->
                  assertThat(stages)
                      .containsExactly(
                          ExecutionStage.Value.EXECUTING, ExecutionStage.Value.COMPLETED));
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void aCommandOverItsTimeoutReturnsItsPartialResult() {
    FakeWorker worker = connectWorker();
    Digest action = storeAction("sleep", "99");
    java.time.Instant queuedAt = clock.instant();
    Execution execution = service.execute(request(action));
    clock.advance(Duration.ofMinutes(15));
    ActionResult partial =
        ActionResult.newBuilder()
            .setExitCode(-1)
            .setStdoutRaw(ByteString.copyFromUtf8("so far"))
            .build();

    worker
        .last()
        .complete(new ActionOutcome(partial, StatusCode.DEADLINE_EXCEEDED, "ran over 15m"));

    ExecuteResponse response = response(execution);
    assertThat(response.getStatus().getCode()).isEqualTo(StatusCode.DEADLINE_EXCEEDED.value());
    assertThat(response.getStatus().getMessage()).isEqualTo("ran over 15m");
    // The worker's result, with the time the action entered the queue added by the service.
    assertThat(response.getResult().toBuilder().clearExecutionMetadata().build())
        .isEqualTo(partial);
    assertThat(response.getResult().getExecutionMetadata().getQueuedTimestamp().getSeconds())
        .isEqualTo(queuedAt.getEpochSecond());
    assertThat(hearth.actionCache().get(action)).isEmpty();
  }

  @Test
  void theMessageOfACommandThatRanReachesTheResponse() {
    FakeWorker worker = connectWorker();
    Execution execution = service.execute(request(storeAction("allocate")));
    String message = "the command was killed by its memory limit of 64.0 MiB (cgroup v1 OOM kill)";

    worker
        .last()
        .complete(
            new ActionOutcome(
                ActionResult.newBuilder().setExitCode(137).build(), StatusCode.OK, message));

    ExecuteResponse response = response(execution);
    assertThat(response.getStatus().getCode()).isEqualTo(StatusCode.OK.value());
    assertThat(response.getStatus().getMessage()).isEmpty();
    assertThat(response.getMessage()).isEqualTo(message);
    assertThat(response.getResult().getExitCode()).isEqualTo(137);
  }

  @Test
  void anInProcessWorkersMessageReachesTheResponse() throws Exception {
    String message = "the command reached its process limit of 64";
    ActionRunner runner =
        new ActionRunner() {
          @Override
          public ActionOutcome run(ExecutionTask task, Cancellation cancellation) {
            return new ActionOutcome(
                ActionResult.newBuilder().setExitCode(1).build(), StatusCode.OK, message);
          }

          @Override
          public void close() {}
        };
    try (LocalWorker worker =
        LocalWorker.newBuilder()
            .spec(WorkerSpec.builder("local").slots(1).build())
            .runner(runner)
            .build()) {
      worker.connect(scheduler);

      Execution execution = service.execute(request(storeAction("fork-bomb")));

      ExecuteResponse response = execution.result().get(10, TimeUnit.SECONDS);
      assertThat(response.getStatus().getCode()).isEqualTo(StatusCode.OK.value());
      assertThat(response.getMessage()).isEqualTo(message);
      assertThat(response.getResult().getExitCode()).isEqualTo(1);
    }
  }

  @Test
  void aFailedActionsMessageCarriesItsPageAndOthersDoNot() {
    ExecutionService linked =
        ExecutionServices.newBuilder()
            .instanceName("main")
            .cas(hearth.cas())
            .actionCache(hearth.actionCache())
            .scheduler(scheduler)
            .clock(clock)
            .timer(timer)
            .actionPages(digest -> "https://hearth.example/ui/action/" + digest.hash())
            .build();
    FakeWorker worker = connectWorker();

    Digest exitsNonZero = storeAction("false");
    Execution failed =
        linked.execute(request(exitsNonZero).toBuilder().setSkipCacheLookup(true).build());
    worker
        .last()
        .complete(
            new ActionOutcome(
                ActionResult.newBuilder().setExitCode(1).build(), StatusCode.OK, "killed"));
    assertThat(response(failed).getMessage())
        .isEqualTo("killed\ndetails: https://hearth.example/ui/action/" + exitsNonZero.hash());

    Digest cannotRun = storeAction("true");
    Execution refused = linked.execute(request(cannotRun));
    worker.last().fail(HearthException.invalidArgument("input tree has a '..' entry"));
    assertThat(response(refused).getMessage())
        .isEqualTo("details: https://hearth.example/ui/action/" + cannotRun.hash());

    Digest succeeds = storeAction("echo", "ok");
    Execution ok = linked.execute(request(succeeds));
    worker.last().complete(ActionOutcome.completed(ActionResult.getDefaultInstance()));
    assertThat(response(ok).getMessage()).isEmpty();

    Digest cancelled = storeAction("sleep", "9");
    Execution gone = linked.execute(request(cancelled));
    worker.last().fail(new HearthException(StatusCode.CANCELLED, "cancelled by the test"));
    assertThat(response(gone).getMessage()).isEmpty();
  }

  @Test
  void aCommandThatRanWithoutAMessageLeavesTheResponsesMessageEmpty() {
    FakeWorker worker = connectWorker();
    Execution execution = service.execute(request(storeAction("true")));

    worker.last().complete(ActionOutcome.completed(ActionResult.getDefaultInstance()));

    assertThat(response(execution).getMessage()).isEmpty();
  }

  @Test
  void aWorkerFailureBecomesTheResponseStatus() {
    FakeWorker worker = connectWorker();
    Execution execution = service.execute(request(storeAction("true")));

    worker.last().fail(HearthException.invalidArgument("input tree has a '..' entry"));

    ExecuteResponse response = response(execution);
    assertThat(response.getStatus().getCode()).isEqualTo(StatusCode.INVALID_ARGUMENT.value());
    assertThat(response.getStatus().getMessage()).isEqualTo("input tree has a '..' entry");
    assertThat(response.hasResult()).isFalse();
  }

  @Test
  void anUnsatisfiablePlatformFailsWithFailedPrecondition() {
    connectWorker("OSFamily", "linux");
    Digest action =
        storeAction(
            command("true"), builder -> builder.setPlatform(platform("OSFamily", "windows")));

    Execution execution = service.execute(request(action));

    ExecuteResponse response = response(execution);
    assertThat(response.getStatus().getCode()).isEqualTo(StatusCode.FAILED_PRECONDITION.value());
    assertThat(response.getStatus().getMessage()).contains("OSFamily");
    assertThat(execution.stage()).isEqualTo(ExecutionStage.Value.COMPLETED);
  }

  // ---- the queue's bound ----

  @Test
  void aFullQueueRefusesExecuteButMergedDuplicatesDoNotCount() {
    try (Scheduler<ExecutionTask, ActionOutcome> small =
        Scheduler.newBuilder()
            .name("tiny")
            .maxQueuedActions(1)
            .callbackExecutor(Runnable::run)
            .expiryCheckInterval(Duration.ZERO)
            .build()) {
      ExecutionService bounded =
          ExecutionServices.newBuilder().cas(hearth.cas()).scheduler(small).build();
      Digest queued = storeAction("sleep", "1");
      Execution first = bounded.execute(request(queued));

      // The same action again merges onto the queued one and takes no second place.
      Execution duplicate = bounded.execute(request(queued));
      assertThat(small.stats().queued()).isEqualTo(1);

      HearthException refused =
          org.assertj.core.api.Assertions.catchThrowableOfType(
              () -> bounded.execute(request(storeAction("sleep", "2"))), HearthException.class);
      assertThat(refused.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
      assertThat(refused.limit()).contains("scheduler_queue");
      assertThat(refused.getMessage()).contains("schedulers.tiny.maxQueuedActions is 1");
      assertThat(first.result()).isNotDone();
      assertThat(duplicate.result()).isNotDone();
    }
  }

  // ---- the bound on duplicates ----

  @Test
  void duplicatesOfAQueuedActionAreRefusedBeyondTheOperationsPerExecution() {
    Digest action = storeAction("sleep", "3");
    Execution first = service.execute(request(action));
    for (int i = 1; i < ExecutionServices.DEFAULT_MAX_OPERATIONS_PER_EXECUTION; i++) {
      service.execute(request(action));
    }

    HearthException refused =
        org.assertj.core.api.Assertions.catchThrowableOfType(
            () -> service.execute(request(action)), HearthException.class);

    assertThat(refused).isNotNull();
    assertThat(refused.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
    assertThat(refused.limit()).contains("operations_per_execution");
    assertThat(refused.retryAfter()).isPresent();
    assertThat(refused.getMessage())
        .contains("already has 1000 operations", "at most 1000 per execution");
    // The refusal changed nothing: the execution runs on for the operations it has.
    assertThat(first.result()).isNotDone();
    assertThat(scheduler.stats().queued()).isEqualTo(1);
  }

  // ---- interest and cancellation ----

  @Test
  void closingTheLastWatchCancelsTheExecutionOnTheWorker() {
    FakeWorker worker = connectWorker();
    Digest action = storeAction("sleep", "99");
    Execution execution = service.execute(request(action));
    Execution.Watch first = execution.watch();
    Execution joined = service.execute(request(action));
    Execution.Watch second = joined.watch();

    first.close();
    first.close();
    timer.elapse();
    assertThat(worker.cancelled).isEmpty();
    second.close();
    // The grace lets a client whose stream broke re-attach; then the execution is cancelled.
    assertThat(worker.cancelled).isEmpty();
    timer.elapse();

    assertThat(worker.cancelled).containsExactly(worker.last());
    assertThat(response(execution).getStatus().getCode()).isEqualTo(StatusCode.CANCELLED.value());
    assertThat(execution.cancel()).isFalse();
  }

  @Test
  void aRequestThatJoinedKeepsTheExecutionUntilItWatches() {
    FakeWorker worker = connectWorker();
    Digest action = storeAction("sleep", "99");
    Execution execution = service.execute(request(action));
    Execution.Watch first = execution.watch();

    // A second client merges, and the first goes away before the second's watch is taken.
    Execution joined = service.execute(request(action));
    first.close();

    timer.elapse();
    assertThat(worker.cancelled).isEmpty();
    Execution.Watch second = joined.watch();
    second.close();
    timer.elapse();
    assertThat(worker.cancelled).hasSize(1);
  }

  @Test
  void anExecutionNobodyWatchesRunsToItsEnd() {
    FakeWorker worker = connectWorker();
    Execution execution = service.execute(request(storeAction("true")));

    worker.exit(0);

    assertThat(worker.cancelled).isEmpty();
    assertThat(response(execution).getStatus().getCode()).isZero();
  }

  @Test
  void cancellingAMergedOperationOnlyDetachesItsClient() {
    FakeWorker worker = connectWorker();
    Digest action = storeAction("sleep", "99");
    Execution execution = service.execute(request(action));
    Execution.Watch firstWatch = execution.watch();
    Execution joined = service.execute(request(action));
    Execution.Watch joinedWatch = joined.watch();
    List<ExecutionStage.Value> stages = new CopyOnWriteArrayList<>();
    execution.addStageListener(stages::add, Runnable::run);

    assertThat(execution.cancel()).isTrue();

    // The first client's operation is over; the execution runs on for the other.
    ExecuteResponse cancelled = response(execution);
    assertThat(cancelled.getStatus().getCode()).isEqualTo(StatusCode.CANCELLED.value());
    assertThat(cancelled.getStatus().getMessage())
        .contains(execution.name(), "runs on for the other clients");
    assertThat(execution.stage()).isEqualTo(ExecutionStage.Value.COMPLETED);
    assertThat(stages).endsWith(ExecutionStage.Value.COMPLETED);
    assertThat(execution.cancel()).isFalse();
    firstWatch.close(); // the cancelled client's call ends; it no longer counts anyway
    assertThat(worker.cancelled).isEmpty();
    assertThat(joined.result()).isNotDone();

    worker.exit(0);
    assertThat(response(joined).getStatus().getCode()).isZero();
    assertThat(response(execution)).isEqualTo(cancelled);
    joinedWatch.close();
    assertThat(worker.cancelled).isEmpty();
  }

  @Test
  void theExecutionIsCancelledWhenItsLastOperationIs() {
    FakeWorker worker = connectWorker();
    Digest action = storeAction("sleep", "99");
    Execution execution = service.execute(request(action));
    Execution joined = service.execute(request(action));

    assertThat(execution.cancel()).isTrue();
    assertThat(worker.cancelled).isEmpty();
    assertThat(joined.cancel()).isTrue();

    assertThat(worker.cancelled).hasSize(1);
    assertThat(response(joined).getStatus().getCode()).isEqualTo(StatusCode.CANCELLED.value());
    assertThat(response(joined).getStatus().getMessage())
        .isEqualTo(joined.name() + " was cancelled");
    // The cancelled execution is not joined again.
    Execution next = service.execute(request(action));
    assertThat(worker.assigned).hasSize(2);
    assertThat(next.result()).isNotDone();
  }

  @Test
  void aCancelledOperationIsFoundAndWatchingItKeepsNothingAlive() {
    FakeWorker worker = connectWorker();
    Digest action = storeAction("sleep", "99");
    Execution execution = service.execute(request(action));
    Execution joined = service.execute(request(action));
    execution.cancel();

    assertThat(service.find(execution.name())).contains(execution);
    Execution.Watch late = execution.watch();
    joined.watch().close();
    late.close();
    timer.elapse();

    assertThat(worker.cancelled).hasSize(1);
  }

  @Test
  void aClientThatReattachesWithinTheGraceGetsTheResultOfTheOneRun() {
    FakeWorker worker = connectWorker();
    Execution execution = service.execute(request(storeAction("sleep", "1")));
    execution.watch().close(); // the Execute stream broke

    Execution.Watch reattached = service.find(execution.name()).orElseThrow().watch();
    timer.elapse(); // the grace of the broken stream ends
    worker.exit(0);
    reattached.close();

    assertThat(worker.cancelled).isEmpty();
    assertThat(worker.assigned).hasSize(1);
    assertThat(response(execution).getStatus().getCode()).isZero();
  }

  @Test
  void aReattachThatLeavesAgainStartsAGraceOfItsOwn() {
    FakeWorker worker = connectWorker();
    Execution execution = service.execute(request(storeAction("sleep", "1")));
    execution.watch().close();
    execution.watch().close();
    assertThat(timer.pending()).isEqualTo(2);

    timer.elapse();

    // The first timer sees that a client came back; the second one cancels.
    assertThat(worker.cancelled).hasSize(1);
    assertThat(response(execution).getStatus().getCode()).isEqualTo(StatusCode.CANCELLED.value());
  }

  @Test
  void aClientThatAbandonsItsWatchDoesNotWaitForTheGrace() {
    FakeWorker worker = connectWorker();
    Digest action = storeAction("sleep", "1");
    Execution execution = service.execute(request(action));
    Execution.Watch first = execution.watch();
    Execution.Watch second = service.execute(request(action)).watch();

    first.abandon();
    assertThat(worker.cancelled).isEmpty(); // another client still follows it
    second.abandon();

    assertThat(worker.cancelled).hasSize(1);
    assertThat(timer.pending()).isZero();
  }

  @Test
  void anExplicitCancelDoesNotWaitForTheGrace() {
    FakeWorker worker = connectWorker();
    Execution execution = service.execute(request(storeAction("sleep", "1")));
    Execution.Watch watch = execution.watch();

    assertThat(execution.cancel()).isTrue();

    assertThat(worker.cancelled).hasSize(1);
    assertThat(timer.pending()).isZero();
    watch.close();
  }

  @Test
  void theGraceIsBounded() {
    assertThatThrownBy(() -> ExecutionServices.newBuilder().reattachGrace(Duration.ofSeconds(31)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("reattachGrace");
  }

  @Test
  void completedOperationsAreBoundedByCountOldestFirst() {
    FakeWorker worker = connectWorker();
    ExecutionService bounded =
        ExecutionServices.newBuilder()
            .cas(hearth.cas())
            .actionCache(hearth.actionCache())
            .scheduler(scheduler)
            .clock(clock)
            .maxCompletedOperations(3)
            .build();
    Digest action = storeAction("true");
    Execution ran = bounded.execute(request(action));
    worker.exit(0);
    List<Execution> hits = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      hits.add(bounded.execute(request(action)));
    }

    assertThat(response(hits.get(2)).getCachedResult()).isTrue();
    assertThat(bounded.find(ran.name())).isEmpty();
    for (Execution hit : hits) {
      assertThat(bounded.find(hit.name())).contains(hit);
    }
    bounded.execute(request(action));
    assertThat(bounded.find(hits.get(0).name())).isEmpty();
    assertThat(bounded.find(hits.get(1).name())).contains(hits.get(1));
  }

  @Test
  void completedOperationsWithLargeInlineOutputsStayWithinTheByteBound() {
    FakeWorker worker = connectWorker();
    long bound = 256 << 10;
    ExecutionService bounded =
        ExecutionServices.newBuilder()
            .cas(hearth.cas())
            .scheduler(scheduler)
            .clock(clock)
            .maxCompletedOperationBytes(bound)
            .build();
    ActionResult big =
        ActionResult.newBuilder()
            .setStdoutRaw(ByteString.copyFrom(new byte[64 << 10]))
            .setStderrRaw(ByteString.copyFrom(new byte[1 << 10]))
            .build();
    List<Execution> flood = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      Execution execution =
          bounded.execute(
              request(storeAction(command("echo", "" + i), action -> action.setDoNotCache(true))));
      worker.last().complete(ActionOutcome.completed(big));
      assertThat(response(execution).getResult().getStdoutRaw().size()).isEqualTo(64 << 10);
      flood.add(execution);

      // Far below the count bound of 10,000, the bytes alone decide what is kept.
      long kept = 0;
      for (Execution each : flood) {
        if (bounded.find(each.name()).isPresent()) {
          kept +=
              response(each).getSerializedSize() + DefaultExecutionService.OPERATION_OVERHEAD_BYTES;
        }
      }
      assertThat(kept).isLessThanOrEqualTo(bound);
    }

    // The newest are kept as long as they fit, the oldest forgotten (NOT_FOUND "expired").
    long each =
        response(flood.get(0)).getSerializedSize()
            + DefaultExecutionService.OPERATION_OVERHEAD_BYTES;
    int fits = (int) (bound / each);
    assertThat(fits).isEqualTo(3);
    for (int i = 0; i < flood.size(); i++) {
      assertThat(bounded.find(flood.get(i).name()).isPresent())
          .as("operation %d of %d", i, flood.size())
          .isEqualTo(i >= flood.size() - fits);
    }
  }

  @Test
  void theNewestCompletedOperationIsKeptWhateverItsSize() {
    FakeWorker worker = connectWorker();
    ExecutionService bounded =
        ExecutionServices.newBuilder()
            .cas(hearth.cas())
            .scheduler(scheduler)
            .clock(clock)
            .maxCompletedOperationBytes(1)
            .build();
    Execution first = bounded.execute(request(storeAction("true")));
    worker.exit(0);
    Execution second = bounded.execute(request(storeAction("false")));
    worker.exit(1);

    assertThat(bounded.find(first.name())).isEmpty();
    assertThat(bounded.find(second.name())).contains(second);
  }

  @Test
  void theOperationsPerExecutionBoundIsConfigurableAndNamedInTheRefusal() {
    ExecutionService bounded =
        ExecutionServices.newBuilder()
            .instanceName("main")
            .cas(hearth.cas())
            .scheduler(scheduler)
            .clock(clock)
            .maxOperationsPerExecution(2)
            .build();
    Digest action = storeAction("sleep", "4");
    Execution first = bounded.execute(request(action));
    bounded.execute(request(action));

    HearthException refused =
        org.assertj.core.api.Assertions.catchThrowableOfType(
            () -> bounded.execute(request(action)), HearthException.class);

    assertThat(refused.code()).isEqualTo(StatusCode.RESOURCE_EXHAUSTED);
    assertThat(refused.limit()).contains("operations_per_execution");
    assertThat(refused.getMessage())
        .contains(
            "already has 2 operations",
            "execution.maxOperationsPerExecution of instance 'main' is 2");
    assertThat(first.result()).isNotDone();
    assertThatThrownBy(() -> ExecutionServices.newBuilder().maxOperationsPerExecution(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxOperationsPerExecution");
    assertThatThrownBy(() -> ExecutionServices.newBuilder().maxCompletedOperationBytes(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxCompletedOperationBytes");
  }

  @Test
  void cancellingAQueuedExecutionTakesItOutOfTheQueue() {
    Execution execution = service.execute(request(storeAction("true")));

    assertThat(execution.cancel()).isTrue();

    assertThat(response(execution).getStatus().getCode()).isEqualTo(StatusCode.CANCELLED.value());
    FakeWorker worker = connectWorker();
    assertThat(worker.assigned).isEmpty();
  }

  // ---- finding executions ----

  @Test
  void executionsCanBeFoundUntilTheirRetentionAfterCompletionEnds() {
    FakeWorker worker = connectWorker();
    Execution execution = service.execute(request(storeAction("true")));
    assertThat(execution.name()).startsWith("main/operations/");
    assertThat(service.find(execution.name())).contains(execution);

    clock.advance(Duration.ofHours(1));
    assertThat(service.find(execution.name())).contains(execution);
    worker.exit(0);
    clock.advance(Duration.ofMinutes(9));
    assertThat(service.find(execution.name())).contains(execution);

    clock.advance(Duration.ofMinutes(1));
    assertThat(service.find(execution.name())).isEmpty();
    assertThat(service.find("main/operations/no-such-operation")).isEmpty();
    assertThat(service.find("other/operations/whatever")).isEmpty();
  }

  @Test
  void theDefaultInstanceNamesOperationsWithoutAPrefix() {
    ExecutionService defaultInstance =
        ExecutionServices.newBuilder().cas(hearth.cas()).scheduler(scheduler).build();

    Execution execution = defaultInstance.execute(request(storeAction("true")));

    assertThat(execution.name()).matches("operations/[0-9a-f-]{36}");
    assertThat(defaultInstance.find(execution.name())).contains(execution);
    assertThat(service.find(execution.name())).isEmpty();
  }

  @Test
  void theBuilderChecksItsSettings() {
    assertThatThrownBy(() -> ExecutionServices.newBuilder().scheduler(scheduler).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("CAS");
    assertThatThrownBy(
            () ->
                ExecutionServices.newBuilder()
                    .cas(hearth.cas())
                    .scheduler(scheduler)
                    .defaultTimeout(Duration.ofHours(2))
                    .maxTimeout(Duration.ofHours(1))
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("defaultTimeout 2h exceeds maxTimeout 1h");
    assertThatThrownBy(() -> ExecutionServices.newBuilder().maxTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void anEmptyPlatformFallsBackToNothing() {
    FakeWorker worker = connectWorker();
    service.execute(request(storeAction("true")));
    assertThat(worker.last().request().platform()).isEqualTo(Platform.getDefaultInstance());
  }
}
