package build.hearth.grpc.bytestream;

/**
 * How many WriteRequests a Write stream asks the transport for ahead of the one being processed.
 *
 * <p>Asking ahead lets the transport receive and deframe the next chunks while this one is hashed
 * and stored. Asking in batches saves a hop to the transport's thread for every message, which
 * dominates when chunks are small (Bazel sends 16 KiB). The number asked ahead follows the largest
 * chunk seen so far, aiming at {@link #TARGET_BYTES} between {@link #MIN_MESSAGES} and {@link
 * #MAX_MESSAGES} messages; more is asked for once half of it has arrived. At worst a stream holds
 * {@code MAX_MESSAGES} of the largest message the server accepts.
 */
final class WriteLookahead {
  /** Asked for before the first message, whose size is not known yet. */
  static final int INITIAL_MESSAGES = 8;

  static final int MIN_MESSAGES = 2;
  static final int MAX_MESSAGES = 32;
  static final long TARGET_BYTES = 8L * 1024 * 1024;

  private int outstanding = INITIAL_MESSAGES;
  private long largest;

  /** {@return how many messages to ask for when the stream starts} */
  int initial() {
    return INITIAL_MESSAGES;
  }

  /**
   * Records the arrival of one requested message.
   *
   * @param size the message's data bytes
   * @return how many more messages to ask for now; 0 for none
   */
  int received(int size) {
    outstanding--;
    largest = Math.max(largest, size);
    int target =
        (int) Math.max(MIN_MESSAGES, Math.min(MAX_MESSAGES, TARGET_BYTES / Math.max(1, largest)));
    if (outstanding > target / 2) {
      return 0;
    }
    int more = target - outstanding;
    outstanding = target;
    return more;
  }
}
