package build.hearth.core.storage;

import build.hearth.api.Digest;
import java.time.Clock;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Counts a tiered store's local writes and fills that failed, and logs them: the first at once,
 * then at most one line a minute carrying the count, so a broken local disk under a busy build is
 * visible without writing a line per blob. Each failure is also logged at debug level.
 *
 * <p>Thread-safe.
 */
final class LocalFailures {
  private static final Logger log = LoggerFactory.getLogger(TieredBlobStore.class);
  static final long LOG_INTERVAL_MILLIS = 60_000;

  private final Clock clock;
  private final AtomicLong count = new AtomicLong();
  private final AtomicLong loggedAt = new AtomicLong(Long.MIN_VALUE);
  private final AtomicLong loggedCount = new AtomicLong();

  LocalFailures(Clock clock) {
    this.clock = clock;
  }

  void record(String store, Digest digest, RuntimeException e) {
    long total = count.incrementAndGet();
    long now = clock.millis();
    long last = loggedAt.get();
    boolean due = last == Long.MIN_VALUE || now - last >= LOG_INTERVAL_MILLIS;
    if (due && loggedAt.compareAndSet(last, now)) {
      long since = total - loggedCount.getAndSet(total);
      log.warn(
          "Blob store '{}': the local tier did not take blob {} ({}); it stays in the shared tier"
              + " only. {} local failure(s) since the last such line, {} since the store opened",
          store,
          digest,
          e.getMessage(),
          since,
          total);
    } else {
      log.debug("Blob store '{}': the local tier did not take blob {}", store, digest, e);
    }
  }

  long count() {
    return count.get();
  }
}
