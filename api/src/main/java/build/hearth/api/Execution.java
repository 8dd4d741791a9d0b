package build.hearth.api;

import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionStage;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * One execution of an action, shared by every client that asked for the same action while it was in
 * flight. Its stage moves from QUEUED to EXECUTING to COMPLETED (an action answered from the cache
 * is COMPLETED at once; one whose worker was lost goes back to QUEUED).
 *
 * <p>Thread-safe.
 */
public interface Execution {

  /** The operation name, unique in this server; clients pass it to WaitExecution. */
  String name();

  /** The digest of the action being executed. */
  Digest actionDigest();

  /** The current stage. */
  ExecutionStage.Value stage();

  /**
   * The response, once COMPLETED. It never completes exceptionally: a failure is the response's
   * {@code status} (for example DEADLINE_EXCEEDED with the partial result of a command over its
   * timeout, or FAILED_PRECONDITION when no worker can run the action).
   */
  CompletableFuture<ExecuteResponse> result();

  /**
   * Calls {@code listener} on {@code executor} with each new stage, starting with the current one;
   * COMPLETED is the last call. Listeners are called in stage order.
   */
  void addStageListener(Consumer<ExecutionStage.Value> listener, Executor executor);

  /**
   * Registers interest in the outcome. When every watch of an execution that has not completed is
   * closed, because every client that asked for it went away, the execution is cancelled and its
   * command killed. A transport takes one watch per client call that follows the execution; an
   * execution nobody ever watched runs to its end.
   */
  Watch watch();

  /**
   * Cancels the execution for everyone: a queued action leaves the queue, a running one has its
   * process tree killed, and the response's status becomes CANCELLED.
   *
   * @return false if it had already completed
   */
  boolean cancel();

  /** Interest of one client in an execution; closing it is idempotent. */
  interface Watch extends AutoCloseable {
    @Override
    void close();
  }
}
