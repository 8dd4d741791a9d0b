package build.hearth.testing.transport;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The transport suite's concurrency helper: the storage suites' own, repeated here so that this
 * module needs nothing of {@code hearth-testing} (whose helpers stay package-private).
 */
final class TransportSupport {
  /** How long a concurrent test may take before it is declared stuck. */
  static final long TIMEOUT_SECONDS = 120;

  private TransportSupport() {}

  /** A task of one worker thread of {@link #runConcurrently}. */
  @FunctionalInterface
  interface Worker {
    void run(int thread, CyclicBarrier barrier) throws Exception;
  }

  /**
   * Runs {@code worker} on {@code threads} threads at once and rethrows the first failure. The
   * barrier (of {@code threads} parties) lets workers line up at points where a race is wanted;
   * every worker has passed it once before its task starts.
   */
  static void runConcurrently(int threads, Worker worker) {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    CyclicBarrier barrier = new CyclicBarrier(threads);
    try {
      List<Future<?>> futures = new ArrayList<>();
      for (int i = 0; i < threads; i++) {
        int thread = i;
        futures.add(
            pool.submit(
                () -> {
                  barrier.await(TIMEOUT_SECONDS, TimeUnit.SECONDS);
                  worker.run(thread, barrier);
                  return null;
                }));
      }
      for (Future<?> future : futures) {
        future.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      }
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof Error error) {
        throw error;
      }
      if (cause instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new AssertionError("a worker thread failed", cause);
    } catch (TimeoutException e) {
      throw new AssertionError("worker threads did not finish in " + TIMEOUT_SECONDS + "s", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted while waiting for worker threads", e);
    } finally {
      pool.shutdownNow();
    }
  }
}
