package build.hearth.grpc.reapi;

import build.bazel.remote.execution.v2.DigestFunction;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;

/** Checks of request fields that every service shares, with errors naming the field. */
final class Requests {
  private Requests() {}

  /**
   * Converts a digest from a request.
   *
   * @param field the field's path in the request, such as {@code blob_digests[3]}
   * @throws HearthException INVALID_ARGUMENT naming {@code field} if the digest is malformed
   */
  static Digest digest(build.bazel.remote.execution.v2.Digest proto, String field) {
    try {
      return Digest.fromProto(proto);
    } catch (HearthException e) {
      throw HearthException.invalidArgument("%s: %s", field, e.getMessage());
    }
  }

  /** Refuses any digest function but SHA-256 (UNKNOWN means the client did not say). */
  static void checkDigestFunction(DigestFunction.Value function) {
    if (function != DigestFunction.Value.UNKNOWN && function != DigestFunction.Value.SHA256) {
      throw HearthException.invalidArgument(
          "digest_function %s is not supported; this server uses SHA256 only, as its"
              + " capabilities say",
          function);
    }
  }
}
