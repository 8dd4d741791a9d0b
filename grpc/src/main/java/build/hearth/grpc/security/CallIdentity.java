package build.hearth.grpc.security;

import build.hearth.spi.security.Identity;
import io.grpc.Context;
import java.util.Optional;

/**
 * The identity of the caller of the current gRPC call, as {@link AccessInterceptor} established it,
 * carried in the call's {@link Context}. A service reads it with {@link #current()}, for example to
 * tie a worker's results to the identity that registered it.
 */
public final class CallIdentity {
  /** The context key; set on every call that passed the interceptor. */
  public static final Context.Key<Identity> KEY = Context.key("hearth-identity");

  private CallIdentity() {}

  /** {@return the current call's identity, or empty outside a call that passed the interceptor} */
  public static Optional<Identity> current() {
    return Optional.ofNullable(KEY.get());
  }
}
