package build.hearth.core.remote;

import build.hearth.api.HearthException;
import build.hearth.api.PoolLimits;
import build.hearth.api.PoolStats;
import build.hearth.api.PoolStats.Counters;
import build.hearth.api.PoolStats.KeyStats;
import build.hearth.api.PoolStats.ProcessState;
import build.hearth.api.PoolStats.ProcessStats;
import build.hearth.api.RetirementReason;
import build.hearth.api.ToolProtocol;
import build.hearth.core.internal.ProtoTime;
import build.hearth.proto.workerapi.PersistentCounters;
import build.hearth.proto.workerapi.PersistentKeyStats;
import build.hearth.proto.workerapi.PersistentLimits;
import build.hearth.proto.workerapi.PersistentPoolStats;
import build.hearth.proto.workerapi.PersistentProcess;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Converts a persistent-worker pool's {@link PoolStats} to the worker API's {@code
 * PersistentPoolStats} and back. Instants travel as epoch milliseconds, so a round trip keeps them
 * to the millisecond; everything else survives exactly.
 *
 * <p>Reading is lenient where a newer worker may know more (a retirement reason this side does not
 * know is left out) and strict where a value would be wrong (an unknown process state or protocol
 * is an INVALID_ARGUMENT naming the field).
 */
public final class PoolStatsMessages {
  private PoolStatsMessages() {}

  public static PersistentPoolStats toProto(PoolStats stats) {
    PersistentPoolStats.Builder proto =
        PersistentPoolStats.newBuilder()
            .setTakenAtMillis(stats.takenAt().toEpochMilli())
            .setMaxProcesses(stats.maxProcesses())
            .setAlive(stats.alive())
            .setMaxAlive(stats.maxAlive())
            .setWaiting(stats.waiting())
            .setTotals(toProto(stats.totals()));
    for (KeyStats key : stats.keys()) {
      proto.addKeys(toProto(key));
    }
    return proto.build();
  }

  public static PoolStats fromProto(PersistentPoolStats proto) {
    List<KeyStats> keys = new ArrayList<>();
    for (PersistentKeyStats key : proto.getKeysList()) {
      keys.add(fromProto(key));
    }
    return new PoolStats(
        Instant.ofEpochMilli(proto.getTakenAtMillis()),
        proto.getMaxProcesses(),
        proto.getAlive(),
        proto.getMaxAlive(),
        proto.getWaiting(),
        fromProto(proto.getTotals()),
        keys);
  }

  private static PersistentKeyStats toProto(KeyStats key) {
    PersistentKeyStats.Builder proto =
        PersistentKeyStats.newBuilder()
            .setClientKey(key.clientKey())
            .setTool(key.tool())
            .setFingerprint(key.fingerprint())
            .setProtocol(key.protocol().label())
            .setMultiplex(key.multiplex())
            .setStarting(key.starting())
            .setIdle(key.idle())
            .setBusy(key.busy())
            .setRetiring(key.retiring())
            .setWaiting(key.waiting())
            .setMaxAlive(key.maxAlive())
            .setCounters(toProto(key.counters()));
    if (key.limits() != null) {
      proto.setLimits(toProto(key.limits()));
    }
    for (ProcessStats process : key.processes()) {
      proto.addProcesses(toProto(process));
    }
    return proto.build();
  }

  private static KeyStats fromProto(PersistentKeyStats proto) {
    List<ProcessStats> processes = new ArrayList<>();
    for (PersistentProcess process : proto.getProcessesList()) {
      processes.add(fromProto(process, proto.getClientKey()));
    }
    ToolProtocol protocol;
    try {
      protocol = ToolProtocol.fromProperty(proto.getProtocol());
    } catch (HearthException e) {
      throw HearthException.invalidArgument(
          "PersistentKeyStats.protocol of key '%s': %s", proto.getClientKey(), e.getMessage());
    }
    return new KeyStats(
        proto.getClientKey(),
        proto.getTool(),
        proto.getFingerprint(),
        protocol,
        proto.getMultiplex(),
        proto.hasLimits() ? fromProto(proto.getLimits(), proto.getClientKey()) : null,
        proto.getStarting(),
        proto.getIdle(),
        proto.getBusy(),
        proto.getRetiring(),
        proto.getWaiting(),
        proto.getMaxAlive(),
        fromProto(proto.getCounters()),
        processes);
  }

