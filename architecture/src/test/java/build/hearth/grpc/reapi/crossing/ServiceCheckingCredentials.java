package build.hearth.grpc.reapi.crossing;

/**
 * A deliberately crossed layer (a service using the configured access control itself), for
 * LayeringCatchesCrossedLayersTest only.
 */
public final class ServiceCheckingCredentials {
  private ServiceCheckingCredentials() {}

  static Class<?> accessControl() {
    return build.hearth.core.security.ConfiguredAccessControl.class;
  }
}
