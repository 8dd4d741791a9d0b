package build.hearth.web;

import build.bazel.remote.execution.v2.ExecuteResponse;
import build.hearth.api.Digest;
import build.hearth.api.StatusCode;
import java.time.Instant;
import java.util.Objects;

/**
 * One execution as {@link RecentActions} kept it.
 *
 * @param instanceName the instance it ran in, {@code ""} for the default one
 * @param actionDigest the action
 * @param completedAt when the execution service reported it complete
 * @param response what the clients received; for a successful execution, without its output lists
 *     (the action cache holds them), for a failure whole, so its page exists although the action
 *     cache holds no failures
 * @param retainedBytes what this entry counts against the recorder's byte bound
 */
public record RecordedAction(
    String instanceName,
    Digest actionDigest,
    Instant completedAt,
    ExecuteResponse response,
    long retainedBytes) {

  /** Checks that nothing is null. */
  public RecordedAction {
    Objects.requireNonNull(instanceName, "instanceName");
    Objects.requireNonNull(actionDigest, "actionDigest");
    Objects.requireNonNull(completedAt, "completedAt");
    Objects.requireNonNull(response, "response");
  }

  /** {@return whether the command ran and exited 0, or the answer came from the action cache} */
  public boolean succeeded() {
    return response.getStatus().getCode() == 0 && response.getResult().getExitCode() == 0;
  }

  /** {@return whether the action cache answered} */
  public boolean cached() {
    return response.getCachedResult();
  }

  /** {@return the outcome in a word or two: {@code ok}, {@code cached}, {@code exit 1}, ...} */
  public String outcome() {
    int code = response.getStatus().getCode();
    if (code != 0) {
      return StatusCode.forValue(code).name();
    }
    if (response.getCachedResult()) {
      return "cached";
    }
    int exit = response.getResult().getExitCode();
    return exit == 0 ? "ok" : "exit " + exit;
  }
}