  private static PersistentLimits toProto(PoolLimits limits) {
    return PersistentLimits.newBuilder()
        .setMaxProcessesPerKey(limits.maxProcessesPerKey())
        .setMaxRequestsPerProcess(limits.maxRequestsPerProcess())
        .setMemoryLimitBytes(limits.memoryLimitBytes())
        .setIdleTimeout(ProtoTime.of(limits.idleTimeout()))
        .setMaxInFlightPerMultiplexProcess(limits.maxInFlightPerMultiplexProcess())
        .setAtCapacity(limits.atCapacity().name().toLowerCase(Locale.ROOT))
        .build();
  }

  private static PoolLimits fromProto(PersistentLimits proto, String clientKey) {
    try {
      return new PoolLimits(
          proto.getMaxProcessesPerKey(),
          proto.getMaxRequestsPerProcess(),
          proto.getMemoryLimitBytes(),
          ProtoTime.toDuration(proto.getIdleTimeout()),
          proto.getMaxInFlightPerMultiplexProcess(),
          PoolLimits.AtCapacity.valueOf(proto.getAtCapacity().toUpperCase(Locale.ROOT)));
    } catch (IllegalArgumentException e) {
      throw HearthException.invalidArgument(
          "PersistentKeyStats.limits of key '%s': %s", clientKey, e.getMessage());
    }
  }

  private static PersistentCounters toProto(Counters counters) {
    PersistentCounters.Builder proto =
        PersistentCounters.newBuilder()
            .setSpawns(counters.spawns())
            .setStartFailures(counters.startFailures())
            .setRequests(counters.requests())
            .setWarmRequests(counters.warmRequests())
            .setColdRequests(counters.coldRequests())
            .setWaitsAtCap(counters.waitsAtCap())
            .setOneShotRuns(counters.oneShotRuns())
            .setEvictions(counters.evictions())
            .setIdleRestarts(counters.idleRestarts())
            .setLatencyCount(counters.latencyCount())
            .setLatencySum(ProtoTime.of(counters.latencySum()));
    counters.retirements().forEach((reason, count) -> proto.putRetirements(reason.label(), count));
    return proto.build();
  }

  private static Counters fromProto(PersistentCounters proto) {
    Map<RetirementReason, Long> retirements = new EnumMap<>(RetirementReason.class);
    for (RetirementReason reason : RetirementReason.values()) {
      retirements.put(reason, proto.getRetirementsOrDefault(reason.label(), 0L));
    }
    return new Counters(
        proto.getSpawns(),
        proto.getStartFailures(),
        proto.getRequests(),
        proto.getWarmRequests(),
        proto.getColdRequests(),
        proto.getWaitsAtCap(),
        proto.getOneShotRuns(),
        proto.getEvictions(),
        proto.getIdleRestarts(),
        retirements,
        proto.getLatencyCount(),
        ProtoTime.toDuration(proto.getLatencySum()));
  }

  private static PersistentProcess toProto(ProcessStats process) {
    PersistentProcess.Builder proto =
        PersistentProcess.newBuilder()
            .setPid(process.pid())
            .setState(process.state().name().toLowerCase(Locale.ROOT))
            .setInFlight(process.inFlight())
            .setRequests(process.requests())
            .setStartedMillis(process.started().toEpochMilli())
            .setLastUsedMillis(process.lastUsed().toEpochMilli())
            .setDirectory(String.valueOf(process.directory()))
            .setRetiringFor(process.retiringFor().map(RetirementReason::label).orElse(""));
    process.residentBytes().ifPresent(proto::setResidentBytes);
    return proto.build();
  }

  private static ProcessStats fromProto(PersistentProcess proto, String clientKey) {
    ProcessState state;
    Path directory;
    try {
      state = ProcessState.valueOf(proto.getState().toUpperCase(Locale.ROOT));
      directory = Path.of(proto.getDirectory());
    } catch (IllegalArgumentException e) { // also InvalidPathException
      throw HearthException.invalidArgument(
          "PersistentProcess %d of key '%s': %s", proto.getPid(), clientKey, e.getMessage());
    }
    return new ProcessStats(
        proto.getPid(),
        state,
        proto.getInFlight(),
        proto.getRequests(),
        proto.hasResidentBytes() ? OptionalLong.of(proto.getResidentBytes()) : OptionalLong.empty(),
        Instant.ofEpochMilli(proto.getStartedMillis()),
        Instant.ofEpochMilli(proto.getLastUsedMillis()),
        directory,
        retirementReason(proto.getRetiringFor()));
  }

  /**
   * The reason labelled {@code label}; empty for {@code ""} or a reason this side does not know.
   */
  private static Optional<RetirementReason> retirementReason(String label) {
    for (RetirementReason reason : RetirementReason.values()) {
      if (reason.label().equals(label)) {
        return Optional.of(reason);
      }
    }
    return Optional.empty();
  }
}
