package build.hearth.core.persistent;

import build.hearth.api.PoolLimits;
import build.hearth.api.ToolProtocol;
import build.hearth.testing.FakeClock;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Keys and pools for the pool's tests. */
final class ToolPoolTesting {
  static final List<String> JAVAC =
      List.of("bin/java", "-jar", "JavaBuilder_deploy.jar", "--persistent_worker");

  private ToolPoolTesting() {}

  /** A singleplex key of tool "javac" with tool files at version {@code a}. */
  static ToolKey key(String clientKey) {
    return key(clientKey, false, "a");
  }

  static ToolKey multiplexKey(String clientKey) {
    return key(clientKey, true, "a");
  }

  /** A key of tool "javac" whose tool jar has the digest named by {@code toolVersion}. */
  static ToolKey key(String clientKey, boolean multiplex, String toolVersion) {
    return new ToolKey(
        clientKey,
        "javac",
        JAVAC,
        Map.of("LANG", "C.UTF-8"),
        ToolProtocol.PROTO,
        multiplex,
        false,
        new TreeMap<>(Map.of("JavaBuilder_deploy.jar", toolVersion.repeat(64) + "/1234")));
  }

  /**
   * A pool on {@code clock} without its own threads: no sweeps (tests call retireIdle), and retired
   * processes end on the thread that retired them.
   */
  static ToolPoolBuilder deterministic(
      FakeClock clock, Path directory, FakeToolProcess.Factory factory) {
    return ToolPool.newBuilder()
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
