package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.hearth.server.HearthServer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two worker processes, started as {@code hearth worker} and connected to one Hearth server that
 * has no worker of its own, share the actions of Bazel builds; and when one of them is killed with
 * SIGKILL in the middle of an action, that action completes on the other and the build succeeds.
 *
 * <p>The server, the workers and the Bazel client are shared by the tests, which run in order: the
 * second kills a worker.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class WorkerProcessesE2eTest {
  private static final int WHERE_TARGETS = 20;
  private static final String VICTIM_PID_FILE = "hearth-e2e-sigkill-victim.pid";

  private HearthServer hearth;
  private final List<WorkerProcess> workers = new ArrayList<>();
  private Bazel bazel;
  private String executor;

  @BeforeAll
  void startServerAndWorkers(@TempDir Path storage) {
    hearth = HearthServer.start(HearthConfigs.remoteExecution(storage, "2m", List.of()));
    for (String name : List.of("worker-a", "worker-b")) {
      WorkerSetup setup = WorkerSetup.linux(name, 2, storage.resolve("workers"));
      workers.add(WorkerProcess.start(setup, hearth.port(), WorkerProcessesE2eTest.class));
    }
    bazel = Bazel.open(BazelWorkspace.fromTemplate("remote"), WorkerProcessesE2eTest.class);
    executor = "--remote_executor=grpc://localhost:" + hearth.port();
  }

  @AfterAll
  void stopEverything() {
    try (HearthServer server = hearth) {
      try {
        if (bazel != null) {
          bazel.close();
        }
      } finally {
        workers.forEach(WorkerProcess::close);
      }
    }
  }

  @Test
  @Order(1)
  void bothWorkerProcessesExecuteActionsOfOneBuild() throws IOException {
    List<String> args = new ArrayList<>(List.of(executor, "--jobs=16"));
    IntStream.rangeClosed(1, WHERE_TARGETS).forEach(i -> args.add("//where:where_" + i));

    ProcessSummary summary = bazel.build(args.toArray(String[]::new)).processSummary();
    assertThat(summary.remotelyExecuted())
        .as("remote spawns: %s", summary)
        .isEqualTo(WHERE_TARGETS);
    assertThat(summary.spawns()).as("spawns: %s", summary).isEqualTo(WHERE_TARGETS);

    int[] ranOn = new int[workers.size()];
    for (int i = 1; i <= WHERE_TARGETS; i++) {
      String ranIn = Files.readString(bazel.bazelBin().resolve("where/where_" + i + ".txt"));
      int worker = workerThatRan(ranIn);
      assertThat(worker).as("where_%d ran in %s, under neither worker", i, ranIn).isNotNegative();
      ranOn[worker]++;
    }
    assertThat(ranOn)
        .as("actions run by %s and %s", workers.get(0), workers.get(1))
        .doesNotContain(0);
  }

  @Test
  @Order(2)
  void anActionWhoseWorkerIsKilledCompletesOnTheOtherWorker() throws IOException {
    Bazel.Running build = bazel.start("build", executor, "//faults:sigkill_victim");

    // The action writes its pid as its first command: from then on its process runs on a worker.
    WorkerProcess[] victim = new WorkerProcess[1];
    await()
        .alias("the victim action to start on a worker")
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(50))
        .until(
            () -> {
              for (WorkerProcess worker : workers) {
                Optional<Path> pidFile = worker.setup().findInExecRoots(VICTIM_PID_FILE);
                if (pidFile.isPresent()) {
                  victim[0] = worker;
                  return true;
                }
              }
              assertThat(build.isAlive()).as("bazel still building").isTrue();
              return false;
            });
    WorkerProcess killed = victim[0];
    WorkerProcess survivor = workers.get(0) == killed ? workers.get(1) : workers.get(0);
    killed.kill();

    BazelResult result = build.await().assertSuccess();
    ProcessSummary summary = result.processSummary();
    assertThat(summary.remotelyExecuted()).as("remote spawns: %s", summary).isEqualTo(1);
    assertThat(summary.executedLocally()).as("local spawns: %s", summary).isZero();
    String ranIn = Files.readString(bazel.bazelBin().resolve("faults/sigkill_victim.txt"));
    assertThat(survivor.setup().ran(ranIn))
        .as("the action, interrupted on %s, completed in %s", killed, ranIn)
        .isTrue();
  }

  private int workerThatRan(String workingDirectory) {
    for (int i = 0; i < workers.size(); i++) {
      if (workers.get(i).setup().ran(workingDirectory)) {
        return i;
      }
    }
    return -1;
  }
}
