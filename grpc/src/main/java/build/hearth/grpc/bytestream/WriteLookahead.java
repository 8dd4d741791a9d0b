package build.hearth.grpc.bytestream;

import java.util.ArrayDeque;

/**
 * What one Write stream asks the transport for ahead of the WriteRequest being stored, counted in
 * bytes.
 *
 * <p>Asking ahead lets the transport receive and deframe the next chunks while this one is hashed
 * and stored; asking without a hop to the transport's thread per message matters when chunks are
 * small (Bazel sends 16 KiB). A message's size is known only once the transport has deframed it,
 * and a message asked for may be as large as the inbound message limit, so this asks for <em>one
 * message at a time</em>, but from the transport's own thread as soon as the previous one is
 * deframed ({@link WriteLookaheads}' stream tracer calls {@link #deframed}), which costs no hop.
 * Deframed messages wait, in order, for the service's thread; their bytes are {@linkplain #queued()
 * queued} until {@link #processed} is called after storing them.
 *
 * <p>The next message is asked for when none is asked for already and either the queue is empty (so
 * that every stream always makes progress) or the queue holds less than the stream's budget ({@code
 * limits.writeLookaheadBytes}) and all Write streams of the server together hold less than the
 * server's ({@code limits.maxWriteLookaheadBytes}). The service's thread, which costs a hop, asks
 * only once the queue has drained below half the stream's budget, so a stream whose client is
 * faster than its store does not hop for every message.
 *
 * <p><b>Worst case.</b> With {@code B = writeLookaheadBytes} and {@code M} the inbound message
 * limit (the larger of 16 MiB and twice the server's {@code maxBatchSize}): one stream holds less
 * than {@code B + M + 256} bytes of received WriteRequests (counted with their overhead), the one
 * being stored included, because it asks for a message only while it holds less than {@code B} and
 * at most one message is asked for and not yet received. Each message counts {@link
 * #MESSAGE_OVERHEAD} bytes more than its size, so empty messages are bounded too (at most {@code B
 * / 256} queued). All streams of a server together hold less than {@code maxWriteLookaheadBytes}
 * plus {@code M + 256} per open Write stream. Bytes the transport has received but not yet deframed
 * are HTTP/2 flow control's, not this class's: at most one flow-control window per stream.
 *
 * <p>Thread-safe: the transport's thread and the service's call it, each briefly under this
 * object's monitor (no I/O under it); the caller asks the transport for the message after the call
 * returns.
 */
final class WriteLookahead {
  /**
   * What each queued message costs beyond its bytes (grpc-java's buffers and queue entries), so
   * that a flood of empty WriteRequests is bounded by the budget too.
   */
  static final int MESSAGE_OVERHEAD = 256;

  private final long budget;
  private final WriteLookaheads server;
  private final boolean tracked;

  /** The sizes of the messages deframed and not yet processed, oldest first. */
  private final ArrayDeque<Integer> sizes = new ArrayDeque<>();

  private long queued;
  private boolean asked;
  private boolean ended;

  // For tests: what this stream held at most, and who asked.
  private long mostQueued;
  private int askedByTransport;
  private int askedByService;

  /**
   * @param tracked whether the transport reports deframed messages through {@link #deframed};
   *     without it (the in-process transport) the service reports each one when it arrives
   */
  WriteLookahead(long budget, WriteLookaheads server, boolean tracked) {
    this.budget = budget;
    this.server = server;
    this.tracked = tracked;
  }

  /** Whether the transport's thread reports deframed messages. */
  boolean tracked() {
    return tracked;
  }

  /** Called as the stream starts; the caller asks for the first message, of unknown size. */
  synchronized void start() {
    asked = true;
    askedByService++;
  }

  /**
   * Records that the transport deframed the message asked for.
   *
   * @param size the message's size on the wire; it is charged {@link #MESSAGE_OVERHEAD} more
   * @return whether to ask for one more message now
   */
  synchronized boolean deframed(long size) {
    asked = false;
    if (ended) {
      return false;
    }
    long charged = size + MESSAGE_OVERHEAD;
    sizes.addLast((int) charged);
    queued += charged;
    mostQueued = Math.max(mostQueued, queued);
    server.add(charged);
    boolean more = askAhead(budget);
    if (more && tracked) {
      askedByTransport++;
    } else if (more) {
      askedByService++;
    }
    return more;
  }

  /**
   * Records that the oldest deframed message was stored (or ignored) by the service.
   *
   * @return whether to ask for one more message now
   */
  synchronized boolean processed() {
    Integer size = sizes.pollFirst();
    if (size != null) {
      queued -= size;
      server.add(-size);
    }
    boolean more = askAhead(budget / 2);
    if (more) {
      askedByService++;
    }
    return more;
  }

  /** Releases what the stream holds from the server's total; nothing is asked for after this. */
  synchronized void end() {
    if (ended) {
      return;
    }
    ended = true;
    server.add(-queued);
    queued = 0;
    sizes.clear();
  }

  private boolean askAhead(long threshold) {
    if (asked || ended) {
      return false;
    }
    boolean more = sizes.isEmpty() || (queued < threshold && server.held() < server.budget());
    asked = more;
    return more;
  }

  /** {@return the bytes deframed and not yet processed, with each message's overhead} */
  synchronized long queued() {
    return queued;
  }

  /** {@return the most bytes this stream ever had deframed and not yet processed} */
  synchronized long mostQueued() {
    return mostQueued;
  }

  /** {@return how often the transport's thread asked for a message (no hop)} */
  synchronized int askedByTransport() {
    return askedByTransport;
  }

  /** {@return how often the service's thread asked for a message (a hop each)} */
  synchronized int askedByService() {
    return askedByService;
  }
}
