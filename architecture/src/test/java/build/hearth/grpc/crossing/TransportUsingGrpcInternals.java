package build.hearth.grpc.crossing;

/**
 * A deliberately crossed layer (grpc-java's {@code @Internal} API outside grpc.http), for
 * LayeringCatchesCrossedLayersTest only.
 */
public final class TransportUsingGrpcInternals {
  private TransportUsingGrpcInternals() {}

  static Class<?> internals() {
    return io.grpc.netty.shaded.io.grpc.netty.InternalNettyServerCredentials.class;
  }
}
