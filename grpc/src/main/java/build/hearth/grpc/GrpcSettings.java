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
 * @param threads the size of the pool that runs the service methods, and of the worker API's own
 *     pool
 * @param clock the time source for upload idleness
 * @param workerKeepAliveInterval how often the worker API and its workers exchange keep-alives; a
 *     worker silent for three intervals is disconnected
 * @param tlsPollInterval how often a TLS port reads its certificate, key and CA files again to see
 *     whether they changed
 */
record GrpcSettings(
    Duration uploadIdleTimeout,
    int maxUploadSessions,
    int readChunkBytes,
    int threads,
    Clock clock,
    Duration workerKeepAliveInterval,
    Duration tlsPollInterval) {

  GrpcSettings {
    Objects.requireNonNull(uploadIdleTimeout, "uploadIdleTimeout");
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(workerKeepAliveInterval, "workerKeepAliveInterval");
    Objects.requireNonNull(tlsPollInterval, "tlsPollInterval");
    if (tlsPollInterval.toMillis() <= 0) {
      throw new IllegalArgumentException("tlsPollInterval must be at least 1 ms");
    }
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
   * cost of a few bytes a second. Reading three small TLS files every 10 seconds costs nothing and
   * makes a rotated certificate live within seconds.
   */
  static GrpcSettings defaults() {
    return new GrpcSettings(
        Duration.ofMinutes(10),
        10_000,
        256 * 1024,
        Math.max(8, 4 * Runtime.getRuntime().availableProcessors()),
        Clock.systemUTC(),
        Duration.ofSeconds(5),
        Duration.ofSeconds(10));
  }

  GrpcSettings withClock(Clock clock) {
    return new GrpcSettings(
        uploadIdleTimeout,
        maxUploadSessions,
        readChunkBytes,
        threads,
        clock,
        workerKeepAliveInterval,
        tlsPollInterval);
  }

  GrpcSettings withUploadIdleTimeout(Duration timeout) {
    return new GrpcSettings(
        timeout,
        maxUploadSessions,
        readChunkBytes,
        threads,
        clock,
        workerKeepAliveInterval,
        tlsPollInterval);
  }

  GrpcSettings withMaxUploadSessions(int max) {
    return new GrpcSettings(
        uploadIdleTimeout,
        max,
        readChunkBytes,
        threads,
        clock,
        workerKeepAliveInterval,
        tlsPollInterval);
  }

  GrpcSettings withReadChunkBytes(int bytes) {
    return new GrpcSettings(
        uploadIdleTimeout,
        maxUploadSessions,
        bytes,
        threads,
        clock,
        workerKeepAliveInterval,
        tlsPollInterval);
  }

  GrpcSettings withWorkerKeepAliveInterval(Duration interval) {
    return new GrpcSettings(
        uploadIdleTimeout,
        maxUploadSessions,
        readChunkBytes,
        threads,
        clock,
        interval,
        tlsPollInterval);
  }

  GrpcSettings withTlsPollInterval(Duration interval) {
    return new GrpcSettings(
        uploadIdleTimeout,
        maxUploadSessions,
        readChunkBytes,
        threads,
        clock,
        workerKeepAliveInterval,
        interval);
  }

  GrpcSettings withThreads(int count) {
    return new GrpcSettings(
        uploadIdleTimeout,
        maxUploadSessions,
        readChunkBytes,
        count,
        clock,
        workerKeepAliveInterval,
        tlsPollInterval);
  }
}
