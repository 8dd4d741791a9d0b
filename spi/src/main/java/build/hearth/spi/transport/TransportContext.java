package build.hearth.spi.transport;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a transport serves and where: the listen address and the services of each REAPI instance
 * name. Immutable and thread-safe; new fields arrive with defaults, so transports keep compiling.
 *
 * <pre>{@code
 * TransportContext context =
 *     TransportContext.newBuilder("main", "0.0.0.0", 8980)
 *         .instance(new InstanceServices("", cas, Optional.of(actionCache), true))
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
  private final Map<Class<?>, Object> services;

  private TransportContext(Builder builder) {
    this.serverName = builder.serverName;
    this.host = builder.host;
    this.port = builder.port;
    this.maxBatchSizeBytes = builder.maxBatchSizeBytes;
    this.instances = Map.copyOf(builder.instances);
    this.services = Map.copyOf(builder.services);
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
   * A server-wide service the host offers beyond the instances', such as the scheduler that remote
   * workers connect to; empty if the host offers none of that type. Transports serve what they find
   * and leave out what they do not.
   *
   * @param <T> the service's type
   * @param type the class the host offered the service under
   * @return the service, or empty if the host offers none of that type
   */
  public <T> Optional<T> service(Class<T> type) {
    return Optional.ofNullable(services.get(type)).map(type::cast);
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
    private final Map<Class<?>, Object> services = new LinkedHashMap<>();

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
     * Offers {@code service} to the transport under {@code type}; see {@link
     * TransportContext#service}. A second call for one type replaces the first.
     *
     * @param <T> the service's type
     * @param type the class a transport asks for
     * @param service the service, an instance of {@code type}
     * @return this builder
     * @throws NullPointerException if {@code type} is null
     */
    public <T> Builder service(Class<T> type, T service) {
      services.put(Objects.requireNonNull(type, "type"), type.cast(service));
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
