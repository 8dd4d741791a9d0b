package build.hearth.grpc;

import build.hearth.api.HearthException;
import build.hearth.spi.transport.Transport;
import build.hearth.spi.transport.TransportContext;
import build.hearth.spi.transport.TransportProvider;

/**
 * The in-process transport, type {@code "inprocess"}: the same REAPI v2 services (and the worker
 * API, when the context offers one) as {@link GrpcTransportProvider}, served through grpc-java's
 * in-process transport instead of a socket. Only clients in the same JVM (and the same copy of
 * grpc-java) reach it, with {@code InProcessChannelBuilder.forName(name)}, where the name is {@link
 * #serverName(String) "hearth-" + the server's name}. HTTP routes such as {@code /metrics} are not
 * served, since there is no HTTP.
 *
 * <pre>{@code
 * Transport transport = new InProcessTransportProvider().start(context); // server "main"
 * ManagedChannel channel = InProcessChannelBuilder.forName("hearth-main").build();
 * }</pre>
 *
 * <p>The context's host and port are ignored, and the returned transport's {@link Transport#port()}
 * is -1: there is no port. In-process names are unique per JVM, so two in-process servers need two
 * server names. Thread-safe and stateless; each {@link #start} owns its own server and thread pool.
 */
public final class InProcessTransportProvider extends TransportProvider {
  /** The prefix of every in-process name this provider registers. */
  private static final String NAME_PREFIX = "hearth-";

  /** Called by {@link java.util.ServiceLoader}. */
  public InProcessTransportProvider() {}

  @Override
  public String type() {
    return "inprocess";
  }

  /**
   * {@return the in-process name a server is registered under: {@code "hearth-" + serverName}}
   *
   * @param serverName the server's name in the configuration, as in {@link
   *     TransportContext#serverName()}
   */
  public static String serverName(String serverName) {
    return NAME_PREFIX + serverName;
  }

  /**
   * Registers the in-process name {@link #serverName(String) "hearth-" + context.serverName()} and
   * starts serving.
   *
   * @throws build.hearth.api.HearthException UNAVAILABLE if another in-process server in this JVM
   *     already uses that name; FAILED_PRECONDITION if the context asks for TLS
   */
  @Override
  public Transport start(TransportContext context) {
    if (context.tls().isPresent()) {
      // Serving in the clear what the configuration asked to protect would be worse than failing.
      throw HearthException.failedPrecondition(
          "server %s: the inprocess transport has no port to secure with TLS; remove its \"tls\""
              + " block or use the \"grpc\" transport",
          context.serverName());
    }
    return GrpcTransport.startInProcess(
        context, GrpcSettings.defaults(), serverName(context.serverName()));
  }
}
