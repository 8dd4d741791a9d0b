package build.hearth.core.scheduler;

import build.hearth.spi.worker.WorkerSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The scheduler's view of its {@link WorkerScorer}: a scorer that throws must not break the
 * scheduler's bookkeeping halfway through an operation, so every call is caught and logged here.
 */
final class GuardedScorer implements WorkerScorer {
  private static final Logger logger = LoggerFactory.getLogger(GuardedScorer.class);

  private final WorkerScorer delegate;

  GuardedScorer(WorkerScorer delegate) {
    this.delegate = delegate;
  }

  @Override
  public int score(ActionRequest<?> request, WorkerSpec worker) {
    if (delegate == WorkerScorer.NONE) {
      return 0;
    }
    try {
      return delegate.score(request, worker);
    } catch (RuntimeException e) {
      logger.warn("worker scorer failed for worker '{}'", worker.name(), e);
      return 0;
    }
  }

  @Override
  public void connected(WorkerSpec worker) {
    try {
      delegate.connected(worker);
    } catch (RuntimeException e) {
      logger.warn("worker scorer failed on the connection of worker '{}'", worker.name(), e);
    }
  }

  @Override
  public void assigned(ActionRequest<?> request, WorkerSpec worker) {
    try {
      delegate.assigned(request, worker);
    } catch (RuntimeException e) {
      logger.warn(
          "worker scorer failed on the assignment of '{}' to worker '{}'",
          request.name(),
          worker.name(),
          e);
    }
  }

  @Override
  public void disconnected(WorkerSpec worker) {
    try {
      delegate.disconnected(worker);
    } catch (RuntimeException e) {
      logger.warn("worker scorer failed on the disconnection of worker '{}'", worker.name(), e);
    }
  }
}
