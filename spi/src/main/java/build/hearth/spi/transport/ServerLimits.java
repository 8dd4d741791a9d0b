package build.hearth.spi.transport;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

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
 * @param writeLookaheadBytes bytes of WriteRequests one ByteStream Write stream may have received
 *     and queued ahead of the one being stored; past it the stream asks for no further message
 *     until its queue drains (one message, of up to the inbound message limit, always comes on top)
 * @param maxWriteLookaheadBytes the same, all Write streams of the server together; past it every
 *     stream asks for one message at a time
 * @param readStallTimeout how long a ByteStream Read may be unable to send (its client reads
 *     nothing) before the server resets its stream and releases what it holds
 * @param maxConnectionAge how long a connection may live before the server sends it a {@code
 *     GOAWAY}, so that clients behind a TCP load balancer reconnect and spread again; empty for no
 *     limit (the default, because it also cuts workers' long streams)
 * @param maxConnectionAgeGrace how long the calls open on a connection that reached {@code
 *     maxConnectionAge} may go on before they are cut
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
    int maxQueuedCalls,
    long writeLookaheadBytes,
    long maxWriteLookaheadBytes,
    Duration readStallTimeout,
    Optional<Duration> maxConnectionAge,
    Duration maxConnectionAgeGrace) {

  /**
   * The defaults. 10,000 uploads and 1,000 per client are far above what Bazel opens (its uploads
   * are bounded by {@code --jobs} and its connection pool) yet bound the memory sessions hold; ten
   * minutes outlasts a client's retry back-off; a minute of silence on an open upload stream is a
   * stalled client, not a slow network. 1,000 calls per connection is ten times Bazel's default
   * concurrency per connection; idle connections are closed after 30 minutes and half-open ones
   * after 20 seconds; 10,000 queued calls is seconds of work for the pool.
   *
   * <p>1 MiB of write lookahead is 64 of Bazel's 16 KiB chunks, enough to keep the transport
   * deframing while the store hashes, and 64 MiB server-wide lets 64 uploads run at full speed
   * before the others go one message at a time. A Read whose client takes nothing for a minute is a
   * stalled client, as for uploads. Connections have no maximum age: a server alone gains nothing
   * from cutting them, and a worker's stream cut by it loses the worker's running actions; set it
   * behind a TCP load balancer (a few minutes' grace lets uploads and reads finish; an Execute
   * stream cut after it re-attaches with WaitExecution).
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
          10_000,
          1L << 20,
          64L << 20,
          Duration.ofMinutes(1),
          Optional.empty(),
          Duration.ofMinutes(5));

  /**
   * Checks every bound: counts and sizes at least 1, durations at least 1 ms.
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
   * @param writeLookaheadBytes see the class's description
   * @param maxWriteLookaheadBytes see the class's description
   * @param readStallTimeout see the class's description
   * @param maxConnectionAge see the class's description
   * @param maxConnectionAgeGrace see the class's description
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
    positive("writeLookaheadBytes", writeLookaheadBytes);
    positive("maxWriteLookaheadBytes", maxWriteLookaheadBytes);
    positive("readStallTimeout", readStallTimeout);
    Objects.requireNonNull(maxConnectionAge, "maxConnectionAge");
    maxConnectionAge.ifPresent(age -> positive("maxConnectionAge", age));
    positive("maxConnectionAgeGrace", maxConnectionAgeGrace);
  }

  /** {@return a builder starting from {@link #DEFAULTS}} */
  public static Builder newBuilder() {
    return new Builder(DEFAULTS);
  }

  /** {@return a builder starting from these limits} */
  public Builder toBuilder() {
    return new Builder(this);
  }

  private static void positive(String name, long value) {
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
    private long writeLookaheadBytes;
    private long maxWriteLookaheadBytes;
    private Duration readStallTimeout;
    private Optional<Duration> maxConnectionAge;
    private Duration maxConnectionAgeGrace;

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
      writeLookaheadBytes = from.writeLookaheadBytes;
      maxWriteLookaheadBytes = from.maxWriteLookaheadBytes;
      readStallTimeout = from.readStallTimeout;
      maxConnectionAge = from.maxConnectionAge;
      maxConnectionAgeGrace = from.maxConnectionAgeGrace;
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
     * @param value see {@link ServerLimits#writeLookaheadBytes()}
     * @return this builder
     */
    public Builder writeLookaheadBytes(long value) {
      writeLookaheadBytes = value;
      return this;
    }

    /**
     * @param value see {@link ServerLimits#maxWriteLookaheadBytes()}
     * @return this builder
     */
    public Builder maxWriteLookaheadBytes(long value) {
      maxWriteLookaheadBytes = value;
      return this;
    }

    /**
     * @param value see {@link ServerLimits#readStallTimeout()}
     * @return this builder
     */
    public Builder readStallTimeout(Duration value) {
      readStallTimeout = value;
      return this;
    }

    /**
     * @param value see {@link ServerLimits#maxConnectionAge()}; empty for no limit
     * @return this builder
     */
    public Builder maxConnectionAge(Optional<Duration> value) {
      maxConnectionAge = value;
      return this;
    }

    /**
     * @param value see {@link ServerLimits#maxConnectionAgeGrace()}
     * @return this builder
     */
    public Builder maxConnectionAgeGrace(Duration value) {
      maxConnectionAgeGrace = value;
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
          maxQueuedCalls,
          writeLookaheadBytes,
          maxWriteLookaheadBytes,
          readStallTimeout,
          maxConnectionAge,
          maxConnectionAgeGrace);
    }
  }
}
