package build.hearth.redis;

import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.codec.ByteArrayCodec;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * One Lettuce client and its one connection, owned by one store (or, later, the scheduler state):
 * no static state, so two Hearth servers in one JVM each own theirs, and {@link #close()} releases
 * the client's threads.
 *
 * <p>Commands are asynchronous and share the connection, so a caller that sends many before
 * awaiting any pipelines them; on a Cluster, Lettuce routes each to its slot's master and pipelines
 * per node. While one Redis is unreachable, commands fail at once (rather than queue) with
 * UNAVAILABLE; while a Cluster node is, commands for it wait at most {@code commandTimeout}, then
 * fail with UNAVAILABLE. Lettuce reconnects in the background, so the owner works again when Redis
 * returns without being reopened.
 *
 * <p>Thread-safe.
 */
public final class RedisConnection implements AutoCloseable {
  /** The most commands waiting for a Cluster node to (re)connect; more fail at once. */
  private static final int REQUEST_QUEUE = 100_000;

  /**
   * Error replies of a Redis that is healthy but cannot serve for a while: a Cluster missing a
   * master, a server loading its data, a replica during failover, a busy script.
   */
  /** The least time between two health checks, however often {@link #problem()} is asked. */
  static final Duration HEALTH_INTERVAL = Duration.ofSeconds(1);

  /** The longest a health check waits for Redis (or less, when {@code commandTimeout} is less). */
  private static final Duration HEALTH_TIMEOUT = Duration.ofSeconds(2);

  private static final List<String> TRANSIENT_ERRORS =
      List.of("CLUSTERDOWN", "TRYAGAIN", "LOADING", "MASTERDOWN", "READONLY", "BUSY");

  private final RedisConnectionSettings settings;
  private final String context;
  private final ClientResources resources;
  private final AutoCloseable client;
  private final Supplier<StatefulRedisPubSubConnection<byte[], byte[]>> pubSub;
  private final StatefulConnection<byte[], byte[]> connection;
  private final RedisClusterAsyncCommands<byte[], byte[]> commands;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final HealthCheck health;

  private RedisConnection(
      RedisConnectionSettings settings,
      String context,
      ClientResources resources,
      AutoCloseable client,
      Supplier<StatefulRedisPubSubConnection<byte[], byte[]>> pubSub,
      StatefulConnection<byte[], byte[]> connection,
      RedisClusterAsyncCommands<byte[], byte[]> commands) {
    this.settings = settings;
    this.context = context;
    this.resources = resources;
    this.client = client;
    this.pubSub = pubSub;
    this.connection = connection;
    this.commands = commands;
    this.health =
        new HealthCheck(this::probe, this::unhealthy, System::nanoTime, HEALTH_INTERVAL.toNanos());
  }

  /**
   * Connects to the deployment {@code settings} describe.
   *
   * @param settings where Redis is and how to log in
   * @param context who connects, for messages (such as {@code blobStores.cas})
   * @return the open connection, which the caller closes
   * @throws HearthException UNAVAILABLE naming the address if Redis cannot be reached or refuses
   *     the credentials
   */
  public static RedisConnection open(RedisConnectionSettings settings, String context) {
    ClientResources resources =
        DefaultClientResources.builder().ioThreadPoolSize(2).computationThreadPoolSize(2).build();
    AutoCloseable client = null;
    try {
      TimeoutOptions timeouts = TimeoutOptions.enabled(settings.commandTimeout());
      SocketOptions socket =
          SocketOptions.builder().connectTimeout(settings.connectTimeout()).build();
      SslOptions ssl =
          settings
              .caFile()
              .map(f -> SslOptions.builder().jdkSslProvider().trustManager(f.toFile()).build())
              .orElse(null);
      if (settings.topology() == RedisConnectionSettings.Topology.CLUSTER) {
        List<RedisURI> seeds = new ArrayList<>();
        for (URI node : settings.nodes()) {
          seeds.add(redisUri(settings, node));
        }
        RedisClusterClient cluster = RedisClusterClient.create(resources, seeds);
        client = cluster::shutdown;
        ClusterClientOptions.Builder options =
            ClusterClientOptions.builder()
                .timeoutOptions(timeouts)
                .socketOptions(socket)
                // Lettuce opens a connection per node lazily, on the first command routed there, so
                // rejecting while disconnected would refuse that first command. Commands wait for
                // the node instead, at most commandTimeout (then UNAVAILABLE), and in a bounded
                // queue.
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS)
                .requestQueueSize(REQUEST_QUEUE)
                .topologyRefreshOptions(
                    ClusterTopologyRefreshOptions.builder()
                        .enablePeriodicRefresh(Duration.ofSeconds(30))
                        .enableAllAdaptiveRefreshTriggers()
                        .build());
        if (ssl != null) {
          options.sslOptions(ssl);
        }
        cluster.setOptions(options.build());
        StatefulRedisClusterConnection<byte[], byte[]> c = cluster.connect(ByteArrayCodec.INSTANCE);
        return new RedisConnection(
            settings,
            context,
            resources,
            client,
            () -> cluster.connectPubSub(ByteArrayCodec.INSTANCE),
            c,
            c.async());
      }
      RedisURI uri;
      if (settings.topology() == RedisConnectionSettings.Topology.SENTINEL) {
        URI first = settings.nodes().get(0);
        RedisURI.Builder b =
            RedisURI.Builder.sentinel(
                first.getHost(), port(first, 26379), settings.masterName().orElseThrow());
        for (URI node : settings.nodes().subList(1, settings.nodes().size())) {
          b.withSentinel(node.getHost(), port(node, 26379));
        }
        credentials(settings, b);
        b.withSsl(first.getScheme().equals("rediss"));
        // The URI's timeout bounds the handshake (HELLO, AUTH); commands have TimeoutOptions.
        b.withTimeout(settings.connectTimeout());
        uri = b.build();
      } else {
        uri = redisUri(settings, settings.nodes().get(0));
      }
      RedisClient single = RedisClient.create(resources, uri);
      client = single::shutdown;
      ClientOptions.Builder options =
          ClientOptions.builder()
              .timeoutOptions(timeouts)
              .socketOptions(socket)
              .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS);
      if (ssl != null) {
        options.sslOptions(ssl);
      }
      single.setOptions(options.build());
      StatefulRedisConnection<byte[], byte[]> c = single.connect(ByteArrayCodec.INSTANCE);
      return new RedisConnection(
          settings,
          context,
          resources,
          client,
          () -> single.connectPubSub(ByteArrayCodec.INSTANCE),
          c,
          c.async());
    } catch (RuntimeException e) {
      shutdown(client, resources);
      if (e instanceof HearthException h) {
        throw h;
      }
      throw new HearthException(
          StatusCode.UNAVAILABLE,
          context
              + ": cannot connect to "
              + settings
              + ": "
              + rootMessage(e)
              + "; check that Redis runs and is reachable from this host, and the \"user\","
              + " \"passwordFile\" and \"caFile\" settings",
          e);
    }
  }

  /** {@return the asynchronous commands; on a Cluster, routed by slot} */
  public RedisClusterAsyncCommands<byte[], byte[]> commands() {
    return commands;
  }

  /**
   * {@return why Redis cannot serve, as the last health check found; empty while it answered} Never
   * waits: the check is a {@code PING} (on a Cluster, one to every master the client knows), sent
   * at most once per second by whichever caller asks after the second is up, and answered from its
   * last reply; a Redis that does not answer within two seconds (or {@code commandTimeout}, if
   * shorter) is a problem. The problem names the owner, the address (on a Cluster, the node) and
   * the error. For readiness endpoints, which may ask on every request.
   */
  public Optional<String> problem() {
    if (closed.get()) {
      return Optional.of(context + ": closed");
    }
    return health.problem();
  }

  private CompletableFuture<?> probe() {
    long timeout = Math.min(settings.commandTimeout().toMillis(), HEALTH_TIMEOUT.toMillis());
    if (!(connection instanceof StatefulRedisClusterConnection<byte[], byte[]> cluster)) {
      return commands.ping().toCompletableFuture().orTimeout(timeout, TimeUnit.MILLISECONDS);
    }
    List<CompletableFuture<?>> pings = new ArrayList<>();
    for (RedisClusterNode node : cluster.getPartitions()) {
      if (!node.is(RedisClusterNode.NodeFlag.UPSTREAM)) {
        continue;
      }
      RedisURI uri = node.getUri();
      String address = uri.getHost() + ":" + uri.getPort();
      pings.add(
          cluster
              .getConnectionAsync(uri.getHost(), uri.getPort())
              .thenCompose(c -> c.async().ping())
              .toCompletableFuture()
              .orTimeout(timeout, TimeUnit.MILLISECONDS)
              .handle(
                  (pong, error) -> {
                    if (error != null) {
                      throw new NodeDown(address, error);
                    }
                    return pong;
                  }));
    }
    return CompletableFuture.allOf(pings.toArray(CompletableFuture[]::new));
  }

  /** A Cluster node that did not answer its health check. */
  private static final class NodeDown extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NodeDown(String address, Throwable cause) {
      super("node " + address + ": " + rootMessage(cause), cause, false, false);
    }
  }

  private String unhealthy(Throwable cause) {
    Throwable e = cause;
    while (!(e instanceof NodeDown) && e.getCause() != null && e.getCause() != e) {
      e = e.getCause();
    }
    String why =
        e instanceof NodeDown
            ? e.getMessage()
            : cause instanceof TimeoutException
                ? "no answer within the health check's timeout"
                : rootMessage(cause);
    return context
        + ": "
        + settings.describe()
        + " does not answer (PING: "
        + why
        + "); check that Redis runs and is reachable from this host; Hearth reconnects by itself"
        + " when Redis is back";
  }

  /** {@return whether this is a connection to a Redis Cluster} */
  boolean isCluster() {
    return connection instanceof StatefulRedisClusterConnection;
  }

  /**
   * {@return which node serves {@code key} as far as the client knows: equal values for keys of one
   * node, and one value for every key of a Redis that is not a Cluster} A hint for grouping keys
   * into one call per node; the node may have changed by the time the call arrives.
   */
  Object nodeOf(byte[] key) {
    if (!(connection instanceof StatefulRedisClusterConnection<byte[], byte[]> cluster)) {
      return "";
    }
    RedisClusterNode node = cluster.getPartitions().getPartitionBySlot(SlotHash.getSlot(key));
    return node == null ? "" : node.getNodeId();
  }

  /**
   * Opens a connection for subscriptions, on the same client (on a Cluster, to one node: messages
   * published on any node reach every node). The caller closes it before this connection.
   *
   * @return the new connection
   * @throws HearthException UNAVAILABLE if Redis cannot be reached
   */
  public StatefulRedisPubSubConnection<byte[], byte[]> pubSub() {
    try {
      return pubSub.get();
    } catch (RuntimeException e) {
      throw failure("opening a connection for notifications", e);
    }
  }

  /** {@return the settings this connection was opened with} */
  public RedisConnectionSettings settings() {
    return settings;
  }

  /** {@return whether {@link #close()} was called} */
  public boolean isClosed() {
    return closed.get();
  }

  /**
   * Waits for a command's reply and turns Redis trouble into a {@link HearthException} that names
   * the address and what to check.
   *
   * @param what what the command was for, such as {@code "looking up blobs"}
   * @param reply the command's pending reply
   * @param <T> the reply's type
   * @return the reply
   * @throws HearthException UNAVAILABLE when Redis is unreachable, too slow, out of memory or
   *     refuses the credentials; INTERNAL for any other error reply
   */
  public <T> T await(String what, CompletionStage<T> reply) {
    // Lettuce's own command timeout cancels the command first; this bound is a backstop.
    long bound = settings.commandTimeout().toMillis() * 2 + 1000;
    try {
      return reply.toCompletableFuture().get(bound, TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new HearthException(StatusCode.UNAVAILABLE, context + ": " + what + " interrupted", e);
    } catch (ExecutionException e) {
      throw failure(what, e.getCause());
    } catch (TimeoutException e) {
      throw failure(what, e);
    }
  }

  /**
   * {@return the exception for a failed command}
   *
   * @param what what the command was for
   * @param cause why it failed
   */
  public HearthException failure(String what, Throwable cause) {
    if (closed.get()) {
      return new HearthException(
          StatusCode.UNAVAILABLE, context + ": " + what + " failed: the store is closed", cause);
    }
    String message = rootMessage(cause);
    if (cause instanceof RedisCommandExecutionException) {
      if (TRANSIENT_ERRORS.stream().anyMatch(message::startsWith)) {
        return new HearthException(
            StatusCode.UNAVAILABLE,
            context
                + ": "
                + settings.describe()
                + " cannot serve "
                + what
                + " now ("
                + message
                + "); check the Redis deployment's health (a Cluster without a master for some"
                + " slots is down); Hearth retries with the next call",
            cause);
      }
      if (message.startsWith("OOM")) {
        return new HearthException(
            StatusCode.UNAVAILABLE,
            context
                + ": "
                + settings.describe()
                + " is out of memory while "
                + what
                + " ("
                + message
                + "); a cache-only Redis wants maxmemory-policy allkeys-lru",
            cause);
      }
      if (message.startsWith("NOAUTH")
          || message.startsWith("WRONGPASS")
          || message.startsWith("NOPERM")) {
        return new HearthException(
            StatusCode.UNAVAILABLE,
            context
                + ": "
                + settings
                + " refused "
                + what
                + " ("
                + message
                + "); check \"user\", \"passwordFile\" and the user's ACL",
            cause);
      }
      return HearthException.internal(
          context + ": " + settings.describe() + " answered " + what + " with: " + message, cause);
    }
    return new HearthException(
        StatusCode.UNAVAILABLE,
        context
            + ": "
            + what
            + " failed: "
            + settings.describe()
            + " is unreachable or too slow ("
            + message
            + "); check that Redis runs and is reachable, and \"commandTimeout\" ("
            + settings.commandTimeout().toMillis()
            + " ms); Hearth reconnects by itself when Redis is back",
        cause);
  }

  /** Closes the connection and shuts the client's threads down. Idempotent. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      try {
        connection.close();
      } finally {
        shutdown(client, resources);
      }
    }
  }

  private static void shutdown(AutoCloseable client, ClientResources resources) {
    try {
      if (client != null) {
        client.close();
      }
    } catch (Exception e) {
      // Shutting down; the client's threads stop with the resources below.
    } finally {
      resources.shutdown(0, 2, TimeUnit.SECONDS);
    }
  }

  private static RedisURI redisUri(RedisConnectionSettings settings, URI node) {
    RedisURI.Builder b = RedisURI.Builder.redis(node.getHost(), port(node, 6379));
    b.withSsl(node.getScheme().equals("rediss"));
    String path = node.getPath();
    if (path != null && path.length() > 1) {
      b.withDatabase(Integer.parseInt(path.substring(1)));
    }
    credentials(settings, b);
    // The URI's timeout bounds the handshake (HELLO, AUTH); commands have TimeoutOptions.
    b.withTimeout(settings.connectTimeout());
    return b.build();
  }

  private static void credentials(RedisConnectionSettings settings, RedisURI.Builder b) {
    settings
        .password()
        .ifPresent(
            password -> {
              if (settings.user().isPresent()) {
                b.withAuthentication(settings.user().get(), password);
              } else {
                b.withPassword(password);
              }
            });
  }

  private static int port(URI uri, int defaultPort) {
    return uri.getPort() < 0 ? defaultPort : uri.getPort();
  }

  private static String rootMessage(Throwable e) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      if (t instanceof RedisCommandExecutionException) {
        break;
      }
      t = t.getCause();
    }
    String message = t.getMessage();
    return message == null ? t.getClass().getSimpleName() : message;
  }
}
