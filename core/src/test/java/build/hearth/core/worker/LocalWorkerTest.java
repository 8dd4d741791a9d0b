package build.hearth.core.worker;

import static build.hearth.core.worker.WorkerTestSupport.env;
import static build.hearth.core.worker.WorkerTestSupport.sh;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.Platform;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.execution.ActionRunner;
import build.hearth.core.execution.Cancellation;
import build.hearth.core.process.ProcessTrees;
import build.hearth.core.scheduler.ActionRequest;
import build.hearth.core.scheduler.Scheduler;
import build.hearth.core.scheduler.Ticket;
import build.hearth.core.scheduler.WarmWorkers;
import build.hearth.core.scheduler.WorkerSession;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import build.hearth.spi.worker.WorkerSpec;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link LocalWorker} connected to the real scheduler, running real processes. */
class LocalWorkerTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir Path tempDir;

  private WorkerTestSupport support;
  private LocalActionRunner runner;
  private Scheduler<ExecutionTask, ActionOutcome> scheduler;

  @BeforeEach
  void setUp() {
    support = new WorkerTestSupport(tempDir);
    runner = support.runnerBuilder().build();
    // Listener calls on the submitting thread: a worker that blocked in assign() would block
    // submit() in these tests.
    scheduler = Scheduler.newBuilder().callbackExecutor(Runnable::run).build();
  }

  @AfterEach
  void tearDown() {
    scheduler.close();
    runner.close();
    support.close();
  }

  private LocalWorker worker(int slots, ActionRunner actionRunner) {
    return LocalWorker.newBuilder()
        .spec(WorkerSpec.builder("w").slots(slots).build())
        .runner(actionRunner)
        .closeTimeout(WAIT)
        .build();
  }

  private Ticket<ActionOutcome> submit(String name, ExecutionTask task) {
    return scheduler.submit(ActionRequest.of(name, Platform.getDefaultInstance(), task));
  }

  private static HearthException failure(Ticket<ActionOutcome> ticket) {
    try {
      ticket.result().join();
    } catch (CompletionException e) {
      assertThat(e.getCause()).isInstanceOf(HearthException.class);
      return (HearthException) e.getCause();
    }
    throw new AssertionError("the ticket did not fail");
  }

  /** An action that marks that it started, then waits for the release file. */
  private ExecutionTask waiting(String name) {
    String script =
        "touch \"$DIR/started-"
            + name
            + "\"\n"
            + "until [ -e \"$DIR/release\" ]; do sleep 0.01; done";
    return support.task(sh(script).addEnvironmentVariables(env("DIR", tempDir.toString())).build());
  }

  @Test
  void reportsWarmProcessesToTheSchedulersScorerAndAgainOnEachConnect() {
    WarmWorkers warm = new WarmWorkers();
    try (Scheduler<ExecutionTask, ActionOutcome> routed =
            Scheduler.newBuilder().callbackExecutor(Runnable::run).workerScorer(warm).build();
        LocalWorker worker =
            LocalWorker.newBuilder()
                .spec(WorkerSpec.builder("w").build())
                .runner(runner)
                .warmWorkers(warm)
                .closeTimeout(WAIT)
                .build()) {
      worker.reportWarmProcesses(Map.of("javac", 2));
      assertThat(warm.idle("w")).isEmpty();

      WorkerSession session = worker.connect(routed);
      assertThat(warm.idle("w")).containsExactlyEntriesOf(Map.of("javac", 2));

      worker.reportWarmProcesses(Map.of("scalac", 1));
      assertThat(warm.idle("w")).containsExactlyEntriesOf(Map.of("scalac", 1));

      session.disconnect();
      assertThat(warm.idle("w")).isEmpty();
      worker.connect(routed);
      assertThat(warm.idle("w")).containsExactlyEntriesOf(Map.of("scalac", 1));
    }
  }

  @Test
  void withoutWarmWorkersReportsAreDropped() {
    try (LocalWorker worker = worker(1, runner)) {
      worker.connect(scheduler);
      worker.reportWarmProcesses(Map.of("javac", 1));
      assertThatThrownBy(() -> worker.reportWarmProcesses(null))
          .isInstanceOf(NullPointerException.class);
    }
  }

  @Test
  void runsAsManyActionsAtOnceAsItHasSlotsAndQueuesTheRest() throws IOException {
    try (LocalWorker worker = worker(2, runner)) {
      worker.connect(scheduler);

      Ticket<ActionOutcome> first = submit("first", waiting("first"));
      Ticket<ActionOutcome> second = submit("second", waiting("second"));
      Ticket<ActionOutcome> third = submit("third", waiting("third"));

      // Neither of the first two can end before the release, so both running proves the overlap.
      await()
          .atMost(WAIT)
          .until(
              () ->
                  Files.exists(tempDir.resolve("started-first"))
                      && Files.exists(tempDir.resolve("started-second")));
      assertThat(third.stage()).isEqualTo(Ticket.Stage.QUEUED);
      assertThat(tempDir.resolve("started-third")).doesNotExist();

      Files.createFile(tempDir.resolve("release"));

      for (Ticket<ActionOutcome> ticket : List.of(first, second, third)) {
        ActionOutcome outcome = ticket.result().orTimeout(10, TimeUnit.SECONDS).join();
        assertThat(outcome.ran()).isTrue();
        assertThat(outcome.result().getExitCode()).isZero();
        assertThat(outcome.result().getExecutionMetadata().getWorker()).isEqualTo("test-worker");
      }
      assertThat(tempDir.resolve("started-third")).exists();
    }
  }

  @Test
  void failsABadInputTreeWithInvalidArgumentBeforeAnyProcessStarts() {
    Digest inputs =
        support.put(Directory.newBuilder().addFiles(support.file("a/b", "slash", false)).build());
    try (LocalWorker worker = worker(1, runner)) {
      worker.connect(scheduler);

      Ticket<ActionOutcome> ticket =
          submit("bad", support.task(sh("echo ran").build(), inputs, Duration.ofSeconds(20)));

      await().atMost(WAIT).until(() -> ticket.result().isDone());
      HearthException error = failure(ticket);
      assertThat(error.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
      assertThat(error.getMessage()).contains("a/b");
      assertThat(support.launcher.requests).isEmpty();
    }
  }

  @Test
  void killsTheProcessWhenTheActionIsCancelledAndFreesTheSlot() throws IOException {
    try (LocalWorker worker = worker(1, runner)) {
      worker.connect(scheduler);
      Ticket<ActionOutcome> ticket = submit("doomed", waiting("doomed"));
      await().atMost(WAIT).until(() -> Files.exists(tempDir.resolve("started-doomed")));
      Process process = support.launcher.processes.get(0);

      assertThat(ticket.cancel()).isTrue();

      await()
          .atMost(Duration.ofSeconds(2))
          .until(() -> !ProcessTrees.isRunning(process.toHandle()));
      assertThat(failure(ticket).code()).isEqualTo(StatusCode.CANCELLED);
      // The runner answered the cancelled assignment, so the only slot takes the next action.
      Ticket<ActionOutcome> next = submit("next", support.task(sh("echo next").build()));
      ActionOutcome outcome = next.result().orTimeout(10, TimeUnit.SECONDS).join();
      assertThat(support.text(outcome.result().getStdoutDigest())).isEqualTo("next\n");
    }
  }

  @Test
  void reportsAnUnexpectedRunnerExceptionAsInternalOnASlotThread() {
    AtomicReference<String> threadName = new AtomicReference<>();
    ActionRunner broken =
        new ActionRunner() {
          @Override
          public ActionOutcome run(ExecutionTask task, Cancellation cancellation) {
            threadName.set(Thread.currentThread().getName());
            throw new IllegalStateException("the runner broke");
          }

          @Override
          public void close() {}
        };
    try (LocalWorker worker = worker(1, broken)) {
      worker.connect(scheduler);

      Ticket<ActionOutcome> ticket = submit("any", support.task(sh("true").build()));

      await().atMost(WAIT).until(() -> ticket.result().isDone());
      HearthException error = failure(ticket);
      assertThat(error.code()).isEqualTo(StatusCode.INTERNAL);
      assertThat(error.getMessage()).contains("the runner broke");
      assertThat(threadName.get()).startsWith("hearth-worker-w-slot-");
    }
  }

  @Test
  void closeDisconnectsSoTheActionIsQueuedAgainAndKillsItsProcess() {
    LocalWorker worker = worker(1, runner);
    WorkerSession session = worker.connect(scheduler);
    Ticket<ActionOutcome> ticket = submit("interrupted", waiting("interrupted"));
    await().atMost(WAIT).until(() -> Files.exists(tempDir.resolve("started-interrupted")));
    Process process = support.launcher.processes.get(0);

    worker.close();

    assertThat(session.isConnected()).isFalse();
    assertThat(ProcessTrees.isRunning(process.toHandle())).isFalse();
    assertThat(ticket.stage()).isEqualTo(Ticket.Stage.QUEUED);
    assertThat(ticket.result()).isNotDone();
  }

  @Test
  void refusesToConnectAfterClose() {
    LocalWorker worker = worker(1, runner);
    worker.close();

    assertThatThrownBy(() -> worker.connect(scheduler)).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void refusesToConnectTwice() {
    try (LocalWorker worker = worker(1, runner)) {
      worker.connect(scheduler);

      assertThatThrownBy(() -> worker.connect(scheduler)).isInstanceOf(IllegalStateException.class);
    }
  }
}
