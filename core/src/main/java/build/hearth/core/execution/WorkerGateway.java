package build.hearth.core.execution;

import build.hearth.core.scheduler.WorkerListener;
import build.hearth.core.scheduler.WorkerSession;
import build.hearth.core.scheduler.WorkerSpec;

/**
 * Where workers that run in other processes join the scheduler. A transport that serves the worker
 * API finds it with {@code TransportContext.service(WorkerGateway.class)}, and calls {@link
 * #connect} once per worker connection, with a listener that forwards assignments and cancellations
 * over the wire.
 *
 * <p>Thread-safe.
 */
@FunctionalInterface
public interface WorkerGateway {

  /**
   * Connects a worker; see {@link build.hearth.core.scheduler.Scheduler#connect}.
   *
   * @throws build.hearth.api.HearthException INVALID_ARGUMENT for a bad spec (for example a
   *     non-numeric value of a minimum property), ALREADY_EXISTS if a worker of that name is
   *     connected, UNAVAILABLE if the scheduler is closed
   */
  WorkerSession connect(WorkerSpec spec, WorkerListener<ExecutionTask, ActionOutcome> listener);
}
