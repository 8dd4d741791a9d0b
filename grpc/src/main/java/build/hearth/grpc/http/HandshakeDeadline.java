package build.hearth.grpc.http;

import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.ChannelPipeline;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes a connection that has not finished its handshake within {@code limits.handshakeTimeout}:
 * the TLS handshake if any, the few bytes the {@link ProtocolSniffer} needs, and then either an
 * HTTP/1.x request line (from there {@link HttpIdleTimeout} watches the connection) or HTTP/2's
 * client preface and first SETTINGS frame ({@link Http2PrefaceWatch}). A client that opens
 * connections and trickles bytes or sends nothing holds no socket past the deadline.
 *
 * <p>Why not grpc-java's own handshake timeout: it ends when grpc's HTTP/2 handler reads the
 * client's SETTINGS, which never happens on an HTTP/1.1 connection of the shared port, so it would
 * close every {@code /metrics} connection that many seconds after it opened, busy or not. The
 * transport turns it off and relies on this handler, which knows both protocols.
 *
 * <p>Placed first by {@link SharedPortNegotiator}; installs the negotiation handler it was given
 * behind itself, and leaves the pipeline when {@link #met} is called. Used on the connection's
 * event loop only.
 */
final class HandshakeDeadline extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(HandshakeDeadline.class);

  private final ChannelHandler next;
  private final Duration timeout;
  private ScheduledFuture<?> timer;

  HandshakeDeadline(ChannelHandler next, Duration timeout) {
    this.next = next;
    this.timeout = timeout;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    ctx.pipeline().addAfter(ctx.name(), null, next);
    timer =
        ctx.executor()
            .schedule(
                () -> {
                  log.debug(
                      "Closing {}: no handshake within {} (limits.handshakeTimeout)",
                      ctx.channel().remoteAddress(),
                      timeout);
                  ctx.close();
                },
                timeout.toMillis(),
                TimeUnit.MILLISECONDS);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    cancel();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    cancel();
    super.channelInactive(ctx);
  }

  private void cancel() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }

  /** The handshake of the connection of {@code pipeline} is complete: its deadline is lifted. */
  static void met(ChannelPipeline pipeline) {
    HandshakeDeadline deadline = pipeline.get(HandshakeDeadline.class);
    if (deadline != null) {
      pipeline.remove(deadline);
    }
  }
}
