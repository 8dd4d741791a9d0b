package build.hearth.spi.worker;

import build.bazel.remote.execution.v2.ActionResult;
import build.hearth.api.StatusCode;
import java.util.Objects;

/**
 * What a worker reports after running an action. The command ran when {@code code} is OK (its exit
 * code, which may be non-zero, is in the result). Otherwise the action was stopped, and the result
 * holds what it produced so far: for example DEADLINE_EXCEEDED with the output of a command that
 * ran over its timeout, or CANCELLED. Immutable.
 *
 * @param result the action's result, possibly partial when {@code code} is not OK
 * @param code OK if the command ran to its end
 * @param message for a person: why the action was stopped when {@code code} is not OK; with OK,
 *     something the command's user should know about its run (that its memory limit killed it,
 *     say), or empty
 */
public record ActionOutcome(ActionResult result, StatusCode code, String message) {
  /**
   * Checks that nothing is null.
   *
   * @param result the action's result
   * @param code OK if the command ran to its end
   * @param message for a person; may accompany OK
   * @throws NullPointerException if a value is null
   */
  public ActionOutcome {
    Objects.requireNonNull(result, "result");
    Objects.requireNonNull(code, "code");
    Objects.requireNonNull(message, "message");
  }

  /**
   * {@return a command that ran to its end with {@code result}}
   *
   * @param result the command's result, whatever its exit code
   */
  public static ActionOutcome completed(ActionResult result) {
    return new ActionOutcome(result, StatusCode.OK, "");
  }

  /**
   * {@return a command that ran to its end with {@code result}, and something its user should know
   * about the run, such as "the command was killed by its memory limit of 64.0 MiB"}; the server
   * passes it on as {@code ExecuteResponse.message}
   *
   * @param result the command's result, whatever its exit code
   * @param message for a person; empty for nothing to say
   * @throws NullPointerException if a value is null
   */
  public static ActionOutcome completed(ActionResult result, String message) {
    return new ActionOutcome(result, StatusCode.OK, message);
  }

  /** {@return whether the command ran to its end (whatever its exit code)} */
  public boolean ran() {
    return code == StatusCode.OK;
  }
}
