package build.hearth.core.scheduler;

import build.hearth.spi.scheduler.SchedulerState;
import build.hearth.spi.scheduler.SchedulerStateProvider;
import build.hearth.spi.storage.StoreContext;
import java.util.OptionalLong;

/**
 * The {@code memory} scheduler state: one server's queue, claims, executions and workers on its
 * heap, lost on restart. The right state for a single server; several servers share one only
 * through a shared type such as {@code redis}.
 *
 * <p>Setting: {@code maxCompletedSize}, the most bytes of completed executions' responses it keeps
 * for their retention (default {@code "32MiB"}); beyond it the oldest are forgotten early.
 *
 * <pre>{@code
 * "schedulers": { "default": { "state": { "type": "memory" } } }
 * }</pre>
 */
public final class MemorySchedulerStateProvider extends SchedulerStateProvider {
  static final long DEFAULT_MAX_COMPLETED_BYTES = 32L << 20;

  /** Called by {@link java.util.ServiceLoader}. */
  public MemorySchedulerStateProvider() {}

  @Override
  public String type() {
    return "memory";
  }

  /**
   * @throws build.hearth.api.ConfigException if {@code maxCompletedSize} is not a positive size
   */
  @Override
  public SchedulerState create(StoreContext context) {
    OptionalLong configured = context.settings().bytes("maxCompletedSize");
    long max = configured.orElse(DEFAULT_MAX_COMPLETED_BYTES);
    if (max <= 0) {
      throw context
          .settings()
          .error("maxCompletedSize", "must be a positive size, such as \"32MiB\"");
    }
    return new MemorySchedulerState(context.clock(), max);
  }
}
