package build.hearth.grpc.http;

import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.handler.codec.http.LastHttpContent;
import java.time.Duration;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Closes an HTTP/1.1 connection of the shared port that has not completed a request within {@code
 * limits.httpIdleTimeout} of the previous one (or of becoming HTTP/1.1): idle between requests,
 * trickling one a byte at a time, or not reading the answers. A read-idle timer would not do: a
 * byte every few hundred milliseconds keeps it from ever firing.
 *
 * <p>Sits between the HTTP codec and {@link HttpRoutesHandler}; one instance per connection, used
 * on its event loop only.
 */
final class HttpIdleTimeout extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(HttpIdleTimeout.class);

  private final Duration timeout;
  private ScheduledFuture<?> timer;

  HttpIdleTimeout(Duration timeout) {
    this.timeout = timeout;
  }

  @Override
  public void handlerAdded(ChannelHandlerContext ctx) {
    restart(ctx);
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    boolean requestComplete = msg instanceof LastHttpContent;
    ctx.fireChannelRead(msg);
    if (requestComplete) {
      restart(ctx);
    }
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

  private void restart(ChannelHandlerContext ctx) {
    cancel();
    timer =
        ctx.executor()
            .schedule(
                () -> {
                  log.debug(
                      "Closing HTTP/1.1 connection {}: no complete request for {}"
                          + " (limits.httpIdleTimeout)",
                      ctx.channel().remoteAddress(),
                      timeout);
                  ctx.close();
                },
                timeout.toMillis(),
                TimeUnit.MILLISECONDS);
  }

  private void cancel() {
    if (timer != null) {
      timer.cancel(false);
      timer = null;
    }
  }
}
