package build.hearth.grpc;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * Tunables of the gRPC transport that the transport SPI does not carry (yet); tests inject a clock
 * and small limits through them.
 *
 * @param readChunkBytes the size of the chunks a ByteStream Read sends
 * @param threads the size of the pool that runs the service methods, and of the worker API's own
 *     pool
 * @param clock the time source for upload idleness
 * @param workerKeepAliveInterval how often the worker API and its workers exchange keep-alives; a
 *     worker silent for three intervals is disconnected
 * @param tlsPollInterval how often a TLS port reads its certificate, key and CA files again to see
 *     whether they changed
 */
record GrpcSettings(
    int readChunkBytes,
    int threads,
    Clock clock,
    Duration workerKeepAliveInterval,
    Duration tlsPollInterval) {

  GrpcSettings {
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(workerKeepAliveInterval, "workerKeepAliveInterval");
    Objects.requireNonNull(tlsPollInterval, "tlsPollInterval");
    if (tlsPollInterval.toMillis() <= 0) {
      throw new IllegalArgumentException("tlsPollInterval must be at least 1 ms");
    }
    if (workerKeepAliveInterval.toMillis() <= 0) {
      throw new IllegalArgumentException("workerKeepAliveInterval must be at least 1 ms");
    }
    if (readChunkBytes <= 0 || threads <= 0) {
      throw new IllegalArgumentException("readChunkBytes and threads must be positive");
    }
  }

  /**
   * The upload bounds are the server's {@code limits} ({@code TransportContext.limits()}). 256 KiB
   * chunks keep per-call buffering small while costing little per-message overhead. A keep-alive
   * every 5 seconds finds a dead worker within 15 seconds at the cost of a few bytes a second.
   * Reading three small TLS files every 10 seconds costs nothing and makes a rotated certificate
   * live within seconds.
   */
  static GrpcSettings defaults() {
    return new GrpcSettings(
        256 * 1024,
        Math.max(8, 4 * Runtime.getRuntime().availableProcessors()),
        Clock.systemUTC(),
        Duration.ofSeconds(5),
        Duration.ofSeconds(10));
  }

  GrpcSettings withClock(Clock clock) {
    return new GrpcSettings(
        readChunkBytes, threads, clock, workerKeepAliveInterval, tlsPollInterval);
  }

  GrpcSettings withReadChunkBytes(int bytes) {
    return new GrpcSettings(bytes, threads, clock, workerKeepAliveInterval, tlsPollInterval);
  }

  GrpcSettings withWorkerKeepAliveInterval(Duration interval) {
    return new GrpcSettings(readChunkBytes, threads, clock, interval, tlsPollInterval);
  }

  GrpcSettings withTlsPollInterval(Duration interval) {
    return new GrpcSettings(readChunkBytes, threads, clock, workerKeepAliveInterval, interval);
  }

  GrpcSettings withThreads(int count) {
    return new GrpcSettings(readChunkBytes, count, clock, workerKeepAliveInterval, tlsPollInterval);
  }
}
