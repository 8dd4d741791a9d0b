package build.hearth.grpc.security.crossing;

/**
 * A deliberately crossed layer (the access check reaching a service), for
 * LayeringCatchesCrossedLayersTest only.
 */
public final class SecurityUsingAService {
  private SecurityUsingAService() {}

  static Class<?> service() {
    return build.hearth.grpc.reapi.CasService.class;
  }
}
