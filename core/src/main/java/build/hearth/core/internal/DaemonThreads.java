package build.hearth.core.internal;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Thread factories for the engine's own pools. Daemon threads, so that a pool someone forgot to
 * shut down never keeps the JVM alive; numbered names, so that a thread dump or a profile tells
 * whose thread it is.
 */
public final class DaemonThreads {
  private DaemonThreads() {}

  /** Makes daemon threads named {@code prefix} followed by 1, 2, 3 and so on. */
  public static ThreadFactory named(String prefix) {
    AtomicInteger count = new AtomicInteger();
    return task -> {
      Thread thread = new Thread(task, prefix + count.incrementAndGet());
      thread.setDaemon(true);
      return thread;
    };
  }
}
