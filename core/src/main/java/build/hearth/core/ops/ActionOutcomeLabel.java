package build.hearth.core.ops;

import build.bazel.remote.execution.v2.ExecuteResponse;
import build.hearth.api.StatusCode;
import java.util.Locale;

/** The {@code outcome} label of {@code hearth_actions_total}: how an execution ended. */
enum ActionOutcomeLabel {
  /** The command ran and exited with 0. */
  SUCCESS,
  /** The command ran and exited with another code. */
  NONZERO_EXIT,
  /** The action could not run: bad inputs, no worker, a worker or server error. */
  FAILED,
  /** The client or the server cancelled it. */
  CANCELLED,
  /** The command ran over its timeout. */
  TIMEOUT,
  /** Answered from the action cache without running. */
  CACHED;

  String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  static ActionOutcomeLabel of(ExecuteResponse response) {
    if (response.getCachedResult()) {
      return CACHED;
    }
    int code = response.getStatus().getCode();
    if (code == StatusCode.OK.value()) {
      return response.getResult().getExitCode() == 0 ? SUCCESS : NONZERO_EXIT;
    }
    if (code == StatusCode.DEADLINE_EXCEEDED.value()) {
      return TIMEOUT;
    }
    if (code == StatusCode.CANCELLED.value()) {
      return CANCELLED;
    }
    return FAILED;
  }
}
