package build.hearth.spi.transport;

import java.time.Duration;

/** A running transport. Thread-safe. */
public interface Transport extends AutoCloseable {

  /** The port it listens on, with port 0 in the configuration resolved to the real one. */
  int port();

  /**
   * Stops accepting calls, lets calls in flight finish for up to {@code grace}, then cancels the
   * rest. Idempotent.
   */
  void shutdown(Duration grace);

  /** {@link #shutdown} with a short grace period. */
  @Override
  default void close() {
    shutdown(Duration.ofSeconds(5));
  }
}
