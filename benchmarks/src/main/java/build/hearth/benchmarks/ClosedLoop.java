package build.hearth.benchmarks;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A closed-loop load: {@code concurrency} threads, each starting its next operation as soon as its
 * previous one ended, until {@code count} operations have run. That is how a build tool with {@code
 * --jobs=N} drives a remote executor, and it makes the throughput the rate the system can sustain
 * at that concurrency rather than an offered rate it may not keep up with.
 *
 * <p>The threads are made and started before the clock starts, and released together; the wall time
 * ends when the last operation ended. Each operation's own duration is measured around it on the
 * thread that ran it. CPU time is sampled while the threads are alive, before their release and
 * after their last operation, so that their own time counts too. The first operation to throw stops
 * the others from starting new ones, and {@link #run} rethrows it. Not thread-safe: one caller at a
 * time.
 */
final class ClosedLoop {
  /** One numbered operation; called from several threads at once with distinct indexes. */
  @FunctionalInterface
  interface Operation<T> {
    T run(int index);
  }

  /**
   * What a run measured: {@code nanos[i]} and {@code samples.get(i)} belong to operation {@code
   * first + i}; {@code wallNanos} is from the release of the threads to the end of the last.
   */
  record Result<T>(long[] nanos, List<T> samples, long wallNanos) {
    Result {
      nanos = nanos.clone();
      samples = Collections.unmodifiableList(new ArrayList<>(samples));
    }

    @Override
    public long[] nanos() {
      return nanos.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Result<?> r
          && Arrays.equals(nanos, r.nanos)
          && samples.equals(r.samples)
          && wallNanos == r.wallNanos;
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(nanos) * 31 + samples.hashCode();
    }

    @Override
    public String toString() {
      return "Result[" + nanos.length + " operations, wall " + wallNanos + " ns]";
    }
  }

  private final String threadPrefix;

  /** Threads are named {@code threadPrefix-1}, {@code -2}, ..., so CPU time can be told apart. */
  ClosedLoop(String threadPrefix) {
    this.threadPrefix = Objects.requireNonNull(threadPrefix, "threadPrefix");
  }

  /**
   * Runs operations {@code first} to {@code first + count - 1} on {@code concurrency} threads.
   *
   * @param cpu where the CPU time of the run goes, or null
   * @throws IllegalStateException wrapping the first failure of an operation, or if this thread is
   *     interrupted (the interrupt flag is then set again)
   */
  <T> Result<T> run(int concurrency, int first, int count, Operation<T> operation, CpuTimes cpu) {
    if (concurrency < 1 || count < 1) {
      throw new IllegalArgumentException(
          "concurrency and count must be at least 1, got " + concurrency + " and " + count);
    }
    long[] nanos = new long[count];
    Object[] samples = new Object[count];
    AtomicInteger next = new AtomicInteger();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    int threadCount = Math.min(concurrency, count);
    CountDownLatch ready = new CountDownLatch(threadCount);
    CountDownLatch start = new CountDownLatch(1);
    CountDownLatch finished = new CountDownLatch(threadCount);
    CountDownLatch exit = new CountDownLatch(1);
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < threadCount; t++) {
      Thread thread =
          new Thread(
              () -> {
                try {
                  ready.countDown();
                  start.await();
                  int i;
                  while (failure.get() == null && (i = next.getAndIncrement()) < count) {
                    long begin = System.nanoTime();
                    Object sample = operation.run(first + i);
                    nanos[i] = System.nanoTime() - begin;
                    samples[i] = sample;
                  }
                } catch (InterruptedException e) {
                  failure.compareAndSet(null, e);
                } catch (RuntimeException | Error e) {
                  failure.compareAndSet(null, e);
                } finally {
                  finished.countDown();
                }
                try {
                  // Alive until the CPU time was read, or its time would not be seen.
                  exit.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
              },
              threadPrefix + "-" + (t + 1));
      thread.setDaemon(true);
      threads.add(thread);
      thread.start();
    }
    long wall;
    try {
      ready.await();
      CpuTimes.Snapshot before = cpu == null ? null : CpuTimes.snapshot();
      long begin = System.nanoTime();
      start.countDown();
      finished.await();
      wall = System.nanoTime() - begin;
      if (cpu != null) {
        cpu.add(before, CpuTimes.snapshot());
      }
      exit.countDown();
      for (Thread thread : threads) {
        thread.join();
      }
    } catch (InterruptedException e) {
      threads.forEach(Thread::interrupt);
      exit.countDown();
      Thread.currentThread().interrupt();
      throw new IllegalStateException("the load run was interrupted", e);
    }
    Throwable failed = failure.get();
    if (failed != null) {
      throw new IllegalStateException("an operation failed: " + failed.getMessage(), failed);
    }
    List<T> results = new ArrayList<>(count);
    for (Object sample : samples) {
      @SuppressWarnings("unchecked") // each element came from operation.run, which returns T
      T typed = (T) sample;
      results.add(typed);
    }
    return new Result<>(nanos, results, wall);
  }
}
