package build.hearth.testing;

import build.hearth.api.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Helpers shared by the contract suites: concurrency, hashing and generated content. */
final class ContractSupport {
  /** How long a concurrent test may take before it is declared stuck. */
  static final long TIMEOUT_SECONDS = 120;

  private ContractSupport() {}

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

  /** The digest of everything {@code in} yields; closes it. */
  static Digest digestOf(InputStream in) {
    MessageDigest sha = Digest.newMessageDigest();
    byte[] buffer = new byte[1 << 16];
    long size = 0;
    try (in) {
      for (int n; (n = in.read(buffer)) != -1; ) {
        sha.update(buffer, 0, n);
        size += n;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return new Digest(HexFormat.of().formatHex(sha.digest()), size);
  }

  /**
   * Fills {@code dst[offset, offset + length)} with the bytes at {@code position} of an endless
   * stream determined by {@code seed}. Any byte can be recomputed from its position alone, so a
   * blob larger than the heap can be written, and parts of it checked, without holding it.
   */
  static void fillPattern(long seed, long position, byte[] dst, int offset, int length) {
    long word = 0;
    for (int i = 0; i < length; i++) {
      long p = position + i;
      if (i == 0 || (p & 7) == 0) {
        word = mix(seed + (p >>> 3) * 0x9E3779B97F4A7C15L);
      }
      dst[offset + i] = (byte) (word >>> ((7 - (p & 7)) << 3));
    }
  }

  /**
   * The digest of the first {@code size} bytes of the {@link #fillPattern} stream of {@code seed}.
   */
  static Digest patternDigest(long seed, long size, int chunkBytes) {
    MessageDigest sha = Digest.newMessageDigest();
    byte[] chunk = new byte[chunkBytes];
    for (long position = 0; position < size; position += chunkBytes) {
      int length = (int) Math.min(chunkBytes, size - position);
      fillPattern(seed, position, chunk, 0, length);
      sha.update(chunk, 0, length);
    }
    return new Digest(HexFormat.of().formatHex(sha.digest()), size);
  }

  static byte[] concat(byte[] a, byte[] b) {
    byte[] both = Arrays.copyOf(a, a.length + b.length);
    System.arraycopy(b, 0, both, a.length, b.length);
    return both;
  }

  /** The finalizer of SplitMix64: consecutive inputs give unrelated outputs. */
  static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
    z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
    return z ^ (z >>> 31);
  }

  /**
   * Compares two byte arrays by digest, so that a failure prints two short digests rather than the
   * arrays.
   */
  static void assertSameBytes(byte[] actual, byte[] expected, String what) {
    org.assertj.core.api.Assertions.assertThat(Digest.of(actual))
        .as("%s (compared by digest: hash/length)", what)
        .isEqualTo(Digest.of(expected));
  }
}
