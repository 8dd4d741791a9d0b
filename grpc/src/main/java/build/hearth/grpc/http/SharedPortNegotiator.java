package build.hearth.grpc.http;

import build.hearth.spi.security.AccessControl;
import build.hearth.spi.transport.HttpRoutes;
import build.hearth.spi.transport.ServerLimits;
import io.grpc.ServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.shaded.io.grpc.netty.InternalNettyServerCredentials;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiators;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.util.AsciiString;
import java.time.Duration;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * Lets plain HTTP/1.1 GETs share the gRPC port. grpc-netty asks a protocol negotiator for the first
 * handler of each accepted connection; this one answers with a {@link ProtocolSniffer}, which reads
 * the connection's first bytes and then installs either grpc-netty's own plaintext negotiation
 * (HTTP/2 and anything unrecognised, so gRPC sees its connections exactly as without this class) or
 * an HTTP/1.1 codec in front of the {@link HttpRoutes}. With TLS ({@link #tlsCredentials}) the
 * sniffer reads the decrypted bytes after the handshake, so both protocols share a TLS port too.
 *
 * <p>This package is the only user of grpc-java's {@code @Internal} negotiator APIs; the transport
 * asks {@link #credentials} for the server's credentials and sees none of them.
 *
 * <p>A negotiator rather than a second server or a proxy in front: the port, the event loops and
 * the shutdown stay grpc-netty's, and no dependency is added (the HTTP/1.1 codec ships inside
 * grpc-netty-shaded).
 *
 * <p>It is also where this server reaches grpc-netty's HTTP/2 handler before any byte arrives, so
 * it installs the {@link ComposingCumulator} there: the default cumulator copies every uploaded
 * byte once more on the event loop whenever a read ends inside a frame.
 */
public final class SharedPortNegotiator implements InternalProtocolNegotiator.ProtocolNegotiator {
  private final InternalProtocolNegotiator.ProtocolNegotiator plaintext =
      InternalProtocolNegotiators.serverPlaintext();
  private static final AsciiString HTTPS = AsciiString.cached("https");

  private final HttpRoutes routes;
  private final AccessControl accessControl;
  private final UnaryOperator<ChannelHandler> tls; // null for plaintext
  private final Duration handshakeTimeout;
  private final Duration httpIdleTimeout;

  private SharedPortNegotiator(
      HttpRoutes routes,
      AccessControl accessControl,
      UnaryOperator<ChannelHandler> tls,
      ServerLimits limits) {
    this.routes = Objects.requireNonNull(routes, "routes");
    this.accessControl = Objects.requireNonNull(accessControl, "accessControl");
    this.tls = tls;
    this.handshakeTimeout = limits.handshakeTimeout();
    this.httpIdleTimeout = limits.httpIdleTimeout();
  }

  /**
   * {@return the server credentials that make a Netty server answer gRPC and {@code routes} on one
   * plaintext port}
   *
   * @param routes the plain HTTP routes to serve beside gRPC
   */
  public static ServerCredentials credentials(HttpRoutes routes) {
    return credentials(routes, AccessControl.ALLOW_ALL);
  }

  /**
   * {@return the server credentials that make a Netty server answer gRPC and {@code routes} on one
   * plaintext port, each HTTP request checked with {@code accessControl}: {@code /admin} needs
   * {@code admin}, {@code /metrics} needs {@code metrics}, the health routes nothing}
   *
   * @param routes the plain HTTP routes to serve beside gRPC
   * @param accessControl who may read which route
   */
  public static ServerCredentials credentials(HttpRoutes routes, AccessControl accessControl) {
    return credentials(routes, accessControl, ServerLimits.DEFAULTS);
  }

  /**
   * {@return the server credentials of {@link #credentials(HttpRoutes, AccessControl)}, with the
   * handshake and HTTP/1.1 idle timeouts of {@code limits}} The server must turn grpc's own
   * handshake timeout off (see {@link HandshakeDeadline}).
   *
   * @param routes the plain HTTP routes to serve beside gRPC
   * @param accessControl who may read which route
   * @param limits where {@code handshakeTimeout} and {@code httpIdleTimeout} come from
   */
  public static ServerCredentials credentials(
      HttpRoutes routes, AccessControl accessControl, ServerLimits limits) {
    return InternalNettyServerCredentials.create(
        new SharedPortNegotiator(routes, accessControl, null, limits));
  }

  /**
   * {@return the server credentials that make a Netty server answer gRPC and {@code routes} on one
   * TLS port, each HTTP request checked with {@code accessControl}}
   *
   * @param routes the HTTP routes to serve beside gRPC
   * @param accessControl who may read which route
   * @param tls wraps the handler that takes over after the handshake in one that runs the handshake
   *     first and then fires grpc-netty's negotiation event on with the TLS attributes (see {@code
   *     build.hearth.grpc.tls.ServerTls#newHandler}); called once per connection
   */
  public static ServerCredentials tlsCredentials(
      HttpRoutes routes, AccessControl accessControl, UnaryOperator<ChannelHandler> tls) {
    return tlsCredentials(routes, accessControl, tls, ServerLimits.DEFAULTS);
  }

  /**
   * {@return the server credentials of {@link #tlsCredentials(HttpRoutes, AccessControl,
   * UnaryOperator)}, with the handshake and HTTP/1.1 idle timeouts of {@code limits}}
   *
   * @param routes the HTTP routes to serve beside gRPC
   * @param accessControl who may read which route
   * @param tls as for the other overload
   * @param limits where {@code handshakeTimeout} and {@code httpIdleTimeout} come from
   */
  public static ServerCredentials tlsCredentials(
      HttpRoutes routes,
      AccessControl accessControl,
      UnaryOperator<ChannelHandler> tls,
      ServerLimits limits) {
    return InternalNettyServerCredentials.create(
        new SharedPortNegotiator(
            routes, accessControl, Objects.requireNonNull(tls, "tls"), limits));
  }

  @Override
  public AsciiString scheme() {
    return tls == null ? plaintext.scheme() : HTTPS;
  }

  /**
   * First the {@link HandshakeDeadline}, then, in plaintext: the sniffer, then grpc-netty's
   * plaintext negotiation for gRPC. TLS: grpc's wait-until-active step (it adds the addresses to
   * the negotiation event), then the handshake, then the sniffer on the decrypted bytes, then
   * grpc's final step for gRPC; the same order as grpc-java's own {@code serverTls} with the
   * sniffer in between.
   */
  @Override
  public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
    grpcHandler.setCumulator(ComposingCumulator.INSTANCE);
    if (tls == null) {
      return new HandshakeDeadline(
          new ProtocolSniffer(
              plaintext.newHandler(grpcHandler), routes, accessControl, httpIdleTimeout),
          handshakeTimeout);
    }
    ChannelHandler sniffer =
        new ProtocolSniffer(
            InternalProtocolNegotiators.grpcNegotiationHandler(grpcHandler),
            routes,
            accessControl,
            httpIdleTimeout);
    return new HandshakeDeadline(
        InternalProtocolNegotiators.waitUntilActiveHandler(
            tls.apply(sniffer), grpcHandler.getNegotiationLogger()),
        handshakeTimeout);
  }

  @Override
  public void close() {
    plaintext.close();
  }
}
