package build.hearth.grpc;

import static java.util.concurrent.TimeUnit.MILLISECONDS;

import build.hearth.api.HearthException;
import build.hearth.core.internal.Threads;
import build.hearth.grpc.bytestream.ByteStreamService;
import build.hearth.grpc.bytestream.ReadStalls;
import build.hearth.grpc.bytestream.UploadSessions;
import build.hearth.grpc.bytestream.WriteLookaheads;
import build.hearth.grpc.common.Instances;
import build.hearth.grpc.http.SharedPortNegotiator;
import build.hearth.grpc.reapi.ActionCacheService;
import build.hearth.grpc.reapi.CapabilitiesService;
import build.hearth.grpc.reapi.CasService;
import build.hearth.grpc.reapi.ExecutionGrpcService;
import build.hearth.grpc.reapi.ExecutionStreamEnds;
import build.hearth.grpc.reapi.OperationsGrpcService;
import build.hearth.grpc.security.AccessInterceptor;
import build.hearth.grpc.security.CallIdentity;
import build.hearth.grpc.tls.ServerTls;
import build.hearth.grpc.workerapi.WorkerApiService;
import build.hearth.spi.transport.HttpRoutes;
import build.hearth.spi.transport.Transport;
import build.hearth.spi.transport.TransportContext;
import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running gRPC server and everything it owns: the thread pool that runs the services, the upload
 * sessions and the task that sweeps idle ones. {@link #shutdown} releases all of it. The same port
 * answers plain HTTP/1.1 GETs from the context's {@link HttpRoutes} (see {@link
 * SharedPortNegotiator}); their connections close when the server shuts down. The same class runs
 * the in-process transport, which has no port and no HTTP routes. When the context asks for TLS,
 * the port speaks only TLS ({@link ServerTls}), for gRPC and the HTTP routes alike.
 *
 * <p>Three pools: the service pool runs REAPI calls and is bounded by {@code limits.maxQueuedCalls}
 * ({@link CallAdmission}); the worker API has a pool of its own; a small dispatch pool only routes
 * each call to one of them. The connection limits ({@code maxConcurrentCallsPerConnection}, {@code
 * connectionIdleTimeout}, {@code maxConnectionAge} with its grace) are grpc-netty's; the handshake
 * and HTTP/1.1 deadlines are the shared port's negotiator's ({@link SharedPortNegotiator}).
 */
final class GrpcTransport implements Transport {
  private static final Logger log = LoggerFactory.getLogger(GrpcTransport.class);

  /** Room for a ByteStream chunk or a FindMissingBlobs of many thousand digests. */
  private static final int MIN_INBOUND_MESSAGE_BYTES = 16 << 20;

  private static final int FLOW_CONTROL_WINDOW_BYTES = 16 << 20;

  /** Threads that only route calls to their pool; see {@link CallAdmission}. */
  private static final int DISPATCH_THREADS = 2;

  private final String description;
  private final Server server;
  private final ExecutorService executor;
  private final ExecutorService workerExecutor;
  private final ExecutorService dispatch;
  private final ScheduledExecutorService sweeper;
  private final UploadSessions sessions;
  private final WriteLookaheads lookaheads;
  private final WorkerApiService workerApi; // null unless the host offers a WorkerHub
  private final ServerTls tls; // null for plaintext and in-process
  private final AtomicBoolean stopped = new AtomicBoolean();

  private GrpcTransport(
      String description,
      Server server,
      ExecutorService executor,
      ExecutorService workerExecutor,
      ExecutorService dispatch,
      ScheduledExecutorService sweeper,
      UploadSessions sessions,
      WriteLookaheads lookaheads,
      WorkerApiService workerApi,
      ServerTls tls) {
    this.description = description;
    this.server = server;
    this.executor = executor;
    this.workerExecutor = workerExecutor;
    this.dispatch = dispatch;
    this.sweeper = sweeper;
    this.sessions = sessions;
    this.lookaheads = lookaheads;
    this.workerApi = workerApi;
    this.tls = tls;
  }

