package build.hearth.grpc;

import build.hearth.spi.transport.Transport;
import build.hearth.spi.transport.TransportContext;
import build.hearth.spi.transport.TransportProvider;

/**
 * The built-in transport, type {@code "grpc"}: serves REAPI v2 (Capabilities,
 * ContentAddressableStorage, ByteStream, ActionCache) over HTTP/2 with Netty, in plaintext or, when
 * the context has {@link TransportContext#tls() TLS settings}, over TLS only. The same port answers
 * HTTP/1.1 {@code GET} and {@code HEAD} requests from the {@link
 * build.hearth.spi.transport.HttpRoutes} the context offers as a service (404 for every path when
 * it offers none), so {@code curl http://host:port/metrics} (or {@code https://}) works beside gRPC
 * clients.
 *
 * <p>Each {@link #start} binds its own server with its own thread pools, so several transports can
 * run in one JVM. It holds the transport limits of {@link TransportContext#limits()}: calls waiting
 * for a thread, calls per connection, idle connections, handshake and HTTP/1.1 deadlines (see
 * docs/reliability.md). Thread-safe and stateless.
 */
public final class GrpcTransportProvider extends TransportProvider {

  /** Called by {@link java.util.ServiceLoader}. */
  public GrpcTransportProvider() {}

  @Override
  public String type() {
    return "grpc";
  }

  /**
   * Binds {@code context.host():context.port()} and starts serving.
   *
   * @throws build.hearth.api.HearthException UNAVAILABLE if the address cannot be bound (in use,
   *     unknown host, no permission), with the address and the reason in the message
   */
  @Override
  public Transport start(TransportContext context) {
    return GrpcTransport.start(context, GrpcSettings.defaults());
  }
}
