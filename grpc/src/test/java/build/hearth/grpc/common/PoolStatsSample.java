package build.hearth.grpc.common;

import build.hearth.api.PoolLimits;
import build.hearth.api.PoolStats;
import build.hearth.api.PoolStats.Counters;
import build.hearth.api.PoolStats.KeyStats;
import build.hearth.api.PoolStats.ProcessState;
import build.hearth.api.PoolStats.ProcessStats;
import build.hearth.api.RetirementReason;
import build.hearth.api.ToolProtocol;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/** A {@link PoolStats} with every field set, for tests of its messages on either side. */
public final class PoolStatsSample {
  private PoolStatsSample() {}

  // Whole milliseconds: instants travel as epoch milliseconds.
  public static final Instant TAKEN_AT = Instant.parse("2026-03-01T10:00:00.123Z");

  /** Two keys, every retirement reason counted, processes in every state. */
  public static PoolStats sample() {
    Map<RetirementReason, Long> retired = new EnumMap<>(RetirementReason.class);
    long count = 1;
    for (RetirementReason reason : RetirementReason.values()) {
      retired.put(reason, count++);
    }
    Counters javacCounters =
        new Counters(7, 1, 120, 113, 7, 4, 2, 1, 3, retired, 118, Duration.ofMillis(61_234));
    Counters scalacCounters =
        new Counters(1, 0, 2, 1, 1, 0, 0, 0, 0, Map.of(), 2, Duration.ofNanos(1_500_000_001));
    Counters totals =
        new Counters(8, 1, 122, 114, 8, 4, 2, 1, 3, retired, 120, Duration.ofSeconds(62));
    KeyStats javac =
        new KeyStats(
            "javac-17",
            "javac",
            "a".repeat(64),
            ToolProtocol.PROTO,
            true,
            PoolLimits.newBuilder()
                .maxProcessesPerKey(4)
                .maxRequestsPerProcess(500)
                .memoryLimitBytes(2L << 30)
                .idleTimeout(Duration.ofMinutes(10))
                .maxInFlightPerMultiplexProcess(6)
                .atCapacity(PoolLimits.AtCapacity.ONE_SHOT)
                .build(),
            1,
            1,
            1,
            1,
            2,
            4,
            javacCounters,
            List.of(
                process(0, ProcessState.STARTING, OptionalLong.empty(), Optional.empty()),
                process(101, ProcessState.IDLE, OptionalLong.of(123_456_789), Optional.empty()),
                process(102, ProcessState.BUSY, OptionalLong.of(1), Optional.empty()),
                process(
                    103,
                    ProcessState.DRAINING,
                    OptionalLong.of(9L << 30),
                    Optional.of(RetirementReason.TOOL_CHANGE))));
    KeyStats scalac =
        new KeyStats(
            "scalac",
            "",
            "b".repeat(64),
            ToolProtocol.JSON,
            false,
            PoolLimits.DEFAULTS,
            0,
            0,
            0,
            0,
            0,
            1,
            scalacCounters,
            List.of());
    return new PoolStats(TAKEN_AT, 12, 4, 5, 2, totals, List.of(javac, scalac));
  }

  private static ProcessStats process(
      long pid, ProcessState state, OptionalLong rss, Optional<RetirementReason> retiring) {
    return new ProcessStats(
        pid,
        state,
        state == ProcessState.IDLE ? 0 : 2,
        pid * 3,
        rss,
        TAKEN_AT.minusSeconds(pid + 60),
        TAKEN_AT.minusMillis(pid + 5),
        Path.of("/var/hearth/pool/" + pid),
        retiring);
  }
}
