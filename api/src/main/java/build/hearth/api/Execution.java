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
 * <pre>{@code
 * Execution execution = executions.execute(request);
 * try (Execution.Watch watch = execution.watch()) {
 *   execution.addStageListener(stage -> log.info("{} is {}", execution.name(), stage), executor);
 *   ExecuteResponse response = execution.result().get(10, TimeUnit.MINUTES);
 * }
 * }</pre>
 *
 * <p>Thread-safe. Arguments are never null.
 */
public interface Execution {

  /** {@return the operation name, unique in this server; clients pass it to WaitExecution} */
  String name();

  /** {@return the digest of the action being executed} */
  Digest actionDigest();

  /**
   * {@return the current stage; it may have moved on by the time the caller looks at it, which
   * {@link #addStageListener} does not miss}
   */
  ExecutionStage.Value stage();

  /**
   * The response, once COMPLETED. It never completes exceptionally: a failure is the response's
   * {@code status} (for example DEADLINE_EXCEEDED with the partial result of a command over its
   * timeout, or FAILED_PRECONDITION when no worker can run the action).
   *
   * @return a future of the response; each call returns a new future, so completing or cancelling
   *     it affects only its caller (use {@link #cancel()} to cancel the execution)
   */
  CompletableFuture<ExecuteResponse> result();

  /**
   * Calls {@code listener} on {@code executor} with each new stage, starting with the current one;
   * COMPLETED is the last call. Listeners are called in stage order, one call at a time for each
   * listener. A listener added after completion receives COMPLETED alone.
   *
   * @param listener receives each stage; it should return quickly and not throw
   * @param executor runs the calls, such as a transport's own executor
   */
  void addStageListener(Consumer<ExecutionStage.Value> listener, Executor executor);

  /**
   * Registers interest in the outcome. When every watch of an execution that has not completed is
   * closed, because every client that asked for it went away, the execution is cancelled and its
   * command killed. A transport takes one watch per client call that follows the execution; an
   * execution nobody ever watched runs to its end.
   *
   * @return a new watch, to be closed when the client stops following the execution
   */
  Watch watch();

  /**
   * Cancels the execution for everyone: a queued action leaves the queue, a running one has its
   * process tree killed, and the response's status becomes CANCELLED.
   *
   * @return false if it had already completed
   */
  boolean cancel();

  /** Interest of one client in an execution; closing it is idempotent. Thread-safe. */
  interface Watch extends AutoCloseable {
    /** Withdraws the interest; the first call counts, later ones do nothing. Never throws. */
    @Override
    void close();
  }
}
