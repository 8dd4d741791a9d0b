package build.hearth.core.worker;

import build.hearth.api.PoolLimits;
import build.hearth.core.config.PersistentWorkersConfig;
import build.hearth.core.persistent.ProcessFactory;
import build.hearth.core.persistent.ToolKey;
import build.hearth.core.persistent.ToolPool;
import java.nio.file.Path;
import java.time.Clock;

/** Builds a worker's persistent-worker pool from its configuration. */
final class PersistentPools {
  private PersistentPools() {}

  static ToolPool build(
      PersistentWorkersConfig config, Path directory, ProcessFactory factory, Clock clock) {
    PoolLimits defaults = limits(config, null);
    return ToolPool.newBuilder()
        .directory(directory)
        .processFactory(factory)
        .defaultLimits(defaults)
        .limits((ToolKey key) -> limits(config, config.tools().get(key.tool())))
        .maxProcesses(config.maxProcesses())
        .shutdownGrace(config.shutdownGrace())
        .clock(clock)
        .build();
  }

  /** The pool's limits, with what a configured tool overrides. */
  static PoolLimits limits(PersistentWorkersConfig config, PersistentWorkersConfig.Tool tool) {
    PoolLimits.Builder limits =
        PoolLimits.newBuilder()
            .maxProcessesPerKey(config.maxProcessesPerKey())
            .maxRequestsPerProcess(config.maxRequestsPerProcess())
            .memoryLimitBytes(config.memoryLimitBytes())
            .idleTimeout(config.idleTimeout())
            .maxInFlightPerMultiplexProcess(config.maxMultiplexRequests())
            .atCapacity(config.atCapacity());
    if (tool != null) {
      tool.maxProcessesPerKey().ifPresent(limits::maxProcessesPerKey);
      tool.maxRequestsPerProcess().ifPresent(limits::maxRequestsPerProcess);
      tool.memoryLimitBytes().ifPresent(limits::memoryLimitBytes);
      tool.idleTimeout().ifPresent(limits::idleTimeout);
    }
    return limits.build();
  }
}
