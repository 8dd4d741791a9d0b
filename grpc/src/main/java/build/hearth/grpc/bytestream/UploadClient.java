package build.hearth.grpc.bytestream;

import build.hearth.spi.security.Identity;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Optional;

/**
 * Who an upload counts against for {@code limits.maxUploadSessionsPerClient}: the caller's identity
 * when it presented credentials (a token, a JWT or a certificate), else the IP address it connects
 * from. The address, not the port, so that a client does not gain sessions by opening more
 * connections; and not the loopback or anonymous identity, which every unauthenticated client
 * shares and which would make one client's uploads lock out the others.
 */
final class UploadClient {
  /** The peer's address, put in the call's context by {@link #capture}. */
  private static final Context.Key<SocketAddress> REMOTE = Context.key("hearth-upload-peer");

  private UploadClient() {}

  /** Wraps {@code handler} so that its calls can name their client with {@link #current()}. */
  static <Q, R> ServerCallHandler<Q, R> capture(ServerCallHandler<Q, R> handler) {
    return (ServerCall<Q, R> call, Metadata headers) ->
        Contexts.interceptCall(
            Context.current()
                .withValue(REMOTE, call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR)),
            call,
            headers,
            handler);
  }

  /**
   * {@return the current call's client, as {@code kind:name} or {@code address:ip}}
   *
   * @param caller the call's identity, as the transport's access check established it (the
   *     transport passes it in, so that this package does not depend on the one that checks
   *     credentials, which itself reads ByteStream's resource names)
   */
  static String current(Optional<Identity> caller) {
    Identity identity = caller.orElse(null);
    if (identity != null
        && identity.hasCredentials()
        && identity.kind() != Identity.Kind.LOOPBACK) {
      return identity.kind().name().toLowerCase(java.util.Locale.ROOT) + ":" + identity.name();
    }
    SocketAddress remote = REMOTE.get();
    if (remote instanceof InetSocketAddress inet) {
      return "address:"
          + (inet.getAddress() != null ? inet.getAddress().getHostAddress() : inet.getHostString());
    }
    // In-process calls have a named address; all of them are this JVM, one client.
    return remote == null ? "address:unknown" : "address:" + remote;
  }
}
