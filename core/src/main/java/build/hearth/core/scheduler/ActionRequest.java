package build.hearth.core.scheduler;

import build.bazel.remote.execution.v2.Platform;
import java.time.Duration;
import java.util.Objects;

/**
 * One piece of work for the scheduler: where it may run ({@code platform}), how urgent it is
 * ({@code priority}) and what a worker receives ({@code task}, opaque to the scheduler).
 *
 * <p>Priorities follow REAPI's {@code ExecutionPolicy.priority}: a lower number runs sooner, and
 * {@code 0} is the default. Actions of equal priority run in the order they were submitted.
 *
 * @param name names the action in error messages and logs, for example the operation name or the
 *     action digest; it need not be unique
 * @param platform the action's platform properties, matched against workers' properties
 * @param priority lower runs sooner
 * @param task what the chosen worker receives in {@link Assignment#request()}
 * @param timeout how long the worker may run the action; a worker that holds it longer than this
 *     plus the scheduler's {@linkplain SchedulerBuilder#assignmentGrace grace} without answering
 *     loses it. {@link Duration#ZERO} sets no deadline.
 * @param <T> the type of the task
 */
public record ActionRequest<T>(
    String name, Platform platform, int priority, T task, Duration timeout) {
  public ActionRequest {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(platform, "platform");
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must not be negative: " + timeout);
    }
  }

  /** A request with no timeout, so no deadline on its assignments. */
  public ActionRequest(String name, Platform platform, int priority, T task) {
    this(name, platform, priority, task, Duration.ZERO);
  }

  /** A request of the default priority, {@code 0}, with no timeout. */
  public static <T> ActionRequest<T> of(String name, Platform platform, T task) {
    return new ActionRequest<>(name, platform, 0, task);
  }

  /** This request with another priority. */
  public ActionRequest<T> withPriority(int priority) {
    return new ActionRequest<>(name, platform, priority, task, timeout);
  }

  /** This request with another timeout; {@link Duration#ZERO} for none. */
  public ActionRequest<T> withTimeout(Duration timeout) {
    return new ActionRequest<>(name, platform, priority, task, timeout);
  }
}
