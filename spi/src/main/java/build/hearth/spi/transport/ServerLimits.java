package build.hearth.spi.transport;

import java.time.Duration;
import java.util.Objects;

/**
 * The bounds a transport holds on what clients may make it keep: upload sessions, calls per
 * connection, connections that do nothing, queued calls. Each has a default sized for a busy team
 * of Bazel users on one server and a configuration field of the same name under a server's {@code
 * limits} object; a request refused by one of them gets RESOURCE_EXHAUSTED naming the field and its
 * value.
 *
 * <pre>{@code
 * ServerLimits limits =
 *     ServerLimits.newBuilder().maxUploadSessionsPerClient(200).uploadStallTimeout(Duration.ofSeconds(30)).build();
 * }</pre>
 *
 * @param maxUploadSessions ByteStream uploads in progress at once on the server, all clients
 *     together
 * @param maxUploadSessionsPerClient uploads in progress at once for one client: its identity when
 *     it authenticated, else its address, so that one client cannot lock out the others
 * @param uploadIdleTimeout how long an interrupted upload is kept for the client to resume it
 * @param uploadStallTimeout how long an upload's open stream may send nothing before the server
 *     ends it (the session stays resumable for {@code uploadIdleTimeout})
 * @param maxConcurrentCallsPerConnection calls open at once on one connection (HTTP/2 streams)
 * @param connectionIdleTimeout how long a connection with no call open is kept before the server
 *     closes it gracefully
 * @param handshakeTimeout how long a new connection has to complete its TLS and HTTP/2 (or HTTP/1.1
 *     request) handshake
 * @param httpIdleTimeout how long an HTTP/1.1 connection may wait between requests, or for the rest
 *     of one
 * @param maxQueuedCalls calls accepted but waiting for a thread of the server's pool; beyond it new
 *     calls are refused at once rather than queued without bound
 */
