package build.hearth.api;

import build.bazel.remote.execution.v2.ActionResult;
import java.util.Optional;

/**
 * Results of earlier actions, keyed by the {@link Digest} of the {@code Action} message.
 *
 * <p>A result is returned only while every blob it references (output files, output directory
 * trees, stdout and stderr) is still in the content-addressable store; otherwise the lookup is a
 * miss, so a client never receives a result it cannot download.
 *
 * <p>Thread-safe. Arguments are never null.
 */
public interface ActionCache {

  /** The cached result of {@code actionDigest}, or empty on a miss. */
  Optional<ActionResult> get(Digest actionDigest);

  /**
   * Records {@code result} for {@code actionDigest}.
   *
   * @throws HearthException FAILED_PRECONDITION if a blob the result references is not in the CAS
   */
  void put(Digest actionDigest, ActionResult result);
}
