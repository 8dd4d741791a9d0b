package build.hearth.grpc;

import java.time.Clock;
import java.time.Duration;
import java.util.Objects;

/**
 * Tunables of the gRPC transport that the transport SPI does not carry (yet); tests inject a clock
 * and small limits through them.
 *
 * @param uploadIdleTimeout how long an interrupted ByteStream upload is kept for resumption
 * @param maxUploadSessions how many uploads may be in progress at once
 * @param readChunkBytes the size of the chunks a ByteStream Read sends
 * @param threads the size of the pool that runs the service methods
 * @param clock the time source for upload idleness
 * @param workerKeepAliveInterval how often the worker API and its workers exchange keep-alives; a
 *     worker silent for three intervals is disconnected
 */
record GrpcSettings(
    Duration uploadIdleTimeout,
    int maxUploadSessions,
    int readChunkBytes,
    int threads,
    Clock clock,
    Duration workerKeepAliveInterval) {

  GrpcSettings {
    Objects.requireNonNull(uploadIdleTimeout, "uploadIdleTimeout");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(workerKeepAliveInterval, "workerKeepAliveInterval");
    if (workerKeepAliveInterval.toMillis() <= 0) {
      throw new IllegalArgumentException("workerKeepAliveInterval must be at least 1 ms");
    }
    if (uploadIdleTimeout.isNegative() || uploadIdleTimeout.isZero()) {
      throw new IllegalArgumentException("uploadIdleTimeout must be positive");
    }
    if (maxUploadSessions <= 0 || readChunkBytes <= 0 || threads <= 0) {
      throw new IllegalArgumentException(
          "maxUploadSessions, readChunkBytes and threads must be positive");
    }
  }

  /**
   * Ten minutes outlasts a client's retry back-off comfortably; 10,000 sessions is far more than
   * Bazel's parallel uploads; 256 KiB chunks keep per-call buffering small while costing little
   * per-message overhead. A keep-alive every 5 seconds finds a dead worker within 15 seconds at the
   * cost of a few bytes a second.
   */
  static GrpcSettings defaults() {
    return new GrpcSettings(
        Duration.ofMinutes(10),
        10_000,
        256 * 1024,
        Math.max(8, 4 * Runtime.getRuntime().availableProcessors()),
        Clock.systemUTC(),
        Duration.ofSeconds(5));
  }

  GrpcSettings withClock(Clock clock) {
    return new GrpcSettings(
        uploadIdleTimeout,
        maxUploadSessions,
        readChunkBytes,
        threads,
        clock,
        workerKeepAliveInterval);
  }

  GrpcSettings withUploadIdleTimeout(Duration timeout) {
    return new GrpcSettings(
        timeout, maxUploadSessions, readChunkBytes, threads, clock, workerKeepAliveInterval);
  }

  GrpcSettings withMaxUploadSessions(int max) {
    return new GrpcSettings(
        uploadIdleTimeout, max, readChunkBytes, threads, clock, workerKeepAliveInterval);
  }

  GrpcSettings withReadChunkBytes(int bytes) {
    return new GrpcSettings(
        uploadIdleTimeout, maxUploadSessions, bytes, threads, clock, workerKeepAliveInterval);
  }

  GrpcSettings withWorkerKeepAliveInterval(Duration interval) {
    return new GrpcSettings(
        uploadIdleTimeout, maxUploadSessions, readChunkBytes, threads, clock, interval);
  }
}
