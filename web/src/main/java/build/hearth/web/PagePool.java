package build.hearth.web;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The threads the pages render on, apart from the transport's I/O threads: a page reads the CAS (up
 * to a few MiB), and a slow store must delay only the pages, not {@code /metrics}, {@code /readyz}
 * or gRPC on the same event loop. Bounded twice: {@code threads} pages render at once and {@code
 * maxQueued} wait; a page beyond that is refused ({@link RejectedExecutionException}), which the
 * transport answers {@code 503} with {@code Retry-After}, rather than queued without bound.
 *
 * <pre>{@code
 * PagePool pool = PagePool.create(4, 100, "hearth-web-");
 * WebUi pages = WebUi.newBuilder(recent, links).executor(pool).build();
 * // ... serve ...
 * pool.close();
 * }</pre>
 *
 * <p>Thread-safe. Its threads are daemons, so a store read that never returns cannot keep the JVM
 * alive; {@link #close} interrupts them.
 */
public final class PagePool implements Executor, AutoCloseable {
  private final ThreadPoolExecutor pool;

  private PagePool(ThreadPoolExecutor pool) {
    this.pool = pool;
  }

  /**
   * A pool of {@code threads} threads with room for {@code maxQueued} waiting pages.
   *
   * @param threads the pages rendered at once, at least 1
   * @param maxQueued the pages that may wait for a thread, at least 0
   * @param threadNamePrefix the prefix of its threads' names, such as {@code hearth-web-}
   * @return a started pool
   * @throws IllegalArgumentException if a bound is out of range
   */
  public static PagePool create(int threads, int maxQueued, String threadNamePrefix) {
    if (threads < 1) {
      throw new IllegalArgumentException("threads must be at least 1, not " + threads);
    }
    if (maxQueued < 0) {
      throw new IllegalArgumentException("maxQueued must be at least 0, not " + maxQueued);
    }
    BlockingQueue<Runnable> queue =
        maxQueued == 0 ? new SynchronousQueue<>() : new ArrayBlockingQueue<>(maxQueued);
    AtomicInteger count = new AtomicInteger();
    ThreadPoolExecutor pool =
        new ThreadPoolExecutor(
            threads,
            threads,
            0,
            TimeUnit.MILLISECONDS,
            queue,
            task -> {
              Thread thread = new Thread(task, threadNamePrefix + count.incrementAndGet());
              thread.setDaemon(true);
              return thread;
            },
            new ThreadPoolExecutor.AbortPolicy());
    return new PagePool(pool);
  }

  /**
   * Runs a page's task on one of the threads, or queues it.
   *
   * @param task the page's work
   * @throws RejectedExecutionException if every thread is busy and the queue full, or the pool is
   *     closed
   */
  @Override
  public void execute(Runnable task) {
    pool.execute(task);
  }

  /** {@return the pages waiting for a thread now} */
  public int queued() {
    return pool.getQueue().size();
  }

  /** Refuses further pages and interrupts the threads still rendering. */
  @Override
  public void close() {
    pool.shutdownNow();
  }
}
