package build.hearth.spi.scheduler;

import java.util.Objects;

/**
 * What {@link SchedulerState#claim} took: the queue entry, as it was when claimed, and the claim.
 *
 * @param execution the entry, with its task
 * @param claim the worker's hold on it
 */
public record Claimed(QueuedExecution execution, Claim claim) {
  /**
   * Checks the components; collections are copied.
   *
   * @param execution the entry, with its task
   * @param claim the worker's hold on it
   */
  public Claimed {
    Objects.requireNonNull(execution, "execution");
    Objects.requireNonNull(claim, "claim");
  }
}