  static GrpcTransport start(TransportContext context, GrpcSettings settings) {
    String host = hostForMessages(context.host());
    String address = host + ":" + context.port();
    InetSocketAddress bind = new InetSocketAddress(context.host(), context.port());
    if (bind.isUnresolved()) {
      throw HearthException.unavailable(
          "cannot listen on " + address + ": unknown host '" + context.host() + "'", null);
    }
    HttpRoutes routes = context.httpRoutes();
    ServerTls tls =
        context
            .tls()
            .map(
                tlsSettings ->
                    ServerTls.start(
                        tlsSettings,
                        context.serverName(),
                        settings.tlsPollInterval(),
                        settings.clock()))
            .orElse(null);
    NettyServerBuilder builder =
        NettyServerBuilder.forAddress(
                bind,
                tls == null
                    ? SharedPortNegotiator.credentials(
                        routes, context.accessControl(), context.limits())
                    : SharedPortNegotiator.tlsCredentials(
                        routes, context.accessControl(), tls::newHandler, context.limits()))
            // grpc's own handshake timer would also close every HTTP/1.1 connection of the shared
            // port, busy or not; the negotiator's deadline (limits.handshakeTimeout) knows both.
            .handshakeTimeout(Long.MAX_VALUE, MILLISECONDS)
            // A window of several chunks lets a client keep sending while the server hashes.
            .flowControlWindow(FLOW_CONTROL_WINDOW_BYTES)
            // Find connections whose peer vanished, so their uploads become resumable sessions
            // promptly; and tolerate clients' own keep-alive pings (Bazel's
            // --grpc_keepalive_time) instead of closing them with "too_many_pings".
            .keepAliveTime(1, TimeUnit.MINUTES)
            .keepAliveTimeout(20, TimeUnit.SECONDS)
            .permitKeepAliveTime(10, TimeUnit.SECONDS)
            .permitKeepAliveWithoutCalls(true)
            .maxConcurrentCallsPerConnection(context.limits().maxConcurrentCallsPerConnection())
            // Closed with a GOAWAY, which clients answer by reconnecting when they next call.
            .maxConnectionIdle(context.limits().connectionIdleTimeout().toMillis(), MILLISECONDS);
    // Off unless configured: grpc-netty's default is no age, which is what "off" means here.
    context
        .limits()
        .maxConnectionAge()
        .ifPresent(
            age ->
                builder
                    .maxConnectionAge(age.toMillis(), MILLISECONDS)
                    .maxConnectionAgeGrace(
                        context.limits().maxConnectionAgeGrace().toMillis(), MILLISECONDS));
    return serve(
        context,
        settings,
        builder,
        tls,
        tls == null ? "gRPC" : "gRPC with TLS",
        server -> host + ":" + server.getPort(),
        e -> HearthException.unavailable("cannot listen on " + address + ": " + reason(e), e));
  }

  /**
   * Serves the same services as {@link #start} through grpc-java's in-process transport under
   * {@code name}, without a socket; HTTP routes do not apply there.
   */
  static GrpcTransport startInProcess(
      TransportContext context, GrpcSettings settings, String name) {
    return serve(
        context,
        settings,
        InProcessServerBuilder.forName(name),
        null,
        "in-process gRPC",
        server -> "in-process name '" + name + "'",
        // grpc-java keeps in-process names in one registry per JVM (class loader).
        e ->
            HearthException.unavailable(
                "cannot serve in-process as '"
                    + name
                    + "': "
                    + e.getMessage()
                    + "; another in-process server in this JVM uses that name, so give this"
                    + " server another name",
                e));
  }

