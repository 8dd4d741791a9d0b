package build.hearth.grpc.bytestream;

import build.hearth.grpc.common.Instances;
import build.hearth.grpc.common.PacedSender;
import com.google.bytestream.ByteStreamGrpc;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.time.Duration;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ends ByteStream Reads whose client stopped reading ({@code limits.readStallTimeout}).
 *
 * <p>Such a Read holds its blob open and about one flow-control window of sent bytes, for as long
 * as the connection lives. Closing the call with a status would not free them: the trailers queue
 * behind the data the client does not take, and the stream stays open. So a stalled Read is reset
 * instead: its call's context is cancelled with DEADLINE_EXCEEDED, on which grpc-java resets the
 * HTTP/2 stream (RST_STREAM), drops the queued data and tells the service the call was cancelled,
 * which closes the blob. The client sees the stream end with an error when it reads again, and may
 * read again from the offset it reached.
 *
 * <p>Register {@link #tracerFactory()} on the server: it gives each Read a context to cancel. One
 * per server; the timer is the server's.
 */
public final class ReadStalls {
  private static final Logger log = LoggerFactory.getLogger(ReadStalls.class);

  private static final Context.Key<Context.CancellableContext> CALL =
      Context.key("hearth-read-call");

  private static final String READ = ByteStreamGrpc.getReadMethod().getFullMethodName();

  private static final ServerStreamTracer NONE = new ServerStreamTracer() {};

  /**
   * Puts a cancellable context under each Read's call context. grpc-java hides the call's own
   * cancellable context (a service sees an uncancellable surrogate), but cancelling an ancestor
   * cancels the call's context with the same cause, and a DEADLINE_EXCEEDED cause makes grpc-java
   * reset the stream.
   */
  private static final ServerStreamTracer.Factory FACTORY =
      new ServerStreamTracer.Factory() {
        @Override
        public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
          if (!fullMethodName.equals(READ)) {
            return NONE;
          }
          return new ServerStreamTracer() {
            @Override
            public Context filterContext(Context context) {
              // A child of the root context: no listener on a parent, nothing to close.
              Context.CancellableContext call = context.withCancellation();
              return call.withValue(CALL, call);
            }
          };
        }
      };

  private final ScheduledExecutorService timer;
  private final Duration timeout;

  /**
   * Ends Reads that could not send for {@code timeout}.
   *
   * @param timer runs the checks; the server's, shut down with it
   * @param timeout {@code limits.readStallTimeout}
   */
  public ReadStalls(ScheduledExecutorService timer, Duration timeout) {
    this.timer = timer;
    this.timeout = timeout;
  }

  /** {@return the tracer factory that gives each Read a context this class can cancel} */
  public ServerStreamTracer.Factory tracerFactory() {
    return FACTORY;
  }

  /**
   * {@return the watch of the current Read call, which sends {@code resourceName} on {@code out}}
   */
  PacedSender.Waits watch(ServerCallStreamObserver<?> out, String resourceName) {
    return new Watch(CALL.get(), out, resourceName);
  }

  /** One Read's stall timer: at most one check scheduled at a time, however often it waits. */
  private final class Watch implements PacedSender.Waits {
    private final Context.CancellableContext call; // null without the tracer
    private final ServerCallStreamObserver<?> out;
    private final String resourceName;
    private long waitingSince = -1; // System.nanoTime(), or -1 while sending
    private ScheduledFuture<?> check;
    private boolean finished;

    Watch(Context.CancellableContext call, ServerCallStreamObserver<?> out, String resourceName) {
      this.call = call;
      this.out = out;
      this.resourceName = resourceName;
    }

    @Override
    public synchronized void waiting() {
      if (finished || call == null) {
        return;
      }
      waitingSince = System.nanoTime();
      if (check == null) {
        check = schedule(timeout.toNanos());
      }
    }

    @Override
    public synchronized void resumed() {
      waitingSince = -1;
    }

    @Override
    public synchronized void finished() {
      finished = true;
      if (check != null) {
        check.cancel(false);
        check = null;
      }
    }

    /** Schedules a check; none once the server stopped, whose calls end anyway. */
    private ScheduledFuture<?> schedule(long nanos) {
      try {
        return timer.schedule(this::check, nanos, TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException stopped) {
        return null;
      }
    }

    private void check() {
      synchronized (this) {
        check = null;
        if (finished || waitingSince < 0) {
          return;
        }
        long left = waitingSince + timeout.toNanos() - System.nanoTime();
        if (left > 0 || out.isReady()) {
          // Sending resumed and stopped again since, or the client just took more.
          check = schedule(Math.max(left, 1));
          return;
        }
        finished = true;
      }
      String why =
          String.format(
              "the client read nothing of '%s' for %s (limits.readStallTimeout) and the Read was"
                  + " ended; read again from the offset reached",
              Instances.abbreviate(resourceName), timeout);
      log.debug("Resetting a stalled Read: {}", why);
      // Cancelling the call's context with DEADLINE_EXCEEDED makes grpc-java reset the stream.
      call.cancel(Status.DEADLINE_EXCEEDED.withDescription(why).asRuntimeException());
    }
  }
}
