package build.hearth.spi.worker;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Platform;
import build.hearth.api.Digest;
import java.time.Duration;
import java.util.Objects;

/**
 * What a worker receives to run one action: the action and its command (already read from the CAS
 * and checked by the execution service), the timeout to enforce, and the REAPI instance whose CAS
 * holds the inputs and receives the outputs. Immutable.
 *
 * @param instanceName the instance name the action was submitted to
 * @param actionDigest the digest of {@code action}
 * @param action the action
 * @param command the command {@code action.command_digest} names
 * @param timeout how long the command may run; always positive (the service applies its default and
 *     maximum)
 */
public record ExecutionTask(
    String instanceName, Digest actionDigest, Action action, Command command, Duration timeout) {
  /**
   * Checks the values.
   *
   * @param instanceName the instance name the action was submitted to
   * @param actionDigest the digest of {@code action}
   * @param action the action
   * @param command the command {@code action.command_digest} names
   * @param timeout how long the command may run
   * @throws NullPointerException if a value is null
   * @throws IllegalArgumentException if {@code timeout} is not positive
   */
  public ExecutionTask {
    Objects.requireNonNull(instanceName, "instanceName");
    Objects.requireNonNull(actionDigest, "actionDigest");
    Objects.requireNonNull(action, "action");
    Objects.requireNonNull(command, "command");
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, not " + timeout);
    }
  }

  /**
   * {@return the action's platform: the {@code Action}'s when it names any property (REAPI 2.2
   * moved the platform there), otherwise the {@code Command}'s} It chooses the worker, and the
   * worker reads its own properties (persistent workers, the sandbox) from the same one.
   */
  public Platform platform() {
    return action.getPlatform().getPropertiesCount() > 0
        ? action.getPlatform()
        : command.getPlatform();
  }
}
