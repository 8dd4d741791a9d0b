package build.hearth.benchmarks;

import build.bazel.remote.execution.v2.ExecutedActionMetadata;
import com.google.protobuf.Timestamp;
import java.time.Instant;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Where the time of each Execute went, from the client's send and receive instants and the worker's
 * {@code ExecutedActionMetadata} timestamps, which come from the same clock (the client and the
 * server share this JVM). The phases follow each other without gaps, so per action they add up to
 * the total; their means add up to the mean total, their medians only roughly to the median.
 *
 * <p>Hearth leaves {@code queued_timestamp} unset, so the time before the worker starts (the call
 * arriving, the execution service reading the action, the scheduler, the hand-off to a slot, and at
 * high concurrency the wait for a free slot) is one phase, measured from the client's send.
 *
 * <p>Immutable and thread-safe.
 */
final class Phases {
  /** The phases in order; each one's label says what happens in it. */
  enum Phase {
    TO_WORKER(
        "Execute sent -> worker starts: gRPC in, action and command read, scheduler, hand-off to a"
            + " slot (and, above `slots` in flight, the wait for one)"),
    WORKER_SETUP("worker starts -> input fetch starts: the instance's exec roots looked up"),
    INPUT_FETCH("input fetch: input tree validated, exec root directory made"),
    PRE_EXECUTION(
        "exec root made -> command starts: output directories, program resolved, stdout and"
            + " stderr files made"),
    EXECUTION("execution: process started and waited for (the direct-spawn part)"),
    OUTPUTS("execution done -> worker completes: outputs collected, stdout and stderr uploaded"),
    TO_CLIENT(
        "worker completes -> client has the result: exec root and logs deleted, slot freed,"
            + " action cache written, response over gRPC"),
    TOTAL("total, as the client sees it");

    final String label;

    Phase(String label) {
      this.label = label;
    }
  }

  private final Map<Phase, long[]> nanos;

  private Phases(Map<Phase, long[]> nanos) {
    this.nanos = nanos;
  }

  /**
   * The phases of {@code samples}.
   *
   * @throws IllegalArgumentException if there are none, or one lacks a worker timestamp
   */
  static Phases of(List<ExecuteClient.Sample> samples) {
    if (samples.isEmpty()) {
      throw new IllegalArgumentException("no samples");
    }
    Map<Phase, long[]> nanos = new EnumMap<>(Phase.class);
    for (Phase phase : Phase.values()) {
      nanos.put(phase, new long[samples.size()]);
    }
    for (int i = 0; i < samples.size(); i++) {
      ExecuteClient.Sample sample = samples.get(i);
      ExecutedActionMetadata m = sample.metadata();
      long sent = epochNanos(sample.sent());
      long workerStart = epochNanos(m.getWorkerStartTimestamp(), "worker_start", sample);
      long fetchStart = epochNanos(m.getInputFetchStartTimestamp(), "input_fetch_start", sample);
      long fetchDone =
          epochNanos(m.getInputFetchCompletedTimestamp(), "input_fetch_completed", sample);
      long execStart = epochNanos(m.getExecutionStartTimestamp(), "execution_start", sample);
      long execDone = epochNanos(m.getExecutionCompletedTimestamp(), "execution_completed", sample);
      long workerDone = epochNanos(m.getWorkerCompletedTimestamp(), "worker_completed", sample);
      long received = epochNanos(sample.received());
      nanos.get(Phase.TO_WORKER)[i] = workerStart - sent;
      nanos.get(Phase.WORKER_SETUP)[i] = fetchStart - workerStart;
      nanos.get(Phase.INPUT_FETCH)[i] = fetchDone - fetchStart;
      nanos.get(Phase.PRE_EXECUTION)[i] = execStart - fetchDone;
      nanos.get(Phase.EXECUTION)[i] = execDone - execStart;
      nanos.get(Phase.OUTPUTS)[i] = workerDone - execDone;
      nanos.get(Phase.TO_CLIENT)[i] = received - workerDone;
      nanos.get(Phase.TOTAL)[i] = received - sent;
    }
    return new Phases(nanos);
  }

  double medianMillis(Phase phase) {
    long[] sorted = nanos.get(phase).clone();
    Arrays.sort(sorted);
    int mid = sorted.length / 2;
    double median =
        sorted.length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + (double) sorted[mid]) / 2;
    return median / 1e6;
  }

  double meanMillis(Phase phase) {
    return Arrays.stream(nanos.get(phase)).average().orElseThrow() / 1e6;
  }

  private static long epochNanos(Instant instant) {
    return instant.getEpochSecond() * 1_000_000_000L + instant.getNano();
  }

  private static long epochNanos(Timestamp timestamp, String field, ExecuteClient.Sample sample) {
    if (timestamp.getSeconds() == 0 && timestamp.getNanos() == 0) {
      throw new IllegalArgumentException(
          "the result of " + sample.operation() + " has no " + field + "_timestamp");
    }
    return timestamp.getSeconds() * 1_000_000_000L + timestamp.getNanos();
  }
}
