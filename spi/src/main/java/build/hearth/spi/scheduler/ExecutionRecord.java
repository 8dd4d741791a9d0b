package build.hearth.spi.scheduler;

import com.google.protobuf.ByteString;
import java.util.Objects;
import java.util.Optional;

/**
 * What the state knows of one execution, for a server that did not submit it (a client's
 * WaitExecution arriving at another server) or lost track of it.
 *
 * @param executionId the execution
 * @param actionKey its action key, empty if it is not merged
 * @param stage where it is
 * @param attempt its current attempt
 * @param workerId the worker holding it while {@link Stage#EXECUTING}, else empty
 * @param response the response once {@link Stage#COMPLETED}, opaque to the state
 */
public record ExecutionRecord(
    String executionId,
    String actionKey,
    Stage stage,
    int attempt,
    String workerId,
    Optional<ByteString> response) {
  /**
   * Checks the components; collections are copied.
   *
   * @param executionId the execution
   * @param actionKey its action key, empty if it is not merged
   * @param stage where it is
   * @param attempt its current attempt
   * @param workerId the worker holding it while {@link Stage#EXECUTING}, else empty
   * @param response the response once {@link Stage#COMPLETED}, opaque to the state
   */
  public ExecutionRecord {
    Objects.requireNonNull(executionId, "executionId");
    Objects.requireNonNull(actionKey, "actionKey");
    Objects.requireNonNull(stage, "stage");
    Objects.requireNonNull(workerId, "workerId");
    Objects.requireNonNull(response, "response");
    if ((stage == Stage.COMPLETED) != response.isPresent()) {
      throw new IllegalArgumentException(
          "a response comes with the COMPLETED stage, and only then");
    }
  }

  /** The stages of an execution, as REAPI's {@code ExecutionStage} reports them. */
  public enum Stage {
    /** In a queue, waiting for a worker. */
    QUEUED,
    /** Claimed by a worker. */
    EXECUTING,
    /**
     * Completed with a response; kept for the retention given to {@link SchedulerState#complete}.
     */
    COMPLETED
  }
}
