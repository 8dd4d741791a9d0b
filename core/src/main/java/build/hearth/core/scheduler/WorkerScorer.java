package build.hearth.core.scheduler;

/**
 * Ranks the workers that could run an action, for preferences the platform properties cannot
 * express (such as a worker that already holds a warm persistent-worker process for the action).
 *
 * <p>When several workers with a free slot meet an action's required properties, the scheduler
 * picks the one that matches most of the action's {@link PropertyType#PRIORITY} values; among
 * those, the one with the highest score; among those, the one with the most free slots.
 *
 * <p>Called with the scheduler's lock held: implementations must be fast, must not block, and must
 * not call the scheduler. An exception counts as a score of 0.
 */
@FunctionalInterface
public interface WorkerScorer {

  /** The scorer that has no preference. */
  WorkerScorer NONE = (request, worker) -> 0;

  /** Higher is better; workers the scorer does not care about get 0. */
  int score(ActionRequest<?> request, WorkerSpec worker);
}
