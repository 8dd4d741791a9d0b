package build.hearth.web;

import build.bazel.remote.execution.v2.ExecutedActionMetadata;
import build.hearth.core.ops.WorkerReports;
import build.hearth.proto.execution.PersistentWorkerRun;
import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;

/** How the pages write numbers, sizes, durations and times. */
final class Format {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss 'UTC'").withZone(ZoneOffset.UTC);

  private Format() {}

  static String bytes(long bytes) {
    if (bytes < 1024) {
      return bytes + " B";
    }
    if (bytes < 1024 * 1024) {
      return String.format(java.util.Locale.ROOT, "%.1f KiB", bytes / 1024.0);
    }
    if (bytes < 1024L * 1024 * 1024) {
      return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024));
    }
    return String.format(java.util.Locale.ROOT, "%.1f GiB", bytes / (1024.0 * 1024 * 1024));
  }

  static String duration(Duration d) {
    if (d.isNegative()) {
      return "0 s";
    }
    long ms = d.toMillis();
    if (ms < 1000) {
      return ms + " ms";
    }
    if (ms < 60_000) {
      return String.format(java.util.Locale.ROOT, "%.1f s", ms / 1000.0);
    }
    if (ms < 3_600_000) {
      return (ms / 60_000) + " min " + (ms / 1000 % 60) + " s";
    }
    return (ms / 3_600_000) + " h " + (ms / 60_000 % 60) + " min";
  }

  static String time(Instant instant) {
    return TIME.format(instant);
  }

  static String instance(String name) {
    return name.isEmpty() ? "(default)" : name;
  }

  static String sandbox(WorkerReports.Sandbox sandbox) {
    String text =
        sandbox.mode() + ", cgroups " + sandbox.cgroups() + ", as " + sandbox.actionUser();
    if (!sandbox.available().isEmpty()) {
      text += "; " + String.join(", ", sandbox.available());
    }
    if (!sandbox.refused().isEmpty()) {
      text += "; refused: " + String.join(", ", sandbox.refused().keySet());
    }
    return text;
  }

  /** A worker's properties, sorted by name, each name once with its values: {@code a=1|2, b=x}. */
  static String properties(build.hearth.spi.worker.WorkerSpec spec) {
    StringBuilder text = new StringBuilder();
    new java.util.TreeMap<>(spec.properties())
        .forEach(
            (name, values) -> {
              text.append(text.length() == 0 ? "" : ", ").append(name).append('=');
              text.append(String.join("|", new java.util.TreeSet<>(values)));
            });
    return text.length() == 0 ? "none" : text.toString();
  }

  static Instant instant(Timestamp t) {
    return Instant.ofEpochSecond(t.getSeconds(), t.getNanos());
  }

  static boolean isSet(Timestamp t) {
    return t.getSeconds() != 0 || t.getNanos() != 0;
  }

  /** The time between two metadata timestamps, or "-" when either is missing. */
  static String between(Timestamp from, Timestamp to) {
    if (!isSet(from) || !isSet(to)) {
      return "-";
    }
    return duration(Duration.between(instant(from), instant(to)));
  }

  /**
   * Which persistent-worker process ran a result, from the {@link PersistentWorkerRun} the worker
   * put in its auxiliary metadata: {@code warm: process 1234, request 7} or {@code cold: new
   * process 1234}; empty when the worker reported none (a fresh process, or a worker that does not
   * say).
   */
  static java.util.Optional<String> persistentRun(ExecutedActionMetadata m) {
    for (Any any : m.getAuxiliaryMetadataList()) {
      if (any.is(PersistentWorkerRun.class)) {
        try {
          PersistentWorkerRun run = any.unpack(PersistentWorkerRun.class);
          return java.util.Optional.of(
              run.getRequestNumber() > 1
                  ? "warm: process " + run.getPid() + ", request " + run.getRequestNumber()
                  : "cold: new process " + run.getPid());
        } catch (InvalidProtocolBufferException e) {
          return java.util.Optional.of("not readable: " + e.getMessage());
        }
      }
    }
    return java.util.Optional.empty();
  }

  static Views.ActionRow actionRow(RecordedAction action, ActionLinks links) {
    ExecutedActionMetadata m = action.response().getResult().getExecutionMetadata();
    return new Views.ActionRow(
        links.action(action.instanceName(), action.actionDigest()),
        instance(action.instanceName()),
        action.actionDigest().hash().substring(0, 12) + "/" + action.actionDigest().sizeBytes(),
        action.outcome(),
        action.succeeded(),
        between(m.getWorkerStartTimestamp(), m.getWorkerCompletedTimestamp()),
        between(m.getQueuedTimestamp(), m.getWorkerStartTimestamp()),
        m.getWorker().isEmpty() ? "-" : m.getWorker(),
        // A cached result's metadata is that of the run that stored it, not of this request.
        action.cached() ? "-" : persistentRun(m).orElse("-"),
        time(action.completedAt()));
  }
}
