package build.hearth.spi.scheduler;

import java.util.List;

/**
 * The answer to {@link SchedulerState#adopt}.
 *
 * @param adopted the claims the worker still runs, now attached to the adopting server, each with
 *     its queue entry as it was claimed (the task and when it was queued), so that the adopting
 *     server can accept the worker's answer as if it had made the claim itself
 * @param notRunning the worker's claims it no longer runs (it finished them while its server was
 *     gone, and the answers were lost); the caller {@linkplain SchedulerState#requeue requeues}
 *     them
 */
public record Adopted(List<Claimed> adopted, List<Claim> notRunning) {
  /**
   * Checks the components; collections are copied.
   *
   * @param adopted the claims the worker still runs, now attached to the adopting server, each with
   *     its queue entry as it was claimed
   * @param notRunning the worker's claims it no longer runs (it finished them while its server was
   *     gone, and the answers were lost); the caller {@linkplain SchedulerState#requeue requeues}
   *     them
   */
  public Adopted {
    adopted = List.copyOf(adopted);
    notRunning = List.copyOf(notRunning);
  }
}
