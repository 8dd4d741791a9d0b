package build.hearth.core.scheduler;

import java.time.Instant;

/**
 * What a shared scheduler does with a worker's result on the server that received it, before the
 * result is published to the service: for executions, stamping the queued time and writing the
 * action cache. It runs there, and not on the server the action was submitted through, because that
 * server may have died meanwhile; once an execution is complete in the shared state, whatever the
 * hook wrote is in place.
 *
 * @param <T> the type of the tasks
 * @param <R> the type of the results
 */
@FunctionalInterface
public interface ResultHook<T, R> {

  /** The hook that keeps results as they are. */
  static <T, R> ResultHook<T, R> none() {
    return (task, enqueuedAt, result) -> result;
  }

  /**
   * {@return the result to publish}
   *
   * @param task the task the worker ran
   * @param enqueuedAt when the action entered the queue, the last time
   * @param result what the worker reported
   */
  R answered(T task, Instant enqueuedAt, R result);
}
