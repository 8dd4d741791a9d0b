package build.hearth.agent.crossing;

/**
 * A deliberately crossed layer (the remote worker's client reaching the server-side transport), for
 * LayeringCatchesCrossedLayersTest only.
 */
public final class AgentUsingTheServerSide {
  private AgentUsingTheServerSide() {}

  static Object transport() {
    return new build.hearth.grpc.GrpcTransportProvider();
  }
}
