package build.hearth.api;

import java.util.Collection;
import java.util.List;

/**
 * A {@link StatusCode#FAILED_PRECONDITION} saying that blobs a request needs are not in the
 * content-addressable store, and which ones: the client uploads them and tries again. A transport
 * may turn {@link #missing()} into structured details, as REAPI asks of Execute (a {@code
 * PreconditionFailure} with one violation of type {@code MISSING} per blob).
 *
 * <p>Immutable and thread-safe.
 */
public class MissingBlobsException extends HearthException {
  private static final long serialVersionUID = 1L;

  // Digest is not serializable; a deserialized exception keeps its message but lists no blobs.
  private final transient List<Digest> missing;

  /**
   * A failed precondition naming the absent blobs.
   *
   * @param message names the blobs and what they are, for a person
   * @param missing the blobs that are absent; at least one
   * @throws IllegalArgumentException if {@code missing} is empty
   */
  public MissingBlobsException(String message, Collection<Digest> missing) {
    super(StatusCode.FAILED_PRECONDITION, message);
    this.missing = List.copyOf(missing);
    if (this.missing.isEmpty()) {
      throw new IllegalArgumentException("a MissingBlobsException needs at least one blob");
    }
  }

  /**
   * {@return the absent blobs, in the order the message names them; empty only for an exception
   * that was serialized and read back, since {@link Digest} is not serializable}
   */
  public List<Digest> missing() {
    return missing == null ? List.of() : missing;
  }
}
