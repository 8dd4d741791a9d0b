package build.hearth.spi.transport;

import java.time.Duration;

/**
 * A running transport, returned by {@link TransportProvider#start}. It serves until it is shut
 * down; the host shuts it down before it closes the stores behind it.
 *
 * <p>Thread-safe.
 */
public interface Transport extends AutoCloseable {

  /**
   * {@return the port it listens on, with port 0 in the configuration resolved to the real one, or
   * -1 for a transport that uses no port, such as the {@code inprocess} one}
   */
  int port();

  /**
   * Stops accepting calls, lets calls in flight finish for up to {@code grace}, then cancels the
   * rest. Idempotent. Blocks until the transport has stopped and released its threads.
   *
   * @param grace how long calls in flight may take to finish; zero cancels them at once
   */
  void shutdown(Duration grace);

  /** {@link #shutdown} with a short grace period. */
  @Override
  default void close() {
    shutdown(Duration.ofSeconds(5));
  }
}
