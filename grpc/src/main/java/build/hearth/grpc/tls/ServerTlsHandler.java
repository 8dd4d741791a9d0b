package build.hearth.grpc.tls;

import io.grpc.Attributes;
import io.grpc.Grpc;
import io.grpc.InternalChannelz;
import io.grpc.SecurityLevel;
import io.grpc.internal.GrpcAttributes;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiationEvent;
import io.grpc.netty.shaded.io.grpc.netty.ProtocolNegotiationEvent;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandshakeCompletionEvent;
import javax.net.ssl.SSLSession;

/**
 * The TLS step of one connection's negotiation, in the shape of grpc-java's own {@code
 * ProtocolNegotiators.ServerTlsHandler}: when added it puts an {@link SslHandler} in front of
 * itself (through {@link TlsRecordCheck}, which answers a plaintext HTTP request instead); it holds
 * grpc-netty's negotiation event until the handshake completes; then it replaces itself with {@code
 * next} and fires the event on with the session in {@link Grpc#TRANSPORT_ATTR_SSL_SESSION},
 * security level {@link SecurityLevel#PRIVACY_AND_INTEGRITY} and the channelz security, exactly the
 * attributes a call sees behind grpc-java's {@code NettyServerBuilder.sslContext}.
 *
 * <p>Unlike grpc-java's it does not insist that ALPN chose {@code h2}: {@code next} is the shared
 * port's protocol sniffer, which hands HTTP/2 to gRPC and HTTP/1.1 to the HTTP routes by the first
 * decrypted bytes. A failed handshake is logged through {@link HandshakeFailures} and the
 * connection closed.
 *
 * <p>The {@link SslHandler} stays first in the pipeline for the connection's life, so either side
 * finds the peer's certificates with {@code pipeline.get(SslHandler.class).engine().getSession()}.
 * One instance per connection; used on its event loop only.
 */
final class ServerTlsHandler extends ChannelInboundHandlerAdapter {
  private final ChannelHandler next;
  private final SslContext sslContext;
  private final HandshakeFailures failures;
  private ProtocolNegotiationEvent negotiation = InternalProtocolNegotiationEvent.getDefault();

  ServerTlsHandler(ChannelHandler next, SslContext sslContext, HandshakeFailures failures) {
    this.next = next;
    this.sslContext = sslContext;
    this.failures = failures;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) throws Exception {
    super.handlerAdded(ctx);
    ctx.pipeline().addBefore(ctx.name(), null, new TlsRecordCheck(sslContext, failures));
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
    if (event instanceof ProtocolNegotiationEvent pne) {
      negotiation = pne;
    } else if (event instanceof SslHandshakeCompletionEvent handshake) {
      if (!handshake.isSuccess()) {
        failures.failed(ctx.channel().remoteAddress(), handshake.cause());
        ctx.close();
        return;
      }
      SSLSession session = ctx.pipeline().get(SslHandler.class).engine().getSession();
      Attributes attributes =
          InternalProtocolNegotiationEvent.getAttributes(negotiation).toBuilder()
              .set(GrpcAttributes.ATTR_SECURITY_LEVEL, SecurityLevel.PRIVACY_AND_INTEGRITY)
              .set(Grpc.TRANSPORT_ATTR_SSL_SESSION, session)
              .build();
      ProtocolNegotiationEvent secured =
          InternalProtocolNegotiationEvent.withSecurity(
              InternalProtocolNegotiationEvent.withAttributes(negotiation, attributes),
              new InternalChannelz.Security(new InternalChannelz.Tls(session)));
      ctx.pipeline().replace(ctx.name(), null, next);
      // The replaced context forwards to its replacement, as grpc-java's handlers rely on too.
      ctx.fireUserEventTriggered(secured);
    } else {
      super.userEventTriggered(ctx, event);
    }
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    // A record that is not TLS or a broken handshake arrives here before the completion event.
    failures.failed(ctx.channel().remoteAddress(), cause);
    ctx.close();
  }
}
