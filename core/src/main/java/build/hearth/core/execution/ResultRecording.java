package build.hearth.core.execution;

import build.bazel.remote.execution.v2.ActionResult;
import build.hearth.api.ActionCache;
import build.hearth.core.internal.ProtoTime;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import java.time.Instant;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What becomes of a worker's result before any client sees it: the time its action entered the
 * queue is stamped in (the worker fills in its own phases; only the scheduler's side knows that
 * one), and a successful, cacheable result is written to the action cache. The execution service
 * does it for a scheduler of its own; a shared scheduler does it through its result hook on the
 * server that heard the worker, so that the result is cached even when the server the action was
 * submitted through has died.
 */
final class ResultRecording {
  private static final Logger logger = LoggerFactory.getLogger(ResultRecording.class);

  private ResultRecording() {}

  /** {@return the outcome with its result's queued timestamp set to {@code queuedAt}} */
  static ActionOutcome withQueuedTime(ActionOutcome outcome, Instant queuedAt) {
    ActionResult.Builder result = outcome.result().toBuilder();
    result.getExecutionMetadataBuilder().setQueuedTimestamp(ProtoTime.of(queuedAt));
    return new ActionOutcome(result.build(), outcome.code(), outcome.message());
  }

  /**
   * Writes the result to the action cache if the command ran, exited 0, and the action may be
   * cached. A failed write is logged: it costs a rebuild later, never the response.
   */
  static void store(Optional<ActionCache> actionCache, ExecutionTask task, ActionOutcome outcome) {
    if (actionCache.isEmpty()
        || !outcome.ran()
        || outcome.result().getExitCode() != 0
        || task.action().getDoNotCache()) {
      return;
    }
    try {
      actionCache.get().put(task.actionDigest(), outcome.result());
    } catch (RuntimeException e) {
      logger.warn(
          "could not write the result of action {} to the action cache; the response stands",
          task.actionDigest(),
          e);
    }
  }
}
