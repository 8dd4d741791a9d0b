package build.hearth.core.execution;

import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;

/**
 * Runs one action on this machine: builds its exec root, runs the command, collects and uploads its
 * outputs. Used by the in-process worker and by the {@code hearth worker} process alike.
 *
 * <p>Thread-safe: a worker calls {@link #run} from as many threads as it has slots.
 */
public interface ActionRunner extends AutoCloseable {

  /**
   * Runs {@code task} to its end, its timeout, or its cancellation, whichever comes first, and
   * reports the outcome. Blocks the calling thread meanwhile.
   *
   * @param cancellation polled and listened to; once it fires, the command's whole process tree is
   *     killed and the outcome is CANCELLED
   * @throws build.hearth.api.HearthException if the action could not be run at all: for example
   *     INVALID_ARGUMENT for a bad input tree, FAILED_PRECONDITION for missing inputs
   */
  ActionOutcome run(ExecutionTask task, Cancellation cancellation);

  /** Releases the runner's directories and threads. */
  @Override
  void close();
}
