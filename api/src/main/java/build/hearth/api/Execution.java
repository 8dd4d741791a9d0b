package build.hearth.api;

import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionStage;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * One client's operation: its view of an execution of an action, which is shared by every client
 * that asked for the same action while it was in flight. Each request gets its own operation, with
 * its own name, so that one client cancelling or abandoning its operation does not take the
 * execution away from the others. Its stage moves from QUEUED to EXECUTING to COMPLETED (an action
 * answered from the cache is COMPLETED at once; one whose worker was lost goes back to QUEUED).
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

  /**
   * {@return the operation name, unique in this server and to this request (two requests merged
   * onto one execution have two names); clients pass it to WaitExecution}
   */
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
   * Registers interest in the outcome. When every watch of every operation of an execution that has
   * not completed is closed, because every client that asked for it went away, the execution is
   * cancelled and its command killed. A transport takes one watch per client call that follows the
   * operation; an execution nobody ever watched runs to its end. A watch of a cancelled operation
   * keeps nothing alive.
   *
   * @return a new watch, to be closed when the client stops following the execution
   */
  Watch watch();

  /**
   * Cancels this operation for its client: its response becomes CANCELLED at once, and its claim
   * and watches stop counting. The execution itself is cancelled (a queued action leaves the queue,
   * a running one has its process tree killed) only when no other operation still wants it; a
   * client that merged onto the same action keeps it running to its end. A lone client's cancel
   * therefore cancels the execution at once.
   *
   * @return false if this operation had already completed or been cancelled
   */
  boolean cancel();

  /** Interest of one client in an execution; closing it is idempotent. Thread-safe. */
  interface Watch extends AutoCloseable {
    /**
     * Withdraws the interest; the first call counts, later ones do nothing. Never throws. An
     * execution that nobody wants any more may wait a short grace for its client to re-attach (its
     * stream may have broken) before it is cancelled.
     */
    @Override
    void close();

    /**
     * Withdraws the interest because the client chose to stop following, rather than because its
     * stream broke: an execution nobody else wants is cancelled without waiting for a re-attach.
     * Like {@link #close()} otherwise, and the same as it by default.
     */
    default void abandon() {
      close();
    }
  }
}
