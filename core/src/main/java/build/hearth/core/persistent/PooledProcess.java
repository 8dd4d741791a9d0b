package build.hearth.core.persistent;

import build.hearth.api.PoolStats.ProcessState;
import build.hearth.api.PoolStats.ProcessStats;
import build.hearth.api.RetirementReason;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * The pool's record of one process, from the reservation of its slot to its retirement. Guarded by
 * the pool's lock, except {@link #process}, which is written once under the lock and then only
 * read, so that a lease holder may use it without the lock.
 */
final class PooledProcess {
  final KeyPool owner;
  final Path directory;
  // Null while the factory starts it.
  volatile ToolProcess process;
  int inFlight;
  // Leases handed out on it, which also numbers them.
  long handed;
  Instant started;
  Instant lastUsed;
  OptionalLong residentBytes = OptionalLong.empty();
  // Set when it takes no more requests and retires once those in flight are done.
  RetirementReason drainReason;
  String drainDetail;
  boolean retired;
  boolean evicted;

  PooledProcess(KeyPool owner, Path directory, Instant now) {
    this.owner = owner;
    this.directory = directory;
    this.started = now;
    this.lastUsed = now;
  }

  boolean isStarted() {
    return process != null;
  }

  /** Whether it can take one more request now. */
  boolean hasRoom() {
    return process != null
        && !retired
        && drainReason == null
        && inFlight < owner.requestsPerProcess();
  }

  /** Whether it serves nothing and may serve again, so it may retire without hurting a request. */
  boolean isIdle() {
    return process != null && !retired && drainReason == null && inFlight == 0;
  }

  /** Stops new requests; it retires when the ones in flight are done. The first reason wins. */
  void drain(RetirementReason reason, String detail) {
    if (drainReason == null) {
      drainReason = reason;
      drainDetail = detail;
    }
  }

  ProcessState state() {
    if (process == null) {
      return ProcessState.STARTING;
    }
    if (drainReason != null) {
      return ProcessState.DRAINING;
    }
    return inFlight == 0 ? ProcessState.IDLE : ProcessState.BUSY;
  }

  ProcessStats stats() {
    ToolProcess running = process;
    return new ProcessStats(
        running == null ? 0 : running.pid(),
        state(),
        inFlight,
        handed,
        residentBytes,
        started,
        lastUsed,
        directory,
        Optional.ofNullable(drainReason));
  }

  /** Names it in log lines and errors: pid, key and tool. */
  String describe() {
    ToolProcess running = process;
    ToolKey key = owner.key;
    return "persistent worker process "
        + (running == null ? "(starting)" : "pid " + running.pid())
        + " of key "
        + key.clientKey()
        + " ("
        + (key.tool().isEmpty() ? "" : "tool " + key.tool() + ", ")
        + owner.shortFingerprint
        + ")";
  }
}
