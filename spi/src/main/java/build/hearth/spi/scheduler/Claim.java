package build.hearth.spi.scheduler;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * A worker's hold on an execution: it runs there until the worker answers, the claim is {@linkplain
 * SchedulerState#requeue taken back}, or the execution is {@linkplain SchedulerState#complete
 * completed} by someone else (cancelled, for example).
 *
 * @param executionId the execution held
 * @param workerId the worker that runs it
 * @param serverId the server the worker is attached to, which delivers its answer; changes when the
 *     worker {@linkplain SchedulerState#adopt re-attaches} through another server
 * @param attempt the execution's attempt this claim runs
 * @param claimedAt when the worker took it
 * @param deadline when the claim is overdue, empty for none
 */
public record Claim(
    String executionId,
    String workerId,
    String serverId,
    int attempt,
    Instant claimedAt,
    Optional<Instant> deadline) {
  /**
   * Checks the components; collections are copied.
   *
   * @param executionId the execution held
   * @param workerId the worker that runs it
   * @param serverId the server the worker is attached to, which delivers its answer; changes when
   *     the worker {@linkplain SchedulerState#adopt re-attaches} through another server
   * @param attempt the execution's attempt this claim runs
   * @param claimedAt when the worker took it
   * @param deadline when the claim is overdue, empty for none
   */
  public Claim {
    Objects.requireNonNull(executionId, "executionId");
    Objects.requireNonNull(workerId, "workerId");
    Objects.requireNonNull(serverId, "serverId");
    Objects.requireNonNull(claimedAt, "claimedAt");
    Objects.requireNonNull(deadline, "deadline");
  }
}
