package build.hearth.agent;

import java.time.Duration;
import java.util.Random;

/**
 * Delays between reconnection attempts: {@code initial}, doubling up to {@code max}, each spread by
 * up to 20% either way so that workers cut off together do not all knock again at the same instant.
 * {@link #reset()} after a success starts over. Thread-safe.
 */
final class Backoff {
  private static final double JITTER = 0.2;

  private final long initialNanos;
  private final long maxNanos;
  private final Random random;
  private long nextNanos;

  Backoff(Duration initial, Duration max, Random random) {
    if (initial.isNegative() || initial.isZero()) {
      throw new IllegalArgumentException("the initial back-off must be positive: " + initial);
    }
    if (max.compareTo(initial) < 0) {
      throw new IllegalArgumentException(
          "the maximum back-off " + max + " is shorter than the initial one " + initial);
    }
    this.initialNanos = initial.toNanos();
    this.maxNanos = max.toNanos();
    this.random = random;
    this.nextNanos = initialNanos;
  }

  /** The delay before the next attempt. */
  synchronized Duration next() {
    double spread = 1 + JITTER * (2 * random.nextDouble() - 1);
    long delay = Math.min(maxNanos, Math.max(1, (long) (nextNanos * spread)));
    nextNanos = nextNanos > maxNanos / 2 ? maxNanos : nextNanos * 2;
    return Duration.ofNanos(delay);
  }

  /** Starts over from the initial delay. */
  synchronized void reset() {
    nextNanos = initialNanos;
  }
}
