package build.hearth.grpc.http;

import build.hearth.spi.security.AccessControl;
import build.hearth.spi.security.Authentication;
import build.hearth.spi.security.Credentials;
import build.hearth.spi.security.Decision;
import build.hearth.spi.security.Identity;
import build.hearth.spi.security.Permission;
import build.hearth.spi.security.Refusal;
import build.hearth.spi.security.RefusalReason;
import build.hearth.spi.transport.HttpRoutes;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.ChannelFuture;
import io.grpc.netty.shaded.io.netty.channel.ChannelFutureListener;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.grpc.netty.shaded.io.netty.handler.codec.http.FullHttpResponse;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpContent;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpHeaderNames;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpHeaderValues;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpMethod;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpRequest;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpResponseStatus;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpUtil;
import io.grpc.netty.shaded.io.netty.handler.codec.http.HttpVersion;
import io.grpc.netty.shaded.io.netty.handler.codec.http.LastHttpContent;
import io.grpc.netty.shaded.io.netty.handler.codec.http.QueryStringDecoder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslHandler;
import io.grpc.netty.shaded.io.netty.util.ReferenceCountUtil;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import javax.net.ssl.SSLSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers the HTTP/1.1 requests of one connection from {@link HttpRoutes}: {@code GET} and {@code
 * HEAD} are routed, 404 for a path no route serves, 405 for other methods, 400 for a request the
 * codec could not read. Connections are kept alive unless the client or an error says otherwise;
 * pipelined requests are answered in order because each is answered before the next is read.
 *
 * <p>Each request is checked with the server's {@link AccessControl} before it is routed: {@code
 * /healthz} and {@code /readyz} need nothing, {@code /metrics} needs {@code metrics}, every other
 * path {@code admin}. The caller's credentials are its {@code authorization: Bearer} header, the
 * TLS peer certificates of the connection's {@link SslHandler} and its remote address. A caller
 * without credentials is answered 401 with {@code WWW-Authenticate: Bearer}, wrong credentials
 * likewise, and an identity without the permission 403, each with a one-line reason. Paths whose
 * routes {@linkplain HttpRoutes#checksAccess check access} themselves (the web UI, per instance)
 * need only an authenticated caller here; the routes are handed a {@link HttpRoutes.Caller} that
 * asks the access control for each permission.
 *
 * <p>Routes run on the connection's event loop, as {@link HttpRoutes} allows, except those that
 * name a {@linkplain HttpRoutes#blockingExecutor blocking executor} for their path: the access
 * check still runs here, the route runs on that executor, and the answer is written back on the
 * event loop. Until it is, the connection reads nothing more and holds the requests the codec had
 * already decoded, so one connection has at most one route running and its pipelined answers stay
 * in order, while the event loop goes on serving every other connection ({@code /readyz} and {@code
 * /metrics} included). An executor that refuses the task is answered {@code 503} with {@code
 * Retry-After}.
 *
 * <p>One instance per connection; its state is used on the connection's event loop only.
 */
final class HttpRoutesHandler extends ChannelInboundHandlerAdapter {
  private static final Logger log = LoggerFactory.getLogger(HttpRoutesHandler.class);
  private static final String TEXT = "text/plain; charset=utf-8";

  /** The seconds a 503 for a full blocking executor asks the client to wait. */
  static final String RETRY_AFTER_SECONDS = "1";

  private final HttpRoutes routes;
  private final AccessControl accessControl;
  private HttpRequest pending; // a GET or HEAD whose end has not been read yet
  private boolean closing; // an answer that closes the connection was sent; ignore the rest
  private boolean routing; // a route runs on a blocking executor; hold what is read meanwhile
  // Messages the codec decoded while a route was running, in order; at most what one read held.
  private final ArrayDeque<Object> held = new ArrayDeque<>();

  HttpRoutesHandler(HttpRoutes routes, AccessControl accessControl) {
    this.routes = routes;
    this.accessControl = accessControl;
  }

  @Override
  public void channelRead(ChannelHandlerContext ctx, Object msg) {
    if (routing && !closing) {
      held.addLast(msg); // released when it is read, after the running route's answer
      return;
    }
    try {
      if (!closing) {
        read(ctx, msg);
      }
    } finally {
      ReferenceCountUtil.release(msg);
    }
  }

  private void read(ChannelHandlerContext ctx, Object msg) {
    if (msg instanceof HttpRequest request) {
      if (request.decoderResult().isFailure()) {
        badRequest(ctx, request.decoderResult().cause());
        return;
      }
      HttpMethod method = request.method();
      if (!method.equals(HttpMethod.GET) && !method.equals(HttpMethod.HEAD)) {
        // Answered now and closed, so a body of any size need not be read.
        FullHttpResponse response =
            text(
                request.protocolVersion(),
                HttpResponseStatus.METHOD_NOT_ALLOWED,
                method + " is not served here; this port answers HTTP GET and HEAD only\n");
        response.headers().set(HttpHeaderNames.ALLOW, "GET, HEAD");
        sendAndClose(ctx, response);
        return;
      }
      pending = request;
    }
    if (msg instanceof HttpContent content) {
      if (content.decoderResult().isFailure()) {
        badRequest(ctx, content.decoderResult().cause());
        return;
      }
      if (msg instanceof LastHttpContent && pending != null) {
        HttpRequest request = pending;
        pending = null;
        answer(ctx, request);
      }
    }
  }

  private void answer(ChannelHandlerContext ctx, HttpRequest request) {
    HttpVersion version = request.protocolVersion();
    String path;
    String query;
    try {
      QueryStringDecoder uri = new QueryStringDecoder(originForm(request.uri()));
      path = uri.path();
      query = uri.rawQuery();
    } catch (IllegalArgumentException e) {
      badRequest(ctx, e);
      return;
    }
    HttpRoutes.Caller caller = null;
    if (routes.checksAccess(path)) {
      Authentication authentication = accessControl.authenticate(credentials(ctx, request));
      if (authentication.identity().isEmpty()) {
        send(ctx, request, unauthenticated(ctx, version, authentication));
        return;
      }
      caller = caller(authentication.identity().get());
    } else {
      Optional<FullHttpResponse> refusal = check(ctx, request, path);
      if (refusal.isPresent()) {
        send(ctx, request, refusal.get());
        return;
      }
    }
    Optional<Executor> blocking = routes.blockingExecutor(path);
    if (blocking.isEmpty()) {
      send(ctx, request, route(version, path, query, caller));
      return;
    }
    HttpRoutes.Caller checked = caller;
    routing = true;
    updateAutoRead(ctx);
    try {
      blocking
          .get()
          .execute(
              () -> {
                FullHttpResponse response;
                try {
                  response = route(version, path, query, checked);
                } catch (Error e) {
                  // The connection must not wait for an answer that will never come.
                  routed(
                      ctx,
                      request,
                      text(
                          version,
                          HttpResponseStatus.INTERNAL_SERVER_ERROR,
                          "answering GET " + path + " failed: " + e + "\n"));
                  throw e;
                }
                routed(ctx, request, response);
              });
    } catch (RejectedExecutionException e) {
      routing = false;
      updateAutoRead(ctx);
      FullHttpResponse busy =
          text(
              version,
              HttpResponseStatus.SERVICE_UNAVAILABLE,
              "the server is busy answering other pages; try again in a moment\n");
      busy.headers().set(HttpHeaderNames.RETRY_AFTER, RETRY_AFTER_SECONDS);
      send(ctx, request, busy);
    }
  }

  /**
   * Called on the blocking executor with a route's answer: writes it on the event loop, then reads
   * on what the connection sent meanwhile.
   */
  private void routed(ChannelHandlerContext ctx, HttpRequest request, FullHttpResponse response) {
    try {
      ctx.executor()
          .execute(
              () -> {
                routing = false;
                if (closing || !ctx.channel().isActive()) {
                  ReferenceCountUtil.release(response);
                  releaseHeld();
                  return;
                }
                send(ctx, request, response);
                readHeld(ctx);
                updateAutoRead(ctx);
              });
    } catch (RejectedExecutionException e) {
      ReferenceCountUtil.release(response); // the event loop is shutting down with its channels
    }
  }

  /** Reads the messages held while a route ran, until another route runs or the connection ends. */
  private void readHeld(ChannelHandlerContext ctx) {
    while (!routing && !held.isEmpty()) {
      Object msg = held.removeFirst();
      try {
        if (!closing) {
          read(ctx, msg);
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }
    if (closing) {
      releaseHeld();
    }
  }

  private void releaseHeld() {
    while (!held.isEmpty()) {
      ReferenceCountUtil.release(held.removeFirst());
    }
  }

  /**
   * Reads while the client takes the answers and no route runs: a client that sends requests
   * without reading the answers must not fill this server's memory, and a running route's later
   * requests wait in the socket, not here.
   */
  private void updateAutoRead(ChannelHandlerContext ctx) {
    ctx.channel().config().setAutoRead(ctx.channel().isWritable() && !routing);
  }

  /** Writes an answer, with its length, and keeps the connection open if the request asked. */
  private void send(ChannelHandlerContext ctx, HttpRequest request, FullHttpResponse response) {
    HttpVersion version = request.protocolVersion();
    response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
    if (request.method().equals(HttpMethod.HEAD)) {
      // The length stays that of the body a GET would get, as HEAD requires.
      response.content().clear();
    }
    boolean keepAlive = HttpUtil.isKeepAlive(request);
    if (!keepAlive) {
      sendAndClose(ctx, response);
    } else {
      if (version.equals(HttpVersion.HTTP_1_0)) {
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
      }
      ctx.writeAndFlush(response, ctx.voidPromise());
    }
  }

  /** What a path needs: nothing for the health routes, {@code metrics}, or else {@code admin}. */
  static Optional<Permission> permissionFor(String path) {
    return switch (path) {
      case "/healthz", "/readyz" -> Optional.empty();
      case "/metrics" -> Optional.of(Permission.METRICS);
      default -> Optional.of(Permission.ADMIN);
    };
  }

  /** The refusal to send instead of routing, if the caller may not read {@code path}. */
  private Optional<FullHttpResponse> check(
      ChannelHandlerContext ctx, HttpRequest request, String path) {
    Optional<Permission> needed = permissionFor(path);
    if (needed.isEmpty()) {
      return Optional.empty();
    }
    Permission permission = needed.get();
    Authentication authentication = accessControl.authenticate(credentials(ctx, request));
    RefusalReason reason;
    String message;
    String identity = null;
    if (authentication.identity().isEmpty()) {
      reason = authentication.reason().orElseThrow();
      message = authentication.message();
    } else {
      identity = authentication.identity().get().name();
      Decision decision = accessControl.authorize(authentication.identity().get(), permission, "");
      if (decision.allowed()) {
        return Optional.empty();
      }
      reason = decision.reason().orElseThrow();
      message = decision.message();
    }
    accessControl.refused(
        new Refusal(reason, permission, null, identity, ctx.channel().remoteAddress(), message));
    FullHttpResponse response =
        text(
            request.protocolVersion(),
            reason.unauthenticated()
                ? HttpResponseStatus.UNAUTHORIZED
                : HttpResponseStatus.FORBIDDEN,
            message.replace('\n', ' ') + "\n");
    if (reason.unauthenticated()) {
      response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"hearth\"");
    }
    return Optional.of(response);
  }

  /**
   * The 401 for a path whose routes check permissions themselves, when the caller does not
   * authenticate; logged and counted under the permission every such page needs at least.
   */
  private FullHttpResponse unauthenticated(
      ChannelHandlerContext ctx, HttpVersion version, Authentication authentication) {
    RefusalReason reason = authentication.reason().orElseThrow();
    accessControl.refused(
        new Refusal(
            reason,
            Permission.READ,
            null,
            null,
            ctx.channel().remoteAddress(),
            authentication.message()));
    FullHttpResponse response =
        text(
            version,
            HttpResponseStatus.UNAUTHORIZED,
            authentication.message().replace('\n', ' ') + "\n");
    response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"hearth\"");
    return response;
  }

  /** What an authenticated identity may see, asked by routes that check access themselves. */
  private HttpRoutes.Caller caller(Identity identity) {
    boolean anonymous = identity.kind() == Identity.Kind.ANONYMOUS;
    return new HttpRoutes.Caller() {
      @Override
      public boolean allowed(Permission permission, String instance) {
        return accessControl.authorize(identity, permission, instance).allowed();
      }

      @Override
      public boolean authenticated() {
        return !anonymous;
      }
    };
  }

  private Credentials credentials(ChannelHandlerContext ctx, HttpRequest request) {
    return Credentials.newBuilder()
        .remoteAddress(ctx.channel().remoteAddress())
        .authorization(request.headers().get(HttpHeaderNames.AUTHORIZATION))
        .tlsSession(tlsSession(ctx))
        .build();
  }

  /** The connection's TLS session, or null on a plaintext connection. */
  private static SSLSession tlsSession(ChannelHandlerContext ctx) {
    SslHandler ssl = ctx.pipeline().get(SslHandler.class);
    return ssl == null ? null : ssl.engine().getSession();
  }

  /**
   * Answers from the routes; {@code caller} is null for paths the transport checked itself. Runs on
   * the event loop or on the route's blocking executor, so it touches no state of this handler.
   */
  private FullHttpResponse route(
      HttpVersion version, String path, String query, HttpRoutes.Caller caller) {
    FullHttpResponse response;
    try {
      Optional<HttpRoutes.Response> routed =
          caller == null ? routes.get(path, query) : routes.get(path, query, caller);
      if (routed.isEmpty()) {
        response = text(version, HttpResponseStatus.NOT_FOUND, "not found: " + path + "\n");
      } else {
        HttpRoutes.Response found = routed.get();
        response =
            new DefaultFullHttpResponse(
                version,
                HttpResponseStatus.valueOf(found.status()),
                Unpooled.wrappedBuffer(found.body()));
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, found.contentType());
        if (found.status() == 401) {
          response.headers().set(HttpHeaderNames.WWW_AUTHENTICATE, "Bearer realm=\"hearth\"");
        }
      }
    } catch (RuntimeException e) {
      log.warn("Answering GET {} failed", path, e);
      response =
          text(
              version,
              HttpResponseStatus.INTERNAL_SERVER_ERROR,
              "answering GET " + path + " failed: " + e + "\n");
    }
    return response;
  }

  /** Proxies and some tools send {@code http://host:port/path}; routes see {@code /path}. */
  private static String originForm(String uri) {
    int scheme = uri.indexOf("://");
    if (scheme < 0 || uri.startsWith("/")) {
      return uri;
    }
    int path = uri.indexOf('/', scheme + 3);
    return path < 0 ? "/" : uri.substring(path);
  }

  private void badRequest(ChannelHandlerContext ctx, Throwable cause) {
    String reason = cause == null || cause.getMessage() == null ? "" : ": " + cause.getMessage();
    log.debug("Unreadable HTTP request from {}", ctx.channel().remoteAddress(), cause);
    sendAndClose(
        ctx,
        text(HttpVersion.HTTP_1_1, HttpResponseStatus.BAD_REQUEST, "bad request" + reason + "\n"));
  }

  private void sendAndClose(ChannelHandlerContext ctx, FullHttpResponse response) {
    closing = true;
    pending = null;
    response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
    ChannelFuture written = ctx.writeAndFlush(response);
    written.addListener(ChannelFutureListener.CLOSE);
  }

  private static FullHttpResponse text(
      HttpVersion version, HttpResponseStatus status, String body) {
    FullHttpResponse response =
        new DefaultFullHttpResponse(
            version, status, Unpooled.wrappedBuffer(body.getBytes(StandardCharsets.UTF_8)));
    response.headers().set(HttpHeaderNames.CONTENT_TYPE, TEXT);
    response.headers().setInt(HttpHeaderNames.CONTENT_LENGTH, response.content().readableBytes());
    return response;
  }

  @Override
  public void channelWritabilityChanged(ChannelHandlerContext ctx) {
    // A client that sends requests without reading the answers must not fill this server's memory:
    // stop reading until the answers drain. Nothing else reads on this connection.
    updateAutoRead(ctx);
    ctx.fireChannelWritabilityChanged();
  }

  @Override
  public void channelInactive(ChannelHandlerContext ctx) throws Exception {
    releaseHeld();
    super.channelInactive(ctx);
  }

  @Override
  public void handlerRemoved(ChannelHandlerContext ctx) {
    releaseHeld();
  }

  @Override
  public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
    log.debug("HTTP connection from {} failed", ctx.channel().remoteAddress(), cause);
    ctx.close();
  }
}
