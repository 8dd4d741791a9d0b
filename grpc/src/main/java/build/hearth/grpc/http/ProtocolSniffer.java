package build.hearth.grpc.http;

import build.hearth.spi.security.AccessControl;
import build.hearth.spi.transport.HttpRoutes;
import io.grpc.netty.shaded.io.grpc.netty.ProtocolNegotiationEvent;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelPipeline;
import io.grpc.netty.shaded.io.netty.handler.codec.ByteToMessageDecoder;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpServerCodec;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * The first handler of every connection on the shared port: holds back grpc-netty's negotiation
 * event and the bytes read until the first few bytes tell an HTTP/1.x request line (a method and a
 * space) from anything else, then steps aside for the protocol found and replays what it held.
 * HTTP/1.1 connections get an {@link HttpIdleTimeout}; gRPC ones an {@link Http2PrefaceWatch} that
 * lifts the {@link HandshakeDeadline} once HTTP/2's handshake is through.
 *
 * <p>HTTP/2's client preface starts {@code PRI }, which is no method here, so gRPC is recognised
 * after two bytes; a request line after at most eight. Bytes that are not an HTTP/1.x request line
 * go to gRPC, whose preface check closes the connection. A connection that sends nothing (or too
 * little) is closed by the {@link HandshakeDeadline}, which covers this handler too.
 *
 * <p>One instance per connection; used on its event loop only.
 */
final class ProtocolSniffer extends ByteToMessageDecoder {
  /** What follows the method is a space in every request line, so each token ends with one. */
  private static final List<byte[]> REQUEST_LINE_STARTS =
      List.of(
              "GET ",
              "HEAD ",
              "POST ",
              "PUT ",
              "DELETE ",
              "OPTIONS ",
              "PATCH ",
              "TRACE ",
              "CONNECT ")
          .stream()
          .map(s -> s.getBytes(StandardCharsets.US_ASCII))
          .toList();

  enum Protocol {
    UNDECIDED,
    HTTP1,
    GRPC
  }

  private final ChannelHandler grpcNegotiation;
  private final HttpRoutes routes;
  private final AccessControl accessControl;
  private final Duration httpIdleTimeout;
  private ProtocolNegotiationEvent negotiation; // held until the protocol is known

  ProtocolSniffer(
      ChannelHandler grpcNegotiation,
      HttpRoutes routes,
      AccessControl accessControl,
      Duration httpIdleTimeout) {
    this.grpcNegotiation = grpcNegotiation;
    this.routes = routes;
    this.accessControl = accessControl;
    this.httpIdleTimeout = httpIdleTimeout;
  }

  @Override
  public void userEventTriggered(ChannelHandlerContext ctx, Object event) throws Exception {
    if (event instanceof ProtocolNegotiationEvent pne && negotiation == null) {
      negotiation = pne;
      return;
    }
    super.userEventTriggered(ctx, event);
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    switch (classify(in)) {
      case UNDECIDED -> {}
      case HTTP1 -> toHttp1(ctx);
      case GRPC -> toGrpc(ctx);
    }
  }

  @Override
  protected void decodeLast(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    // The peer closed before saying enough to choose; there is no one left to answer.
    in.skipBytes(in.readableBytes());
  }

  /** Which protocol the first bytes of a connection speak, as far as they tell. */
  static Protocol classify(ByteBuf in) {
    int readable = in.readableBytes();
    boolean couldStillBeHttp1 = false;
    for (byte[] start : REQUEST_LINE_STARTS) {
      int compared = Math.min(readable, start.length);
      if (startsWith(in, start, compared)) {
        if (compared == start.length) {
          return Protocol.HTTP1;
        }
        couldStillBeHttp1 = true;
      }
    }
    return couldStillBeHttp1 ? Protocol.UNDECIDED : Protocol.GRPC;
  }

  private static boolean startsWith(ByteBuf in, byte[] start, int length) {
    int base = in.readerIndex();
    for (int i = 0; i < length; i++) {
      if (in.getByte(base + i) != start[i]) {
        return false;
      }
    }
    return true;
  }

  /**
   * gRPC gets the connection as if this handler had never been there: its negotiation runs on the
   * held event, then the held bytes reach the HTTP/2 handler it installed (the decoder hands its
   * buffer to the next handler when removed).
   */
  private void toGrpc(ChannelHandlerContext ctx) {
    ChannelPipeline pipeline = ctx.pipeline();
    pipeline.addAfter(ctx.name(), null, grpcNegotiation);
    pipeline.addAfter(ctx.name(), null, new Http2PrefaceWatch());
    if (negotiation != null) {
      ctx.fireUserEventTriggered(negotiation);
    }
    // Were the event still to come, it would flow from the head past this handler, removed by then.
    pipeline.remove(this);
  }

  /** The held negotiation event is dropped: no gRPC handler will ever be on this connection. */
  private void toHttp1(ChannelHandlerContext ctx) {
    ChannelPipeline pipeline = ctx.pipeline();
    HttpServerCodec codec = new HttpServerCodec();
    HttpIdleTimeout idle = new HttpIdleTimeout(httpIdleTimeout);
    pipeline.addAfter(ctx.name(), null, codec);
    pipeline.addAfter(pipeline.context(codec).name(), null, idle);
    pipeline.addAfter(
        pipeline.context(idle).name(), null, new HttpRoutesHandler(routes, accessControl));
    // A request line has begun: from here the HTTP/1.1 idle timeout bounds the connection.
    HandshakeDeadline.met(pipeline);
    pipeline.remove(this);
  }
}
