package build.hearth.grpc.crossing;

/**
 * A deliberately crossed layer (grpc-core's {@code io.grpc.internal} outside grpc.http and
 * grpc.tls), for LayeringCatchesCrossedLayersTest only.
 */
public final class TransportUsingGrpcCoreInternals {
  private TransportUsingGrpcCoreInternals() {}

  static Object securityLevel() {
    return io.grpc.internal.GrpcAttributes.ATTR_SECURITY_LEVEL;
  }
}