  private static GrpcTransport serve(
      TransportContext context,
      GrpcSettings settings,
      ServerBuilder<?> builder,
      ServerTls tls,
      String kind,
      Function<Server, String> where,
      Function<IOException, HearthException> failure) {
    Instances instances = new Instances(context.instances());
    UploadSessions sessions = new UploadSessions(settings.clock(), context.limits());
    ThreadPoolExecutor executor =
        new ThreadPoolExecutor(
            settings.threads(),
            settings.threads(),
            0,
            TimeUnit.MILLISECONDS,
            new LinkedBlockingQueue<>(),
            Threads.nonDaemon("hearth-grpc-" + context.serverName() + "-"));
    // The worker API's streams, apart so that a saturated service pool cannot delay keep-alives.
    ThreadPoolExecutor workerExecutor =
        new ThreadPoolExecutor(
            settings.threads(),
            settings.threads(),
            0,
            TimeUnit.MILLISECONDS,
            new LinkedBlockingQueue<>(),
            Threads.nonDaemon("hearth-grpc-" + context.serverName() + "-workers-"));
    // grpc-java's default executor: it only looks a call's method up and asks CallAdmission for
    // the call's pool (and closes cancelled calls' contexts), so it is never busy for long and a
    // full service pool does not delay admitting, refusing or routing a worker's call.
    ThreadPoolExecutor dispatch =
        new ThreadPoolExecutor(
            DISPATCH_THREADS,
            DISPATCH_THREADS,
            0,
            TimeUnit.MILLISECONDS,
            new LinkedBlockingQueue<>(),
            Threads.nonDaemon("hearth-grpc-" + context.serverName() + "-dispatch-"));
    CallAdmission admission =
        new CallAdmission(executor, workerExecutor, context.limits().maxQueuedCalls());
    // Also times WaitOperation calls, whose timers are mostly cancelled early.
    ScheduledThreadPoolExecutor sweeper =
        new ScheduledThreadPoolExecutor(
            1, Threads.nonDaemon("hearth-grpc-" + context.serverName() + "-sweep-"));
    sweeper.setRemoveOnCancelPolicy(true);
    WorkerApiService workerApi =
        context
            .workerHub()
            .map(
                hub ->
                    new WorkerApiService(
                        hub, settings.workerKeepAliveInterval(), context.serverName()))
            .orElse(null);
    MalformedRequests malformed = new MalformedRequests();
    WriteLookaheads lookaheads = new WriteLookaheads(context.limits());
    ReadStalls stalls = new ReadStalls(sweeper, context.limits().readStallTimeout());
    if (builder instanceof NettyServerBuilder) {
      // Tells each Write stream the size of what the transport deframes, on the transport's thread;
      // the in-process transport learns it in the service instead.
      builder.addStreamTracerFactory(lookaheads.tracerFactory());
    }
    Server server =
        builder
            .executor(dispatch)
            .callExecutor(admission)
            // One check of identity and permission for every call of every service.
            .intercept(new AccessInterceptor(context.accessControl()))
            // Before the access check, so that a refused call costs no authentication.
            .intercept(admission)
            // Outside the access check, so that it also counts what the access check let through
            // and a limit refused.
            .intercept(new LimitRefusalInterceptor(context.limitRefusals()))
            // Outermost: a request that does not parse reaches nothing else.
            .intercept(malformed)
            .maxInboundMessageSize(inboundLimit(context.maxBatchSizeBytes()))
            .addService(
                malformed.lenient(
                    new CapabilitiesService(instances, context.maxBatchSizeBytes()).bindService()))
            .addService(
                malformed.lenient(
                    new CasService(instances, context.maxBatchSizeBytes()).bindService()))
            .addService(
                malformed.lenient(
                    new ByteStreamService(
                            instances,
                            sessions,
                            settings.readChunkBytes(),
                            CallIdentity::current,
                            lookaheads,
                            stalls)
                        .bindService()))
            .addService(malformed.lenient(new ActionCacheService(instances).bindService()))
            .addServices(
                workerApi == null ? List.of() : List.of(malformed.lenient(workerApi.bindService())))
            .addService(
                malformed.lenient(new ExecutionGrpcService(instances, executor).bindService()))
            .addService(
                malformed.lenient(
                    new OperationsGrpcService(instances, executor, sweeper).bindService()))
            // Gives each ByteStream Read a context that ends it when its client stops reading.
            .addStreamTracerFactory(stalls.tracerFactory())
            // Tells the execution service a client's cancel from a broken stream.
            .addStreamTracerFactory(ExecutionStreamEnds.tracerFactory())
            .build();
    try {
      server.start();
    } catch (IOException e) {
      if (workerApi != null) {
        workerApi.close();
      }
      server.shutdownNow();
      executor.shutdownNow();
      workerExecutor.shutdownNow();
      dispatch.shutdownNow();
      sweeper.shutdownNow();
      if (tls != null) {
        tls.close();
      }
      throw failure.apply(e);
    }
    long period = sessions.sweepPeriod().toMillis();
    sweeper.scheduleWithFixedDelay(() -> sweep(sessions), period, period, TimeUnit.MILLISECONDS);
    String description = context.serverName() + " on " + where.apply(server);
    log.info("Serving REAPI over {}: {}, instances {}", kind, description, instances.describe());
    return new GrpcTransport(
        description,
        server,
        executor,
        workerExecutor,
        dispatch,
        sweeper,
        sessions,
        lookaheads,
        workerApi,
        tls);
  }

