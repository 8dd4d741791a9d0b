package build.hearth.grpc.tls;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.ChannelFutureListener;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.handler.codec.ByteToMessageDecoder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The first handler of a connection to a TLS port: looks at the first five bytes and puts the
 * {@link SslHandler} in its place when they begin a TLS record, which every TLS client sends first.
 * A plain HTTP/1.x request instead (someone typed {@code http://} for {@code https://}) is answered
 * with a plaintext {@code 400} that says to use {@code https://}, and the connection closed; any
 * other bytes go to the {@link SslHandler} too, whose refusal {@link ServerTlsHandler} logs.
 *
 * <p>One instance per connection; used on its event loop only.
 */
final class TlsRecordCheck extends ByteToMessageDecoder {
  private static final int RECORD_HEADER_BYTES = 5;
  private static final String BODY =
      "this port speaks TLS only; use https:// instead of http:// here\n";
  private static final byte[] ANSWER =
      ("HTTP/1.1 400 Bad Request\r\n"
              + "Content-Type: text/plain; charset=utf-8\r\n"
              + "Connection: close\r\n"
              + "Content-Length: "
              + BODY.length()
              + "\r\n\r\n"
              + BODY)
          .getBytes(StandardCharsets.US_ASCII);

  private final SslContext sslContext;
  private final HandshakeFailures failures;

  TlsRecordCheck(SslContext sslContext, HandshakeFailures failures) {
    this.sslContext = sslContext;
    this.failures = failures;
  }

  @Override
  protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
    if (in.readableBytes() < RECORD_HEADER_BYTES) {
      return;
    }
    if (!SslHandler.isEncrypted(in, false) && isHttpRequestLine(in)) {
      in.skipBytes(in.readableBytes());
      failures.plaintextHttp(ctx.channel().remoteAddress());
      ctx.writeAndFlush(Unpooled.wrappedBuffer(ANSWER)).addListener(ChannelFutureListener.CLOSE);
      ctx.pipeline().remove(this);
      return;
    }
    // The decoder hands the bytes it holds to the SslHandler when it is replaced.
    ctx.pipeline().replace(this, null, sslContext.newHandler(ctx.alloc()));
  }

  /**
   * Upper-case letters and then a space: a method such as {@code GET }, not HTTP/2's {@code PRI}.
   */
  private static boolean isHttpRequestLine(ByteBuf in) {
    int start = in.readerIndex();
    int limit = Math.min(in.readableBytes(), 8);
    for (int i = 0; i < limit; i++) {
      byte b = in.getByte(start + i);
      if (b == ' ') {
        return i > 0 && !in.toString(start, i, StandardCharsets.US_ASCII).equals("PRI");
      }
      if (b < 'A' || b > 'Z') {
        return false;
      }
    }
    return false;
  }
}
