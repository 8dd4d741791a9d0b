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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A worker stopped with SIGTERM in the middle of a remote build drains: two workers, each started
 * through the example's {@code worker-wrapper.sh}, serve one Hearth; the worker running a
 * four-second action gets SIGTERM, lets that action finish and report, and exits with status 0; the
 * build succeeds with the action's result from that very worker, not from a second run elsewhere.
 */
class WorkerDrainE2eTest {
  private static final String VICTIM_PID_FILE = "hearth-e2e-sigkill-victim.pid";

  @Test
  void aWorkerGivenSigtermFinishesItsActionAndLeavesWithoutFailingTheBuild(@TempDir Path storage)
      throws IOException {
    // The workers' files stay out of /tmp, which the wrapper replaces for them.
    Path workers =
        E2eDirectories.target().resolve("worker-drain").resolve(Long.toString(System.nanoTime()));
    Path launcher = DeploymentExample.writeLauncher(workers.resolve("bin"));
    List<WorkerSetup> setups = new ArrayList<>();
    List<WrappedWorker> started = new ArrayList<>();
    try (HearthServer hearth =
        HearthServer.start(HearthConfigs.remoteExecution(storage, "2m", List.of()))) {
      try {
        for (String name : List.of("drain-a", "drain-b")) {
          WorkerSetup setup = WorkerSetup.linux(name, 2, workers);
          setups.add(setup);
          started.add(
              WrappedWorker.start(name, setup.json(), setup.directory(), launcher, hearth.port()));
        }
        try (Bazel bazel =
            Bazel.open(BazelWorkspace.fromTemplate("remote"), WorkerDrainE2eTest.class)) {
          Bazel.Running build =
              bazel.start(
                  "build",
                  "--remote_executor=grpc://localhost:" + hearth.port(),
                  "//faults:sigkill_victim");

          int[] victim = {-1};
          await()
              .alias("the victim action to start on a worker")
              .atMost(Duration.ofSeconds(90))
              .pollInterval(Duration.ofMillis(50))
              .until(
                  () -> {
                    for (int i = 0; i < setups.size(); i++) {
                      Optional<Path> pidFile = setups.get(i).findInExecRoots(VICTIM_PID_FILE);
                      if (pidFile.isPresent()) {
                        victim[0] = i;
                        return true;
                      }
                    }
                    assertThat(build.isAlive()).as("bazel still building").isTrue();
                    return false;
                  });
          WrappedWorker stopped = started.get(victim[0]);
          stopped.terminate();

          BazelResult result = build.await().assertSuccess();
          assertThat(result.processSummary().remotelyExecuted()).isEqualTo(1);
          assertThat(stopped.awaitExit(Duration.ofSeconds(60)))
              .as("exit status of %s; its log:\n%s", stopped, stopped.readLog())
              .isZero();
          assertThat(stopped.readLog()).contains("is draining", "drained");
          String ranIn = Files.readString(bazel.bazelBin().resolve("faults/sigkill_victim.txt"));
          assertThat(setups.get(victim[0]).ran(ranIn))
              .as("the action completed on the draining worker, not again elsewhere: %s", ranIn)
              .isTrue();
        }
      } finally {
        started.forEach(WrappedWorker::close);
      }
    }
  }
}