  /** How many tasks wait for a thread of the service pool, for tests. */
  int queuedCalls() {
    return ((ThreadPoolExecutor) executor).getQueue().size();
  }

  /** The upload sessions, for tests. */
  UploadSessions sessions() {
    return sessions;
  }

  /** The write lookahead, for tests. */
  WriteLookaheads lookaheads() {
    return lookaheads;
  }

  /** The bound port; -1 for an in-process server, which has none. */
  @Override
  public int port() {
    return server.getPort();
  }

  @Override
  public void shutdown(Duration grace) {
    if (!stopped.compareAndSet(false, true)) {
      awaitQuietly(grace);
      return;
    }
    if (workerApi != null) {
      workerApi.close(); // worker streams never end by themselves; do not wait out the grace
    }
    server.shutdown();
    sweeper.shutdownNow();
    if (tls != null) {
      tls.close();
    }
    try {
      if (!server.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS)) {
        log.info("Cancelling the calls still running on {} after {}", description, grace);
        server.shutdownNow();
        server.awaitTermination(5, TimeUnit.SECONDS);
      }
      for (ExecutorService pool : List.of(executor, workerExecutor, dispatch)) {
        pool.shutdown();
        if (!pool.awaitTermination(5, TimeUnit.SECONDS)) {
          pool.shutdownNow();
        }
      }
    } catch (InterruptedException e) {
      server.shutdownNow();
      executor.shutdownNow();
      workerExecutor.shutdownNow();
      dispatch.shutdownNow();
      Thread.currentThread().interrupt();
    }
    sessions.close();
    log.info("Stopped {}", description);
  }

  private void awaitQuietly(Duration grace) {
    try {
      server.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void sweep(UploadSessions sessions) {
    try {
      int removed = sessions.sweep();
      if (removed > 0) {
        log.info("Discarded {} uploads idle for more than {}", removed, sessions.idleTimeout());
      }
    } catch (RuntimeException e) {
      // A failure to close one upload must not stop future sweeps.
      log.warn("Sweeping idle uploads failed", e);
    }
  }

  /**
   * A batch of {@code maxBatch} blob bytes also carries a digest and framing per blob; allowing as
   * much again (and at least 16 MiB) admits every batch within the advertised limit, so an
   * oversized one is refused by the service with a clear message rather than by gRPC.
   */
  static int inboundLimit(long maxBatch) {
    long limit = Math.max(MIN_INBOUND_MESSAGE_BYTES, 2 * maxBatch);
    return (int) Math.min(Integer.MAX_VALUE, limit);
  }

  /** Why binding failed, in words a user acts on; Netty's native transport words it its own way. */
  private static String reason(IOException e) {
    String deepest = null;
    for (Throwable t = e; t != null; t = t.getCause()) {
      String message = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
      if (message.contains("already in use")) {
        return "the address is already in use (another Hearth or program listens there); stop it"
            + " or choose another port with \"listen\"";
      }
      if (message.contains("permission denied") || message.contains("access denied")) {
        return "permission denied; ports below 1024 need privileges";
      }
      if (message.contains("cannot assign requested address")) {
        return "cannot assign requested address; the host is not an address of this machine";
      }
      if (!message.isBlank()) {
        deepest = t.getMessage();
      }
    }
    return deepest == null ? e.toString() : deepest;
  }

  /** An IPv6 literal in brackets, so that the port after it stays readable. */
  private static String hostForMessages(String host) {
    return host.indexOf(':') >= 0 && !host.startsWith("[") ? "[" + host + "]" : host;
  }
}
