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
 * @param mergeKey what identical actions share (the action digest), or empty; a scheduler whose
 *     queue is shared by several servers lets a request join an execution of the same key in flight
 *     anywhere in the service, where a single server's execution service merges such requests
 *     before they reach the scheduler
 * @param <T> the type of the task
 */
public record ActionRequest<T>(
    String name, Platform platform, int priority, T task, Duration timeout, String mergeKey) {
  public ActionRequest {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(mergeKey, "mergeKey");
    Objects.requireNonNull(platform, "platform");
    Objects.requireNonNull(task, "task");
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative()) {
      throw new IllegalArgumentException("timeout must not be negative: " + timeout);
    }
  }

  /**
   * A request that merges with no other.
   *
   * @param name names the action in messages
   * @param platform its platform properties
   * @param priority lower runs sooner
   * @param task what the worker receives
   * @param timeout how long the worker may run it; zero for no deadline
   */
  public ActionRequest(String name, Platform platform, int priority, T task, Duration timeout) {
    this(name, platform, priority, task, timeout, "");
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
    return new ActionRequest<>(name, platform, priority, task, timeout, mergeKey);
  }

  /** This request with another timeout; {@link Duration#ZERO} for none. */
  public ActionRequest<T> withTimeout(Duration timeout) {
    return new ActionRequest<>(name, platform, priority, task, timeout, mergeKey);
  }

  /**
   * {@return this request with another merge key}
   *
   * @param mergeKey what identical actions share, or empty for none
   */
  public ActionRequest<T> withMergeKey(String mergeKey) {
    return new ActionRequest<>(name, platform, priority, task, timeout, mergeKey);
  }
}
