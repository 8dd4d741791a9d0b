package build.hearth.core.execution;

import build.bazel.remote.execution.v2.ExecuteResponse;
import build.hearth.api.Digest;

/**
 * Hears how the executions of an execution service end, for metrics and logs; given with {@link
 * ExecutionServices.Builder#listener}. Every method does nothing by default, so a listener
 * overrides only what it needs and new events never break it.
 *
 * <p>Calls are made on the thread that completed the execution (a completion thread, or the caller
 * of {@code execute} for an answer from the action cache), possibly on several threads at once:
 * implementations must be thread-safe and quick. An exception thrown by a method is logged and
 * otherwise ignored.
 */
public abstract class ExecutionListener {

  /** A listener that hears nothing. */
  public static final ExecutionListener NONE = new ExecutionListener() {};

  protected ExecutionListener() {}

  /**
   * An execution completed. Called once per execution, however many requests were merged onto it;
   * an {@code Execute} answered from the action cache is an execution of its own, with {@link
   * ExecuteResponse#getCachedResult()} set.
   *
   * @param actionDigest the action that was executed
   * @param response what every waiter of the execution receives: the status says whether the
   *     command ran (OK, with its exit code in the result), ran over its timeout
   *     (DEADLINE_EXCEEDED), was cancelled (CANCELLED) or could not run (another code)
   */
  public void executionCompleted(Digest actionDigest, ExecuteResponse response) {}
}
