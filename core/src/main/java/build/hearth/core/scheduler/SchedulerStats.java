package build.hearth.core.scheduler;

/**
 * A snapshot of the scheduler's counters.
 *
 * @param queued actions waiting for a worker
 * @param executing actions assigned to a worker whose outcome is still awaited
 * @param workers connected workers
 * @param slots the slots of all connected workers
 * @param busySlots slots taken; includes cancelled assignments the worker has not answered yet
 * @param requeued how many times since the start an action was queued again after losing its worker
 *     (also after a worker held it past its deadline)
 * @param overdue how many times since the start a worker held an assignment past its deadline (the
 *     action's timeout plus the grace) and the scheduler took it back
 */
public record SchedulerStats(
    int queued, int executing, int workers, int slots, int busySlots, long requeued, long overdue) {

  /** Counters with no overdue assignment. */
  public SchedulerStats(
      int queued, int executing, int workers, int slots, int busySlots, long requeued) {
    this(queued, executing, workers, slots, busySlots, requeued, 0);
  }
}
