package build.hearth.core.scheduler;

import build.hearth.api.HearthException;

/**
 * An action given to a worker, which owes the scheduler exactly one answer: {@link #complete} or
 * {@link #fail}. The answer also frees the worker's slot, so a worker answers even after it was
 * told to {@linkplain WorkerListener#cancel cancel}; that answer is then discarded.
 *
 * <p>Thread-safe: a worker may answer from any thread.
 *
 * @param <T> the type of the task
 * @param <R> the type of the result
 */
public interface Assignment<T, R> {

  /** The request as it was submitted. */
  ActionRequest<T> request();

  /** 1 for the first run; one more for each time the action was lost with a worker. */
  int attempt();

  /**
   * Whether the scheduler no longer wants an answer for this assignment, because the action was
   * cancelled, the worker disconnected or the scheduler closed. A worker may poll it to stop early.
   */
  boolean isCancelled();

  /**
   * Reports the action's result.
   *
   * @return true if the result became the action's outcome; false if the assignment had been
   *     cancelled or answered before, in which case the result is dropped
   */
  boolean complete(R result);

  /**
   * Reports that the action failed; {@code error} becomes its outcome. Failures are not retried on
   * another worker; only a lost worker causes a retry.
   *
   * @return as for {@link #complete}
   */
  boolean fail(HearthException error);
}
