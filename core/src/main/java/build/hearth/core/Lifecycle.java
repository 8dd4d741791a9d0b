package build.hearth.core;

/**
 * Whether a {@link Hearth} is still open, checked at the top of every call through its views, so
 * that a call after {@link Hearth#close()} is the caller's mistake it is: an {@link
 * IllegalStateException} naming the instance, not a store's UNAVAILABLE, which a client would take
 * for a reason to retry.
 *
 * <p>Thread-safe.
 */
final class Lifecycle {
  private final String name;
  private volatile boolean closed;

  Lifecycle(String name) {
    this.name = name;
  }

  String name() {
    return name;
  }

  /** Marks the instance closed; returns whether it was open until now. */
  synchronized boolean close() {
    boolean wasOpen = !closed;
    closed = true;
    return wasOpen;
  }

  boolean isClosed() {
    return closed;
  }

  /**
   * @throws IllegalStateException if the instance is closed
   */
  void checkOpen() {
    if (closed) {
      throw new IllegalStateException(
          "Hearth instance '"
              + name
              + "' is closed; build a new instance (Hearth.newBuilder()) to use its stores again");
    }
  }
}
