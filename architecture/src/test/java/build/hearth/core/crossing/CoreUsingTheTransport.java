package build.hearth.core.crossing;

/** A deliberately crossed layer (core reaching grpc), for LayeringCatchesCrossedLayersTest only. */
public final class CoreUsingTheTransport {
  private CoreUsingTheTransport() {}

  static Object transport() {
    return new build.hearth.grpc.GrpcTransportProvider();
  }
}
