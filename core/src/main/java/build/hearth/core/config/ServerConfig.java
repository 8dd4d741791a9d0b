package build.hearth.core.config;

import build.hearth.spi.transport.ServerLimits;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One listening server: its address, the batch size it advertises, the REAPI instances it serves,
 * whether workers in other processes may connect to it, and whether its port speaks TLS.
 *
 * <p>Built only by {@link HearthConfig}'s readers, which have checked that the address parses, that
 * the port is from 0 to 65535 and that no other server of the configuration listens on the same
 * address. Immutable and thread-safe.
 */
public final class ServerConfig {
  /** The advertised {@code max_batch_total_size_bytes} when the file does not say: 4 MiB. */
  public static final long DEFAULT_MAX_BATCH_SIZE_BYTES = 4L << 20;

  /** The smallest allowed {@code maxBatchSize}: 64 KiB. */
  public static final long MIN_MAX_BATCH_SIZE_BYTES = 64L << 10;

  /**
   * The largest allowed {@code maxBatchSize}: 64 MiB. A batch travels as one gRPC message, and
   * larger messages strain both ends; ByteStream handles big blobs better.
   */
  public static final long MAX_MAX_BATCH_SIZE_BYTES = 64L << 20;

  /** The transport when the file does not say: {@code "grpc"}, served on {@link #port()}. */
  public static final String DEFAULT_TRANSPORT = "grpc";

  private final String name;
  private final String host;
  private final int port;
  private final long maxBatchSizeBytes;
  private final Map<String, InstanceConfig> instances;
  private final WorkerApiConfig workerApi;
  private final String transport;
  private final int transportLine;
  private final AccessConfig access;
  private final TlsConfig tls;
  private final ServerLimits limits;

  ServerConfig(
      String name,
      String host,
      int port,
      long maxBatchSizeBytes,
      Map<String, InstanceConfig> instances,
      WorkerApiConfig workerApi,
      String transport,
      int transportLine,
      AccessConfig access,
      TlsConfig tls,
      ServerLimits limits) {
    this.name = Objects.requireNonNull(name, "name");
    this.host = Objects.requireNonNull(host, "host");
    this.port = port;
    this.maxBatchSizeBytes = maxBatchSizeBytes;
    this.instances = Collections.unmodifiableMap(new LinkedHashMap<>(instances));
    this.workerApi = workerApi;
    this.transport = Objects.requireNonNull(transport, "transport");
    this.transportLine = transportLine;
    this.access = Objects.requireNonNull(access, "access");
    this.tls = tls;
    this.limits = Objects.requireNonNull(limits, "limits");
  }

  /**
   * {@return the bounds on uploads, connections and queued calls: the file's {@code limits} object,
   * each field defaulting to {@link ServerLimits#DEFAULTS}}
   */
  public ServerLimits limits() {
    return limits;
  }

  /**
   * {@return who may call this server and what they may do: its {@code authentication}, {@code
   * permissions} and {@code insecureAllowUnauthenticated} fields}
   */
  public AccessConfig access() {
    return access;
  }

  /**
   * {@return the server's name, for logs and metrics: the file's {@code name}, or {@code
   * server-<index>}}
   */
  public String name() {
    return name;
  }

  /**
   * {@return the host to bind: a name such as {@code localhost}, an IPv4 address, or an IPv6
   * address without brackets (such as {@code ::1})}
   */
  public String host() {
    return host;
  }

  /** {@return the port to bind, from 0 to 65535; 0 asks the system for any free port} */
  public int port() {
    return port;
  }

  /** {@return the {@code max_batch_total_size_bytes} to advertise in the server's capabilities} */
  public long maxBatchSizeBytes() {
    return maxBatchSizeBytes;
  }

  /**
   * {@return the instances by REAPI instance name, in the file's order; the key "" is the default
   * instance}
   */
  public Map<String, InstanceConfig> instances() {
    return instances;
  }

  /**
   * {@return the worker API this server offers on its port, through which workers in other
   * processes join a scheduler; empty when it offers none}
   */
  public Optional<WorkerApiConfig> workerApi() {
    return Optional.ofNullable(workerApi);
  }

  /**
   * {@return the type of the transport that serves this server: {@code "grpc"} (the default),
   * {@code "inprocess"} (clients in the same JVM only, no socket), or a plugin's type} Not checked
   * against the transports on the class path; the host does that when it starts the server.
   */
  public String transport() {
    return transport;
  }

  /**
   * {@return the line of {@code transport} in the file, for error messages; 0 when it was not
   * given}
   */
  public int transportLine() {
    return transportLine;
  }

  /** {@return how the server's port is secured with TLS; empty when it serves plaintext} */
  public Optional<TlsConfig> tls() {
    return Optional.ofNullable(tls);
  }

  /** {@return the address as it is written in a file: {@code host:port}, or {@code [v6]:port}} */
  public String listenAddress() {
    return (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ServerConfig that
        && name.equals(that.name)
        && host.equals(that.host)
        && port == that.port
        && maxBatchSizeBytes == that.maxBatchSizeBytes
        && instances.equals(that.instances)
        && Objects.equals(workerApi, that.workerApi)
        && transport.equals(that.transport)
        && access.equals(that.access)
        && Objects.equals(tls, that.tls)
        && limits.equals(that.limits);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        name, host, port, maxBatchSizeBytes, instances, workerApi, transport, access, tls, limits);
  }

  @Override
  public String toString() {
    return "ServerConfig{name="
        + name
        + ", listen="
        + listenAddress()
        + ", maxBatchSizeBytes="
        + maxBatchSizeBytes
        + ", instances="
        + instances.values()
        + (workerApi == null ? "" : ", workerApi=" + workerApi)
        + (transport.equals(DEFAULT_TRANSPORT) ? "" : ", transport=" + transport)
        + (access.equals(AccessConfig.NONE) ? "" : ", access=" + access)
        + (tls == null ? "" : ", tls=" + tls)
        + (limits.equals(ServerLimits.DEFAULTS) ? "" : ", limits=" + limits)
        + "}";
  }
}
