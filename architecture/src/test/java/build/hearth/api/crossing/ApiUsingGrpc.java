package build.hearth.api.crossing;

/** A deliberately crossed layer (api reaching gRPC), for LayeringCatchesCrossedLayersTest only. */
public final class ApiUsingGrpc {
  private ApiUsingGrpc() {}

  static Object status() {
    return io.grpc.Status.OK;
  }
}
