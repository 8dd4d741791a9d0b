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
 * <p>Thread-safe. Arguments are never null. Besides the codes listed on each method, any method may
 * fail with UNAVAILABLE or INTERNAL when the store underneath has I/O trouble.
 *
 * <pre>{@code
 * Optional<ActionResult> hit = actionCache.get(actionDigest);
 * if (hit.isEmpty()) {
 *   ActionResult result = run(action); // upload its outputs to the CAS first
 *   actionCache.put(actionDigest, result);
 * }
 * }</pre>
 */
public interface ActionCache {

  /**
   * Looks up an action's result. An entry that no longer parses is dropped and counts as a miss.
   *
   * @param actionDigest the digest of the {@code Action} message
   * @return the cached result of {@code actionDigest}, or empty on a miss
   */
  Optional<ActionResult> get(Digest actionDigest);

  /**
   * Records {@code result} for {@code actionDigest}, replacing any earlier result.
   *
   * @param actionDigest the digest of the {@code Action} message
   * @param result the outcome to serve to later clients; every blob it references must already be
   *     in the CAS
   * @throws HearthException FAILED_PRECONDITION if a blob the result references is not in the CAS
   */
  void put(Digest actionDigest, ActionResult result);
}
