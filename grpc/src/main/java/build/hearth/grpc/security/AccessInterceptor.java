package build.hearth.grpc.security;

import build.hearth.api.HearthException;
import build.hearth.spi.security.AccessControl;
import build.hearth.spi.security.Authentication;
import build.hearth.spi.security.Credentials;
import build.hearth.spi.security.Decision;
import build.hearth.spi.security.Identity;
import build.hearth.spi.security.Permission;
import build.hearth.spi.security.Refusal;
import build.hearth.spi.security.RefusalReason;
import io.grpc.Attributes;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Grpc;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.util.Objects;
import java.util.Optional;

/**
 * Authenticates every call and checks its permission before the service sees it. The caller's
 * credentials are the {@code authorization} metadata ({@code Bearer <token>}), the TLS peer
 * certificates ({@link Grpc#TRANSPORT_ATTR_SSL_SESSION}) and the remote address; the permission
 * comes from {@link MethodPermissions}. For a per-instance permission the service is not started
 * until the first request message has arrived and named an instance the identity may use, so a
 * refused call never reaches a service: no upload session, no execution, no worker stream. A first
 * message whose resource name does not parse names no instance; it goes to the service, which
 * refuses it with the same parser and its own message.
 *
 * <p>A caller without credentials that lacks the permission, or with wrong credentials, is refused
 * with {@code UNAUTHENTICATED} saying what to send; an authenticated caller without it with {@code
 * PERMISSION_DENIED} naming the permission, the instance and the identity. Every refusal is
 * reported to {@link AccessControl#refused}. The identity of an accepted call is in its {@link
 * Context} as {@link CallIdentity#KEY}. Thread-safe; one per server.
 */
public final class AccessInterceptor implements ServerInterceptor {
  static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final AccessControl accessControl;

  /**
   * Checks calls with {@code accessControl}.
   *
   * @param accessControl the server's access control
   */
  public AccessInterceptor(AccessControl accessControl) {
    this.accessControl = Objects.requireNonNull(accessControl, "accessControl");
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(
      ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
    String method = call.getMethodDescriptor().getFullMethodName();
    SocketAddress remote = call.getAttributes().get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR);
    Optional<MethodPermissions.Rule> rule = MethodPermissions.of(method);
    if (rule.isEmpty()) {
      String message =
          "the method " + method + " is not in this server's permission table, so it is refused";
      refuse(
          call,
          Status.PERMISSION_DENIED,
          RefusalReason.UNKNOWN_METHOD,
          null,
          null,
          null,
          remote,
          message);
      return new ServerCall.Listener<>() {};
    }
    Permission permission = rule.get().permission();
    Authentication authentication = accessControl.authenticate(credentials(call, headers, remote));
    if (authentication.identity().isEmpty()) {
      RefusalReason reason = authentication.reason().orElseThrow();
      refuse(
          call,
          Status.UNAUTHENTICATED,
          reason,
          permission,
          null,
          null,
          remote,
          authentication.message());
      return new ServerCall.Listener<>() {};
    }
    Identity identity = authentication.identity().get();
    Context context = Context.current().withValue(CallIdentity.KEY, identity);
    if (rule.get().instance() == null) {
      if (!authorize(call, identity, permission, "", remote)) {
        return new ServerCall.Listener<>() {};
      }
      return Contexts.interceptCall(context, call, headers, next);
    }
    return Contexts.interceptCall(
        context,
        call,
        headers,
        (c, h) -> new FirstMessageCheck<>(c, h, next, rule.get(), identity, remote));
  }

  private Credentials credentials(ServerCall<?, ?> call, Metadata headers, SocketAddress remote) {
    Attributes attributes = call.getAttributes();
    Credentials.Builder credentials =
        Credentials.newBuilder()
            .remoteAddress(remote)
            .authorization(headers.get(AUTHORIZATION))
            .tlsSession(attributes.get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
    if (remote != null && !(remote instanceof InetSocketAddress)) {
      credentials.sameProcess(); // grpc-java's in-process transport: a caller in this JVM
    }
    return credentials.build();
  }

  /** Checks the permission; if refused, closes the call and reports it. */
  private boolean authorize(
      ServerCall<?, ?> call,
      Identity identity,
      Permission permission,
      String instance,
      SocketAddress remote) {
    Decision decision = accessControl.authorize(identity, permission, instance);
    if (decision.allowed()) {
      return true;
    }
    RefusalReason reason = decision.reason().orElseThrow();
    Status status = reason.unauthenticated() ? Status.UNAUTHENTICATED : Status.PERMISSION_DENIED;
    refuse(call, status, reason, permission, instance, identity.name(), remote, decision.message());
    return false;
  }

  private void refuse(
      ServerCall<?, ?> call,
      Status status,
      RefusalReason reason,
      Permission permission,
      String instance,
      String identity,
      SocketAddress remote,
      String message) {
    // Counted before the caller hears of it, so that whoever sees the refusal also sees it in the
    // log and in /metrics.
    accessControl.refused(new Refusal(reason, permission, instance, identity, remote, message));
    call.close(status.withDescription(message), new Metadata());
  }

  /**
   * Holds the call back until its first request message names the instance, then checks the
   * permission on it and only then starts the service, handing it that message first. Callbacks
   * arrive serially (gRPC's guarantee), so no field needs a lock.
   */
  private final class FirstMessageCheck<Q, R> extends ServerCall.Listener<Q> {
    private final ServerCall<Q, R> call;
    private final Metadata headers;
    private final ServerCallHandler<Q, R> next;
    private final MethodPermissions.Rule rule;
    private final Identity identity;
    private final SocketAddress remote;
    private ServerCall.Listener<Q> delegate; // set once the call is allowed
    private boolean refused;

    FirstMessageCheck(
        ServerCall<Q, R> call,
        Metadata headers,
        ServerCallHandler<Q, R> next,
        MethodPermissions.Rule rule,
        Identity identity,
        SocketAddress remote) {
      this.call = call;
      this.headers = headers;
      this.next = next;
      this.rule = rule;
      this.identity = identity;
      this.remote = remote;
      call.request(1);
    }

    @Override
    public void onMessage(Q message) {
      if (delegate != null) {
        delegate.onMessage(message);
        return;
      }
      if (refused) {
        release(message);
        return;
      }
      String instance;
      try {
        instance = rule.instance().apply(message);
      } catch (HearthException e) {
        // A name that does not parse names no instance, and the service refuses it with the same
        // parser and its own precise message, touching nothing; so it may see this message.
        start(message);
        return;
      }
      if (!authorize(call, identity, rule.permission(), instance, remote)) {
        refused = true;
        release(message);
        return;
      }
      start(message);
    }

    private void start(Q first) {
      delegate = next.startCall(call, headers);
      delegate.onMessage(first);
    }

    @Override
    public void onHalfClose() {
      if (refused) {
        return;
      }
      if (delegate == null) {
        // No message at all: the service answers that as it would without this check.
        delegate = next.startCall(call, headers);
      }
      delegate.onHalfClose();
    }

    @Override
    public void onCancel() {
      if (delegate != null) {
        delegate.onCancel();
      }
    }

    @Override
    public void onComplete() {
      if (delegate != null) {
        delegate.onComplete();
      }
    }

    @Override
    public void onReady() {
      if (delegate != null) {
        delegate.onReady();
      }
    }

    /** A refused message may hold the transport's receive buffers (a ByteStream write chunk). */
    private void release(Q message) {
      if (message instanceof AutoCloseable closeable) {
        try {
          closeable.close();
        } catch (Exception e) {
          throw new IllegalStateException("releasing a refused message failed", e);
        }
      }
    }
  }
}
