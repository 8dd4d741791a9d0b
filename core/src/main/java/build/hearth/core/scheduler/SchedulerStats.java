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
 */
public record SchedulerStats(
    int queued, int executing, int workers, int slots, int busySlots, long requeued) {}
