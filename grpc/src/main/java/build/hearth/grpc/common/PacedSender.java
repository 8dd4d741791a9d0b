package build.hearth.grpc.common;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends a server-streaming response only as fast as the client takes it: a message is produced only
 * while the call {@link ServerCallStreamObserver#isReady() is ready}, and sending resumes from the
 * call's on-ready handler. A 2 GiB blob thus passes through a few chunks of memory instead of being
 * queued whole in Netty's buffers.
 *
 * <p>gRPC runs the handler method, the on-ready and the on-cancel callbacks of one call one at a
 * time, so the state here needs no locking.
 */
public final class PacedSender<T> implements Runnable {
  private static final Logger log = LoggerFactory.getLogger(PacedSender.class);

  /** Produces the messages of one response. */
  public interface Source<T> {
    /** {@return the next message, or null when the response is complete} */
    T next();

    /** Releases what the source holds; called exactly once. */
    void close();
  }

  /**
   * Told when a response must wait for its client to take what was sent, so that a caller can end a
   * response whose client stopped reading. Called on the call's thread, one call at a time.
   */
  public interface Waits {
    /** The call is not ready and the response has more to send. */
    void waiting();

    /** The call is ready again. */
    void resumed();

    /** The response ended, completely or not; nothing is called after this. */
    void finished();
  }

  private static final Waits NO_WAITS =
      new Waits() {
        @Override
        public void waiting() {}

        @Override
        public void resumed() {}

        @Override
        public void finished() {}
      };

  private final ServerCallStreamObserver<T> call;
  private final Source<T> source;
  private final Waits waits;
  private boolean finished;

  private PacedSender(ServerCallStreamObserver<T> call, Source<T> source, Waits waits) {
    this.call = call;
    this.source = source;
    this.waits = waits;
  }

  /**
   * Starts sending {@code source} on {@code out}. Must be called from the service method, before it
   * returns.
   *
   * @param <T> the messages' type
   * @param out the call's response observer, a {@link ServerCallStreamObserver}
   * @param source produces the messages
   */
  public static <T> void start(StreamObserver<T> out, Source<T> source) {
    start(out, source, NO_WAITS);
  }

  /**
   * Starts sending {@code source} on {@code out}, telling {@code waits} when the client holds the
   * response back. Must be called from the service method, before it returns.
   *
   * @param <T> the messages' type
   * @param out the call's response observer, a {@link ServerCallStreamObserver}
   * @param source produces the messages
   * @param waits told when sending waits for the client and when it resumes
   */
  public static <T> void start(StreamObserver<T> out, Source<T> source, Waits waits) {
    PacedSender<T> sender = new PacedSender<>((ServerCallStreamObserver<T>) out, source, waits);
    sender.call.setOnCancelHandler(sender::cancelled);
    sender.call.setOnReadyHandler(sender);
    sender.run();
  }

  @Override
  public void run() {
    if (finished) {
      return;
    }
    waits.resumed();
    try {
      while (call.isReady() && !call.isCancelled()) {
        T message = source.next();
        if (message == null) {
          finish();
          call.onCompleted();
          return;
        }
        call.onNext(message);
      }
      if (!call.isCancelled()) {
        waits.waiting();
      }
    } catch (RuntimeException e) {
      finish();
      call.onError(Rpc.toException(e));
    }
  }

  private void cancelled() {
    if (!finished) {
      log.debug("Client cancelled a streaming response");
      finish();
    }
  }

  private void finish() {
    finished = true;
    try {
      source.close();
    } catch (RuntimeException e) {
      log.warn("Releasing a streaming response failed", e);
    }
    waits.finished();
  }
}
