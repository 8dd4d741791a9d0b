package build.hearth.grpc;

import build.hearth.spi.transport.TransportContext;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.stub.AbstractStub;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;

/**
 * A gRPC transport on a loopback port and a plaintext channel to it: the start, stop and timeouts
 * that every test server shares. The servers the tests use ({@link TestServer}, {@link
 * ExecutionTestServer}, {@link WorkerTestServer}) say what the transport serves; this class runs
 * it. It can be stopped and started again on the same port, with the same context, as a restarted
 * server would be.
 */
public final class LoopbackServer implements AutoCloseable {
  /** How long a test waits for one call, answer or event before it fails. */
  public static final Duration TIMEOUT = Duration.ofSeconds(20);

  /** How long a stopping transport lets the calls still running finish. */
  public static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(2);

  /** The client's limit, far above what any test's server sends in one message. */
  private static final int MAX_INBOUND_MESSAGE_BYTES = 64 << 20;

  private final IntFunction<TransportContext> context;
  private final GrpcSettings settings;
  private volatile GrpcTransport transport;
  private volatile int port;
  private ManagedChannel channel; // guarded by this

  /**
   * Starts a transport on a free port.
   *
   * @param context the context to serve, given the port to bind (0 the first time)
   */
  LoopbackServer(IntFunction<TransportContext> context, GrpcSettings settings) {
    this.context = context;
    this.settings = settings;
    start();
  }

  /** Starts the transport: on a free port the first time, on the same port afterwards. */
  public void start() {
    transport = GrpcTransport.start(context.apply(port), settings);
    port = transport.port();
  }

  /** Stops the transport, as a server that goes down; {@link #start} brings it back. */
  public void stop() {
    transport.shutdown(SHUTDOWN_GRACE);
  }

  GrpcTransport transport() {
    return transport;
  }

  public int port() {
    return port;
  }

  /** The worker API's address, as a worker is given it. */
  public String endpoint() {
    return "grpc://127.0.0.1:" + port;
  }

  /**
   * A channel to the server, made on first use; it outlives restarts and closes with the server.
   */
  public synchronized ManagedChannel channel() {
    if (channel == null) {
      channel =
          ManagedChannelBuilder.forAddress("127.0.0.1", port)
              .usePlaintext()
              .maxInboundMessageSize(MAX_INBOUND_MESSAGE_BYTES)
              .build();
    }
    return channel;
  }

  /** {@code stub} with a deadline of {@link #TIMEOUT}. */
  public static <S extends AbstractStub<S>> S withTimeout(S stub) {
    return stub.withDeadlineAfter(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Closes the channel and stops the transport; the caller closes the stores it served. */
  @Override
  public void close() {
    ManagedChannel open;
    synchronized (this) {
      open = channel;
    }
    if (open != null) {
      open.shutdownNow();
      try {
        open.awaitTermination(5, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    transport.shutdown(SHUTDOWN_GRACE);
  }
}
