package build.hearth.spi.scheduler;

import java.util.Objects;
import java.util.Optional;

/**
 * The answer to {@link SchedulerState#requeue}.
 *
 * @param outcome what happened
 * @param execution the execution's queue entry: as queued again when {@link Outcome#REQUEUED} (the
 *     attempt counted, the worker added to {@code lostWith}); when {@link Outcome#GAVE_UP}, as it
 *     would have been queued, so that the caller's error can name every worker it was lost with;
 *     empty when {@link Outcome#NOT_CLAIMED}
 */
public record Requeued(Outcome outcome, Optional<QueuedExecution> execution) {
  /**
   * Checks the components; collections are copied.
   *
   * @param outcome what happened
   * @param execution the execution's queue entry: as queued again when {@link Outcome#REQUEUED}
   *     (the attempt counted, the worker added to {@code lostWith}); when {@link Outcome#GAVE_UP},
   *     as it would have been queued, so that the caller's error can name every worker it was lost
   *     with; empty when {@link Outcome#NOT_CLAIMED}
   */
  public Requeued {
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(execution, "execution");
  }

  /** What {@link SchedulerState#requeue} did. */
  public enum Outcome {
    /** The claim ended and the execution is queued again, ahead of others of its priority. */
    REQUEUED,
    /**
     * The execution was lost more often than allowed. Nothing changed: the claim stays until the
     * caller {@linkplain SchedulerState#complete completes} the execution with its error, so that a
     * caller dying in between leaves the claim for the next one to find.
     */
    GAVE_UP,
    /**
     * The named worker does not hold the execution (any more): it completed, was cancelled, was
     * requeued by another server already, or was adopted. Nothing changed.
     */
    NOT_CLAIMED
  }
}
