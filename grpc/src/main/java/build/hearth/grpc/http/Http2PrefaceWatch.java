package build.hearth.grpc.http;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;

/**
 * Watches the bytes in front of grpc's HTTP/2 handler, without touching them, until HTTP/2's
 * handshake is complete: the 24-byte client preface and the whole first frame (a SETTINGS frame, or
 * grpc closes the connection). Then it lifts the connection's {@link HandshakeDeadline} and leaves
 * the pipeline. One instance per connection; used on its event loop only.
 */
final class Http2PrefaceWatch extends ChannelInboundHandlerAdapter {
  private static final int PREFACE_BYTES = 24;
  private static final int FRAME_HEADER_BYTES = 9;

  private final byte[] lengthBytes = new byte[3]; // the first frame's 24-bit payload length
  private long seen;

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof ByteBuf buf) {
      int base = buf.readerIndex();
      int readable = buf.readableBytes();
      for (int i = 0; i < readable && seen + i < PREFACE_BYTES + lengthBytes.length; i++) {
        long at = seen + i;
        if (at >= PREFACE_BYTES) {
          lengthBytes[(int) (at - PREFACE_BYTES)] = buf.getByte(base + i);
        }
      }
      seen += readable;
      if (seen >= PREFACE_BYTES + FRAME_HEADER_BYTES && seen >= handshakeBytes()) {
        HandshakeDeadline.met(ctx.pipeline());
        ctx.pipeline().remove(this);
      }
    }
    ctx.fireChannelRead(msg);
  }

  /** The preface and the first frame, header and payload. */
  private long handshakeBytes() {
    int length =
        (lengthBytes[0] & 0xff) << 16 | (lengthBytes[1] & 0xff) << 8 | (lengthBytes[2] & 0xff);
    return PREFACE_BYTES + FRAME_HEADER_BYTES + length;
  }
}
