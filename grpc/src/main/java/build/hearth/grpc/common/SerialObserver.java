package build.hearth.grpc.common;

import io.grpc.stub.StreamObserver;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Lets many threads send on one gRPC stream, whose {@link StreamObserver} is not thread-safe.
 *
 * <p>Senders only enqueue; whichever thread finds the queue idle drains it, so messages go out one
 * at a time, in the order they were enqueued, and no thread ever waits for another (no lock is held
 * while gRPC serializes a message). After the first {@link #onError} or {@link #onCompleted}, later
 * messages are dropped: the stream is over and whoever sent them learns that from {@link
 * #isClosed()}.
 *
 * <p>A sender created {@linkplain #held held} queues messages without sending them until {@link
 * #release} puts a first message in front; the worker API uses that so that {@code Registered}
 * precedes assignments the scheduler makes while the worker is still being registered.
 */
public final class SerialObserver<T> {
  private static final Logger log = LoggerFactory.getLogger(SerialObserver.class);

  /** The end of the stream, queued like a message; {@code error} null means completed. */
  private record End(Throwable error) {}

  /** A message made only when its turn comes; see {@link #onNextLatest}. */
  private record Deferred<T>(Supplier<? extends T> message) {}

  private final StreamObserver<T> target;
  private final ConcurrentLinkedDeque<Object> queue = new ConcurrentLinkedDeque<>();

  /** Work in progress: non-zero while some thread drains; counts the enqueues it must look at. */
  private final AtomicInteger wip;

  private final AtomicBoolean closed = new AtomicBoolean();
  private final AtomicBoolean held;
  private boolean ended; // touched only by the draining thread

  private SerialObserver(StreamObserver<T> target, boolean held) {
    this.target = target;
    this.wip = new AtomicInteger(held ? 1 : 0);
    this.held = new AtomicBoolean(held);
  }

  /**
   * {@return a sender that sends at once}
   *
   * @param <T> the messages' type
   * @param target the observer the messages go to
   */
  public static <T> SerialObserver<T> of(StreamObserver<T> target) {
    return new SerialObserver<>(target, false);
  }

  /**
   * {@return a sender that queues until {@link #release}}
   *
   * @param <T> the messages' type
   * @param target the observer the messages go to
   */
  public static <T> SerialObserver<T> held(StreamObserver<T> target) {
    return new SerialObserver<>(target, true);
  }

  /**
   * Queues {@code message}.
   *
   * @param message the message to send
   * @return false if the stream is already ending, in which case the message is dropped
   */
  public boolean onNext(T message) {
    if (closed.get()) {
      return false;
    }
    queue.offer(message);
    drain();
    return true;
  }

  /**
   * Queues a message that {@code message} makes when its turn comes, on the sending thread, after
   * the messages queued before; if it returns null, nothing is sent. For state of which only the
   * latest matters: the message reflects the state at sending time, so updates made while it waits
   * in the queue need no message of their own.
   *
   * @param message makes the message to send, or returns null for none
   * @return false if the stream is already ending, in which case nothing is queued
   */
  public boolean onNextLatest(Supplier<? extends T> message) {
    if (closed.get()) {
      return false;
    }
    queue.offer(new Deferred<T>(message));
    drain();
    return true;
  }

  /**
   * Ends the stream with {@code error}, after the messages queued before. Idempotent.
   *
   * @param error the stream's error
   */
  public void onError(Throwable error) {
    end(new End(error));
  }

  /** Ends the stream normally, after the messages queued before. Idempotent. */
  public void onCompleted() {
    end(new End(null));
  }

  /** Whether the stream has been ended (or is about to be). */
  boolean isClosed() {
    return closed.get();
  }

  /**
   * Starts sending on a {@linkplain #held held} sender: {@code first}, if not null, then what was
   * queued meanwhile. Only the first call on a held sender has an effect.
   *
   * @param first the message to send before the queued ones, or null for none
   */
  public void release(T first) {
    if (!held.compareAndSet(true, false)) {
      return;
    }
    if (first != null) {
      queue.offerFirst(first);
    }
    drainLoop(1);
  }

  private void end(End end) {
    if (closed.compareAndSet(false, true)) {
      queue.offer(end);
      drain();
    }
  }

  private void drain() {
    if (wip.getAndIncrement() == 0) {
      drainLoop(1);
    }
  }

  private void drainLoop(int missed) {
    while (true) {
      Object item;
      while ((item = queue.poll()) != null) {
        emit(item);
      }
      missed = wip.addAndGet(-missed);
      if (missed == 0) {
        return;
      }
    }
  }

  @SuppressWarnings("unchecked")
  private void emit(Object item) {
    if (ended) {
      return;
    }
    try {
      if (item instanceof End end) {
        ended = true;
        if (end.error() == null) {
          target.onCompleted();
        } else {
          target.onError(end.error());
        }
      } else if (item instanceof Deferred<?> deferred) {
        T message = (T) deferred.message().get();
        if (message != null) {
          target.onNext(message);
        }
      } else {
        target.onNext((T) item);
      }
    } catch (RuntimeException e) {
      // The call was cancelled or closed under us; the stream's own callbacks report why.
      ended = true;
      closed.set(true);
      log.debug("Dropping messages on a stream that has ended: {}", e.toString());
    }
  }
}
