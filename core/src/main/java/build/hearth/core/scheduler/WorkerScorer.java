package build.hearth.core.scheduler;

import build.hearth.spi.worker.WorkerSpec;

/**
 * Ranks the workers that could run an action, for preferences the platform properties cannot
 * express (such as a worker that already holds a warm persistent-worker process for the action; see
 * {@link WarmWorkers}).
 *
 * <p>When several workers with a free slot meet an action's required properties, the scheduler
 * picks the one that matches most of the action's {@link PropertyType#PRIORITY} values; among
 * those, the one with the highest score; among those, the one with the most free slots.
 *
 * <p>Besides {@link #score}, the scheduler tells the scorer when a worker connects, when it is
 * given an action and when it disconnects, so that a scorer that keeps state per worker can keep it
 * current. Those methods do nothing by default.
 *
 * <p>Every method is called with the scheduler's lock held: implementations must be fast, must not
 * block, and must not call the scheduler. An exception from {@link #score} counts as a score of 0;
 * one from the other methods is logged and otherwise ignored.
 */
@FunctionalInterface
public interface WorkerScorer {

  /** The scorer that has no preference. */
  WorkerScorer NONE = (request, worker) -> 0;

  /** Higher is better; workers the scorer does not care about get 0. */
  int score(ActionRequest<?> request, WorkerSpec worker);

  /** {@code worker} connected to the scheduler, before it is given any action. */
  default void connected(WorkerSpec worker) {}

  /**
   * The scheduler gave {@code request} to {@code worker}: after choosing it among several, or
   * because a slot of that worker freed up while the action was first in its queue.
   */
  default void assigned(ActionRequest<?> request, WorkerSpec worker) {}

  /** {@code worker} disconnected, or the scheduler closed; it is given no more actions. */
  default void disconnected(WorkerSpec worker) {}
}