public record ServerLimits(
    int maxUploadSessions,
    int maxUploadSessionsPerClient,
    Duration uploadIdleTimeout,
    Duration uploadStallTimeout,
    int maxConcurrentCallsPerConnection,
    Duration connectionIdleTimeout,
    Duration handshakeTimeout,
    Duration httpIdleTimeout,
    int maxQueuedCalls) {

  /**
   * The defaults. 10,000 uploads and 1,000 per client are far above what Bazel opens (its uploads
   * are bounded by {@code --jobs} and its connection pool) yet bound the memory sessions hold; ten
   * minutes outlasts a client's retry back-off; a minute of silence on an open upload stream is a
   * stalled client, not a slow network. 1,000 calls per connection is ten times Bazel's default
   * concurrency per connection; idle connections are closed after 30 minutes and half-open ones
   * after 20 seconds; 10,000 queued calls is seconds of work for the pool.
   */
  public static final ServerLimits DEFAULTS =
      new ServerLimits(
          10_000,
          1_000,
          Duration.ofMinutes(10),
          Duration.ofMinutes(1),
          1_000,
          Duration.ofMinutes(30),
          Duration.ofSeconds(20),
          Duration.ofSeconds(60),
          10_000);

  /**
   * Checks every bound: counts at least 1, durations at least 1 ms.
   *
   * @param maxUploadSessions see the class's description
   * @param maxUploadSessionsPerClient see the class's description
   * @param uploadIdleTimeout see the class's description
   * @param uploadStallTimeout see the class's description
   * @param maxConcurrentCallsPerConnection see the class's description
   * @param connectionIdleTimeout see the class's description
   * @param handshakeTimeout see the class's description
   * @param httpIdleTimeout see the class's description
   * @param maxQueuedCalls see the class's description
   * @throws IllegalArgumentException if a bound is out of range
   */
  public ServerLimits {
    positive("maxUploadSessions", maxUploadSessions);
    positive("maxUploadSessionsPerClient", maxUploadSessionsPerClient);
    positive("uploadIdleTimeout", uploadIdleTimeout);
    positive("uploadStallTimeout", uploadStallTimeout);
    positive("maxConcurrentCallsPerConnection", maxConcurrentCallsPerConnection);
    positive("connectionIdleTimeout", connectionIdleTimeout);
    positive("handshakeTimeout", handshakeTimeout);
    positive("httpIdleTimeout", httpIdleTimeout);
    positive("maxQueuedCalls", maxQueuedCalls);
  }

  /** {@return a builder starting from {@link #DEFAULTS}} */
  public static Builder newBuilder() {
    return new Builder(DEFAULTS);
  }

  /** {@return a builder starting from these limits} */
  public Builder toBuilder() {
    return new Builder(this);
  }

  private static void positive(String name, int value) {
    if (value < 1) {
      throw new IllegalArgumentException(name + " must be at least 1, not " + value);
    }
  }

  private static void positive(String name, Duration value) {
    Objects.requireNonNull(value, name);
    if (value.toMillis() < 1) {
      throw new IllegalArgumentException(name + " must be at least 1 ms, not " + value);
    }
  }

  /** Builds {@link ServerLimits}; each setter replaces one bound. Not thread-safe. */
  public static final class Builder {
    private int maxUploadSessions;
    private int maxUploadSessionsPerClient;
    private Duration uploadIdleTimeout;
    private Duration uploadStallTimeout;
    private int maxConcurrentCallsPerConnection;
    private Duration connectionIdleTimeout;
    private Duration handshakeTimeout;
    private Duration httpIdleTimeout;
    private int maxQueuedCalls;

    private Builder(ServerLimits from) {
      maxUploadSessions = from.maxUploadSessions;
      maxUploadSessionsPerClient = from.maxUploadSessionsPerClient;
      uploadIdleTimeout = from.uploadIdleTimeout;
      uploadStallTimeout = from.uploadStallTimeout;
      maxConcurrentCallsPerConnection = from.maxConcurrentCallsPerConnection;
      connectionIdleTimeout = from.connectionIdleTimeout;
      handshakeTimeout = from.handshakeTimeout;
      httpIdleTimeout = from.httpIdleTimeout;
      maxQueuedCalls = from.maxQueuedCalls;
    }

    /**
     * @param value see {@link ServerLimits#maxUploadSessions()}
     * @return this builder
     */
    public Builder maxUploadSessions(int value) {
      maxUploadSessions = value;
      return this;
    }

    /**
     * @param value see {@link ServerLimits#maxUploadSessionsPerClient()}
     * @return this builder
     */
    public Builder maxUploadSessionsPerClient(int value) {
      maxUploadSessionsPerClient = value;
      return this;
    }

    /**
     * @param value see {@link ServerLimits#uploadIdleTimeout()}
     * @return this builder
     */
    public Builder uploadIdleTimeout(Duration value) {
      uploadIdleTimeout = value;
      return this;
    }

    /**
     * @param value see {@link ServerLimits#uploadStallTimeout()}
     * @return this builder
     */
    public Builder uploadStallTimeout(Duration value) {
      uploadStallTimeout = value;
      return this;
    }

    /**
     * @param value see {@link ServerLimits#maxConcurrentCallsPerConnection()}
     * @return this builder
     */
    public Builder maxConcurrentCallsPerConnection(int value) {
      maxConcurrentCallsPerConnection = value;
      return this;
    }

    /**
     * @param value see {@link ServerLimits#connectionIdleTimeout()}
     * @return this builder
     */
    public Builder connectionIdleTimeout(Duration value) {
      connectionIdleTimeout = value;
      return this;
    }

    /**
     * @param value see {@link ServerLimits#handshakeTimeout()}
     * @return this builder
     */
    public Builder handshakeTimeout(Duration value) {
      handshakeTimeout = value;
      return this;
    }

    /**
     * @param value see {@link ServerLimits#httpIdleTimeout()}
     * @return this builder
     */
    public Builder httpIdleTimeout(Duration value) {
      httpIdleTimeout = value;
      return this;
    }

    /**
     * @param value see {@link ServerLimits#maxQueuedCalls()}
     * @return this builder
     */
    public Builder maxQueuedCalls(int value) {
      maxQueuedCalls = value;
      return this;
    }

    /**
     * {@return the limits}
     *
     * @throws IllegalArgumentException if a count is below 1 or a duration below 1 ms
     */
    public ServerLimits build() {
      return new ServerLimits(
          maxUploadSessions,
          maxUploadSessionsPerClient,
          uploadIdleTimeout,
          uploadStallTimeout,
          maxConcurrentCallsPerConnection,
          connectionIdleTimeout,
          handshakeTimeout,
          httpIdleTimeout,
          maxQueuedCalls);
    }
  }
}
