package build.hearth.api;

/**
 * The outcome of a Hearth operation, numbered exactly as {@code google.rpc.Code} so that every
 * transport can map it one to one.
 */
public enum StatusCode {
  OK(0),
  CANCELLED(1),
  UNKNOWN(2),
  INVALID_ARGUMENT(3),
  DEADLINE_EXCEEDED(4),
  NOT_FOUND(5),
  ALREADY_EXISTS(6),
  PERMISSION_DENIED(7),
  RESOURCE_EXHAUSTED(8),
  FAILED_PRECONDITION(9),
  ABORTED(10),
  OUT_OF_RANGE(11),
  UNIMPLEMENTED(12),
  INTERNAL(13),
  UNAVAILABLE(14),
  DATA_LOSS(15),
  UNAUTHENTICATED(16);

  private final int value;

  StatusCode(int value) {
    this.value = value;
  }

  /** The numeric value of the matching {@code google.rpc.Code}. */
  public int value() {
    return value;
  }

  /** The code with the given {@code google.rpc.Code} number, or {@link #UNKNOWN}. */
  public static StatusCode forValue(int value) {
    for (StatusCode code : values()) {
      if (code.value == value) {
        return code;
      }
    }
    return UNKNOWN;
  }
}
