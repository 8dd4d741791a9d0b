package build.hearth.grpc.tls.crossing;

/**
 * A deliberately crossed layer (grpc.tls reaching the shared port's negotiator in grpc.http), for
 * LayeringCatchesCrossedLayersTest only.
 */
public final class TlsUsingTheSharedPort {
  private TlsUsingTheSharedPort() {}

  static Class<?> negotiator() {
    return build.hearth.grpc.http.SharedPortNegotiator.class;
  }
}
