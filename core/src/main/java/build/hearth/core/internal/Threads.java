package build.hearth.core.internal;

import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The one thread factory of Hearth's pools: numbered names, so that a thread dump or a profile
 * tells whose thread it is, and daemon or not as the pool's owner needs.
 *
 * <p>The engine's own pools use {@link #daemon} threads, so that a pool someone forgot to shut down
 * never keeps the JVM alive. {@link #nonDaemon} threads are for what must keep a process alive
 * while it serves: a transport's or a remote worker's threads, whose owners shut them down.
 */
public final class Threads {
  private Threads() {}

  /** Makes daemon threads named {@code prefix} followed by 1, 2, 3 and so on. */
  public static ThreadFactory daemon(String prefix) {
    return named(prefix, true);
  }

  /** Makes non-daemon threads named {@code prefix} followed by 1, 2, 3 and so on. */
  public static ThreadFactory nonDaemon(String prefix) {
    return named(prefix, false);
  }

  private static ThreadFactory named(String prefix, boolean daemon) {
    AtomicInteger count = new AtomicInteger();
    return task -> {
      Thread thread = new Thread(task, prefix + count.incrementAndGet());
      thread.setDaemon(daemon);
      return thread;
    };
  }
}
