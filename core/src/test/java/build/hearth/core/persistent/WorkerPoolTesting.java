package build.hearth.core.persistent;

import build.hearth.testing.FakeClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Keys and pools for the pool's tests. */
final class WorkerPoolTesting {
  static final List<String> JAVAC =
      List.of("bin/java", "-jar", "JavaBuilder_deploy.jar", "--persistent_worker");

  private WorkerPoolTesting() {}

  /** A singleplex key of tool "javac" with tool files at version {@code a}. */
  static WorkerKey key(String clientKey) {
    return key(clientKey, false, "a");
  }

  static WorkerKey multiplexKey(String clientKey) {
    return key(clientKey, true, "a");
  }

  /** A key of tool "javac" whose tool jar has the digest named by {@code toolVersion}. */
  static WorkerKey key(String clientKey, boolean multiplex, String toolVersion) {
    return new WorkerKey(
        clientKey,
        "javac",
        JAVAC,
        Map.of("LANG", "C.UTF-8"),
        WorkerProtocol.PROTO,
        multiplex,
        false,
        new TreeMap<>(Map.of("JavaBuilder_deploy.jar", toolVersion.repeat(64) + "/1234")));
  }

  /**
   * A pool on {@code clock} without its own threads: no sweeps (tests call retireIdle), and retired
   * processes end on the thread that retired them.
   */
  static WorkerPoolBuilder deterministic(
      FakeClock clock, Path directory, FakeToolProcess.Factory factory) {
    return WorkerPool.newBuilder()
        .directory(directory)
        .processFactory(factory)
        .clock(clock)
        .sweepInterval(Duration.ZERO)
        .retirementExecutor(Runnable::run);
  }

  static PoolLimits.Builder limits() {
    return PoolLimits.newBuilder();
  }
}
