package build.hearth.core.execution;

import java.util.ArrayList;
import java.util.List;

/**
 * A one-way signal that a running action is no longer wanted. The party that wants the action
 * stopped calls {@link #cancel()}; the runner registers a callback that kills the process tree.
 *
 * <p>Thread-safe. Callbacks registered after cancellation run at once, on the registering thread.
 */
public final class Cancellation {
  private final List<Runnable> callbacks = new ArrayList<>();
  private boolean cancelled;

  /** Whether {@link #cancel()} has been called. */
  public synchronized boolean isCancelled() {
    return cancelled;
  }

  /** Fires the signal: runs every registered callback once, on this thread. Idempotent. */
  public void cancel() {
    List<Runnable> toRun;
    synchronized (this) {
      if (cancelled) {
        return;
      }
      cancelled = true;
      toRun = List.copyOf(callbacks);
      callbacks.clear();
    }
    toRun.forEach(Runnable::run);
  }

  /** Runs {@code callback} when the signal fires, or now if it already has. */
  public void onCancel(Runnable callback) {
    synchronized (this) {
      if (!cancelled) {
        callbacks.add(callback);
        return;
      }
    }
    callback.run();
  }
}
