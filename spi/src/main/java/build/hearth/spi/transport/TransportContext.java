package build.hearth.spi.transport;

import build.hearth.spi.security.AccessControl;
import build.hearth.spi.worker.WorkerHub;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * What a transport serves and where: the listen address, the services of each REAPI instance name,
 * the scheduler that remote workers may join ({@link #workerHub()}), and the plain HTTP routes
 * served on the same port ({@link #httpRoutes()}), and the TLS settings of the port ({@link
 * #tls()}). Everything a transport needs is typed here, so a transport plugin compiles against the
 * API and SPI alone. Immutable and thread-safe; new fields arrive with defaults, so transports keep
 * compiling.
 *
 * <pre>{@code
 * TransportContext context =
 *     TransportContext.newBuilder("main", "0.0.0.0", 8980)
 *         .instance(new InstanceServices("", cas, Optional.of(actionCache), true))
 *         .workerHub(hub)
 *         .httpRoutes(routes)
 *         .accessControl(accessControl)
 *         .maxBatchSizeBytes(4 << 20)
 *         .build();
 * }</pre>
 */
public final class TransportContext {
  private final String serverName;
  private final String host;
  private final int port;
  private final long maxBatchSizeBytes;
  private final Map<String, InstanceServices> instances;
  private final Optional<WorkerHub> workerHub;
  private final HttpRoutes httpRoutes;
  private final AccessControl accessControl;
  private final Optional<TlsSettings> tls;
  private final ServerLimits limits;
  private final Consumer<String> limitRefusals;

  private TransportContext(Builder builder) {
    this.serverName = builder.serverName;
    this.host = builder.host;
    this.port = builder.port;
    this.maxBatchSizeBytes = builder.maxBatchSizeBytes;
    this.instances = Map.copyOf(builder.instances);
    this.workerHub = Optional.ofNullable(builder.workerHub);
    this.httpRoutes = builder.httpRoutes;
    this.accessControl = builder.accessControl;
    this.tls = Optional.ofNullable(builder.tls);
    this.limits = builder.limits;
    this.limitRefusals = builder.limitRefusals;
  }

  /** {@return the server's name in the configuration, for logs} */
  public String serverName() {
    return serverName;
  }

  /** {@return the address to bind, such as {@code 127.0.0.1} or {@code 0.0.0.0}} */
  public String host() {
    return host;
  }

  /** {@return the port to bind; 0 picks a free one} */
  public int port() {
    return port;
  }

  /**
   * {@return the most bytes a batch request may carry, as advertised to clients; 4 MiB unless the
   * host set another value}
   */
  public long maxBatchSizeBytes() {
    return maxBatchSizeBytes;
  }

  /**
   * {@return the services of each instance name ({@code ""} is the default instance); never empty,
   * and unmodifiable}
   */
  public Map<String, InstanceServices> instances() {
    return instances;
  }

  /**
   * {@return the scheduler that workers in other processes join through this transport's worker
   * API, or empty if this server offers no worker API} A transport that cannot serve a worker API
   * leaves it out.
   */
  public Optional<WorkerHub> workerHub() {
    return workerHub;
  }

  /**
   * {@return the plain HTTP routes to serve on the same port, such as {@code /metrics}; {@link
   * HttpRoutes#NONE} unless the host set others} A transport without HTTP leaves them out.
   */
  public HttpRoutes httpRoutes() {
    return httpRoutes;
  }

  /**
   * {@return who may call what: the transport authenticates every call and checks its permission
   * with this before a service sees it; {@link AccessControl#ALLOW_ALL} unless the host set
   * another}
   */
  public AccessControl accessControl() {
    return accessControl;
  }

  /**
   * {@return how to secure the port with TLS, or empty to serve in plaintext} A transport that
   * cannot serve TLS must refuse to start when this is present rather than serve in plaintext.
   */
  public Optional<TlsSettings> tls() {
    return tls;
  }

  /**
   * {@return the bounds the transport holds on uploads, connections and queued calls; {@link
   * ServerLimits#DEFAULTS} unless the host set others}
   */
  public ServerLimits limits() {
    return limits;
  }

  /**
   * {@return where the transport reports each request it refused because a limit was reached, by
   * the limit's name (see {@code HearthException.limit()}); the host counts them in its metrics.
   * Does nothing unless the host set it. Called on the transport's threads; must not block.}
   */
  public Consumer<String> limitRefusals() {
    return limitRefusals;
  }

  /**
   * Starts a context for one listen address.
   *
   * @param serverName the server's name in the configuration, for logs
   * @param host the address to bind
   * @param port the port to bind, 0 to 65535; 0 picks a free one
   * @return a builder, used by one thread
   * @throws NullPointerException if a name is null
   * @throws IllegalArgumentException if the port is out of range
   */
  public static Builder newBuilder(String serverName, String host, int port) {
    return new Builder(serverName, host, port);
  }

  /** Builds a {@link TransportContext}. Not thread-safe; each setter returns the builder. */
  public static final class Builder {
    private final String serverName;
    private final String host;
    private final int port;
    private long maxBatchSizeBytes = 4L << 20;
    private final Map<String, InstanceServices> instances = new LinkedHashMap<>();
    private WorkerHub workerHub;
    private HttpRoutes httpRoutes = HttpRoutes.NONE;
    private AccessControl accessControl = AccessControl.ALLOW_ALL;
    private TlsSettings tls;
    private ServerLimits limits = ServerLimits.DEFAULTS;
    private Consumer<String> limitRefusals = limit -> {};

    private Builder(String serverName, String host, int port) {
      this.serverName = Objects.requireNonNull(serverName, "serverName");
      this.host = Objects.requireNonNull(host, "host");
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port " + port + " is out of range");
      }
      this.port = port;
    }

    /**
     * Sets the most bytes a batch request may carry.
     *
     * @param bytes the limit in bytes; 4 MiB if never set
     * @return this builder
     * @throws IllegalArgumentException if {@code bytes} is not positive
     */
    public Builder maxBatchSizeBytes(long bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("maxBatchSizeBytes must be positive");
      }
      this.maxBatchSizeBytes = bytes;
      return this;
    }

    /**
     * Adds an instance to serve.
     *
     * @param services the instance's name and services
     * @return this builder
     * @throws IllegalArgumentException if an instance of that name was added already
     */
    public Builder instance(InstanceServices services) {
      if (instances.putIfAbsent(services.name(), services) != null) {
        throw new IllegalArgumentException("instance '" + services.name() + "' given twice");
      }
      return this;
    }

    /**
     * Offers a worker API joined to {@code hub}'s scheduler.
     *
     * @param hub the scheduler workers join
     * @return this builder
     * @throws NullPointerException if {@code hub} is null
     */
    public Builder workerHub(WorkerHub hub) {
      this.workerHub = Objects.requireNonNull(hub, "hub");
      return this;
    }

    /**
     * Sets the plain HTTP routes served on the same port.
     *
     * @param routes the routes; {@link HttpRoutes#NONE} if never set
     * @return this builder
     * @throws NullPointerException if {@code routes} is null
     */
    public Builder httpRoutes(HttpRoutes routes) {
      this.httpRoutes = Objects.requireNonNull(routes, "routes");
      return this;
    }

    /**
     * Sets who may call what.
     *
     * @param accessControl the access control; {@link AccessControl#ALLOW_ALL} if never set
     * @return this builder
     * @throws NullPointerException if {@code accessControl} is null
     */
    public Builder accessControl(AccessControl accessControl) {
      this.accessControl = Objects.requireNonNull(accessControl, "accessControl");
      return this;
    }

    /**
     * Secures the port with TLS.
     *
     * @param settings the certificate, key and client-certificate settings; plaintext if never set
     * @return this builder
     * @throws NullPointerException if {@code settings} is null
     */
    public Builder tls(TlsSettings settings) {
      this.tls = Objects.requireNonNull(settings, "settings");
      return this;
    }

    /**
     * Replaces the default limits.
     *
     * @param limits the bounds on uploads, connections and queued calls
     * @return this builder
     * @throws NullPointerException if {@code limits} is null
     */
    public Builder limits(ServerLimits limits) {
      this.limits = Objects.requireNonNull(limits, "limits");
      return this;
    }

    /**
     * Sets where refusals by a limit are reported.
     *
     * @param counter called with the limit's name for each refused request; must not block
     * @return this builder
     * @throws NullPointerException if {@code counter} is null
     */
    public Builder limitRefusals(Consumer<String> counter) {
      this.limitRefusals = Objects.requireNonNull(counter, "counter");
      return this;
    }

    /**
     * {@return a context with the values set so far}
     *
     * @throws IllegalStateException if no instance was added
     */
    public TransportContext build() {
      if (instances.isEmpty()) {
        throw new IllegalStateException("a transport needs at least one instance");
      }
      return new TransportContext(this);
    }
  }
}
