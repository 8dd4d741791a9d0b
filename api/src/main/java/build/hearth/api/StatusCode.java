package build.hearth.api;

/**
 * The outcome of a Hearth operation, numbered exactly as {@code google.rpc.Code} so that every
 * transport can map it one to one.
 *
 * <p>The API and SPI document, on each method, which codes its {@link HearthException}s carry; the
 * notes on the constants below say what each code means to a caller and whether retrying can help.
 */
public enum StatusCode {
  /** Success. Never carried by a {@link HearthException}; used in per-item batch results. */
  OK(0),
  /**
   * The operation was cancelled, usually because the client went away or cancelled an execution.
   */
  CANCELLED(1),
  /** An error with no better code, also what {@link #forValue} returns for unknown numbers. */
  UNKNOWN(2),
  /**
   * The request itself is wrong, whatever the server's state: a malformed digest, bytes that do not
   * match their digest, a bad configuration setting. Retrying the same request cannot succeed.
   */
  INVALID_ARGUMENT(3),
  /** A deadline passed, such as a command running past its timeout. */
  DEADLINE_EXCEEDED(4),
  /** Something asked for by name is absent, such as a blob that is not in the CAS. */
  NOT_FOUND(5),
  /** Something to be created exists already, such as a second worker with a taken name. */
  ALREADY_EXISTS(6),
  /** The caller may not do this, such as writing to a read-only action cache. */
  PERMISSION_DENIED(7),
  /**
   * A limit was reached: a blob larger than a store can hold, or one too large to read into memory.
   */
  RESOURCE_EXHAUSTED(8),
  /**
   * The server is not in the state the request needs, such as blobs an action needs that are not
   * uploaded yet ({@link MissingBlobsException}). Fix the state, then retry.
   */
  FAILED_PRECONDITION(9),
  /** Conflicts with a concurrent operation, such as two streams writing one upload; retryable. */
  ABORTED(10),
  /** A position past the valid range, such as a read offset beyond a blob's size. */
  OUT_OF_RANGE(11),
  /** The server does not offer this operation, or not for this instance. */
  UNIMPLEMENTED(12),
  /** A broken invariant or an unexpected failure inside the server; its log says more. */
  INTERNAL(13),
  /** A transient failure, such as I/O trouble in a store or a port that cannot be bound. */
  UNAVAILABLE(14),
  /** Stored data is lost or damaged, such as a blob whose stored length is wrong. */
  DATA_LOSS(15),
  /** The request carries no valid credentials. */
  UNAUTHENTICATED(16);

  private final int value;

  StatusCode(int value) {
    this.value = value;
  }

  /** {@return the number of the matching {@code google.rpc.Code}, from 0 to 16} */
  public int value() {
    return value;
  }

  /**
   * Maps a {@code google.rpc.Code} number back to its constant. Never throws, so a code from a
   * newer peer degrades to {@link #UNKNOWN} instead of failing.
   *
   * @param value a {@code google.rpc.Code} number
   * @return the code with that number, or {@link #UNKNOWN} if there is none
   */
  public static StatusCode forValue(int value) {
    for (StatusCode code : values()) {
      if (code.value == value) {
        return code;
      }
    }
    return UNKNOWN;
  }
}
