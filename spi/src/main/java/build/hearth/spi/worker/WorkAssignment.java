package build.hearth.spi.worker;

import build.hearth.api.HearthException;
import java.util.Optional;

/**
 * One action assigned to one worker, and the way the worker answers it. The first answer counts;
 * later ones, and answers after the scheduler took the action back, return false and change
 * nothing.
 *
 * <p>Thread-safe.
 */
public interface WorkAssignment {

  /** {@return names the action in messages and logs, such as its operation name} */
  String name();

  /**
   * {@return the id that names this assignment on the wire, stable across the servers of a service
   * whose hub {@linkplain WorkerHub#reattachGrace() keeps a lost worker's actions}: a worker that
   * re-attaches through another server names it so} Empty by default: the transport then makes a
   * random id per stream.
   */
  default Optional<String> id() {
    return Optional.empty();
  }

  /** {@return what to run} */
  ExecutionTask task();

  /** {@return which attempt this is: 1 the first time, more after a worker was lost} */
  int attempt();

  /**
   * Answers with the worker's outcome (also when the command failed, timed out or was cancelled).
   *
   * @param outcome what the worker reports
   * @return whether this answer was taken
   */
  boolean complete(ActionOutcome outcome);

  /**
   * Answers that the action could not be run at all.
   *
   * @param error why, with a status code a client can act on
   * @return whether this answer was taken
   */
  boolean fail(HearthException error);
}
