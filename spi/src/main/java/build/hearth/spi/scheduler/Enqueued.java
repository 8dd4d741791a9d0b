package build.hearth.spi.scheduler;

import java.util.Objects;

/**
 * The answer to {@link SchedulerState#enqueue}.
 *
 * @param outcome what happened
 * @param executionId the execution the caller should follow: its own when {@link Outcome#QUEUED},
 *     the one in flight for the same action when {@link Outcome#JOINED}; its own when {@link
 *     Outcome#FULL}
 * @param queued how many executions the state's queues held afterwards (before, when FULL)
 */
public record Enqueued(Outcome outcome, String executionId, long queued) {
  /**
   * Checks the components; collections are copied.
   *
   * @param outcome what happened
   * @param executionId the execution the caller should follow: its own when {@link Outcome#QUEUED},
   *     the one in flight for the same action when {@link Outcome#JOINED}; its own when {@link
   *     Outcome#FULL}
   * @param queued how many executions the state's queues held afterwards (before, when FULL)
   */
  public Enqueued {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(executionId, "executionId");
  }

  /** What {@link SchedulerState#enqueue} did. */
  public enum Outcome {
    /** The execution is queued. */
    QUEUED,
    /**
     * An execution of the same action key is queued or running and was not completed; the caller
     * follows that one, and nothing was queued.
     */
    JOINED,
    /** The queues already held the most executions allowed; nothing was queued. */
    FULL
  }
}
