package build.hearth.spi.transport;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * What a transport serves and where: the listen address and the services of each REAPI instance
 * name. Immutable; new fields arrive with defaults.
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

  /** The server's name in the configuration, for logs. */
  public String serverName() {
    return serverName;
  }

  /** The address to bind, such as {@code 127.0.0.1} or {@code 0.0.0.0}. */
  public String host() {
    return host;
  }

  /** The port to bind; 0 picks a free one. */
  public int port() {
    return port;
  }

  /** The most bytes a batch request may carry, as advertised to clients. */
  public long maxBatchSizeBytes() {
    return maxBatchSizeBytes;
  }

  /** The services of each instance name ({@code ""} is the default instance). */
  public Map<String, InstanceServices> instances() {
    return instances;
  }

  /**
   * A server-wide service the host offers beyond the instances', such as the scheduler that remote
   * workers connect to; empty if the host offers none of that type. Transports serve what they find
   * and leave out what they do not.
   */
  public <T> Optional<T> service(Class<T> type) {
    return Optional.ofNullable(services.get(type)).map(type::cast);
  }

  public static Builder newBuilder(String serverName, String host, int port) {
    return new Builder(serverName, host, port);
  }

  /** Builds a {@link TransportContext}. */
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

    public Builder maxBatchSizeBytes(long bytes) {
      if (bytes <= 0) {
        throw new IllegalArgumentException("maxBatchSizeBytes must be positive");
      }
      this.maxBatchSizeBytes = bytes;
      return this;
    }

    public Builder instance(InstanceServices services) {
      if (instances.putIfAbsent(services.name(), services) != null) {
        throw new IllegalArgumentException("instance '" + services.name() + "' given twice");
      }
      return this;
    }

    /** Offers {@code service} to the transport under {@code type}; see {@link #service}. */
    public <T> Builder service(Class<T> type, T service) {
      services.put(Objects.requireNonNull(type, "type"), type.cast(service));
      return this;
    }

    public TransportContext build() {
      if (instances.isEmpty()) {
        throw new IllegalStateException("a transport needs at least one instance");
      }
      return new TransportContext(this);
    }
  }
}
