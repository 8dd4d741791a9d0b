package build.hearth.grpc.bytestream;

import build.hearth.spi.transport.ServerLimits;
import com.google.bytestream.ByteStreamGrpc;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.ServerStreamTracer;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The write lookahead of one server: the byte budget its Write streams share ({@code
 * limits.maxWriteLookaheadBytes}) and the stream tracer through which the transport tells each
 * stream's {@link WriteLookahead} the size of every WriteRequest it deframes, on the transport's
 * own thread, before the service sees it. One per server; nothing is shared between servers.
 *
 * <p>Register {@link #tracerFactory()} on a Netty server. Without it (the in-process transport),
 * each stream learns a message's size only when the service receives it and asks for the next from
 * the service's thread.
 */
public final class WriteLookaheads {
  private static final Context.Key<Tracer> TRACER = Context.key("hearth-write-lookahead");

  private static final String WRITE = ByteStreamGrpc.getWriteMethod().getFullMethodName();

  private static final ServerStreamTracer NONE = new ServerStreamTracer() {};

  private final long streamBudget;
  private final long serverBudget;
  private final AtomicLong held = new AtomicLong();
  private final AtomicLong mostHeld = new AtomicLong();

  private final ServerStreamTracer.Factory factory =
      new ServerStreamTracer.Factory() {
        @Override
        public ServerStreamTracer newServerStreamTracer(String fullMethodName, Metadata headers) {
          return fullMethodName.equals(WRITE) ? new Tracer() : NONE;
        }
      };

  /**
   * The lookahead of a server with {@code limits}.
   *
   * @param limits its {@code writeLookaheadBytes} and {@code maxWriteLookaheadBytes} apply
   */
  public WriteLookaheads(ServerLimits limits) {
    this.streamBudget = limits.writeLookaheadBytes();
    this.serverBudget = limits.maxWriteLookaheadBytes();
  }

  /** {@return the tracer factory to register on this server's Netty transport} */
  public ServerStreamTracer.Factory tracerFactory() {
    return factory;
  }

  /**
   * Opens the lookahead of the Write stream whose call this runs in, tracked by this server's
   * tracer when the transport has one.
   */
  WriteLookahead open(ServerCallStreamObserver<?> call) {
    Tracer tracer = TRACER.get();
    WriteLookahead lookahead = new WriteLookahead(streamBudget, this, tracer != null);
    if (tracer != null) {
      tracer.attach(lookahead, call);
    }
    return lookahead;
  }

  void add(long bytes) {
    long now = held.addAndGet(bytes);
    mostHeld.accumulateAndGet(now, Math::max);
  }

  /** {@return the bytes all Write streams of the server hold deframed and not yet stored} */
  long held() {
    return held.get();
  }

  /** {@return the most bytes {@link #held()} ever was, for tests} */
  long mostHeld() {
    return mostHeld.get();
  }

  long budget() {
    return serverBudget;
  }

  /**
   * Tells a stream's lookahead what the transport deframed, and asks for the next message from the
   * transport's thread, where grpc-java runs the request at once instead of queueing a task.
   */
  private static final class Tracer extends ServerStreamTracer {
    private volatile WriteLookahead lookahead;
    private volatile ServerCallStreamObserver<?> call;

    @Override
    public Context filterContext(Context context) {
      return context.withValue(TRACER, this);
    }

    /** Called before the stream asks for its first message, so none is deframed before this. */
    void attach(WriteLookahead lookahead, ServerCallStreamObserver<?> call) {
      this.call = call;
      this.lookahead = lookahead;
    }

    @Override
    public void inboundMessageRead(int seqNo, long wireSize, long uncompressedSize) {
      WriteLookahead attached = lookahead;
      if (attached != null && attached.deframed(wireSize)) {
        call.request(1);
      }
    }

    @Override
    public void streamClosed(Status status) {
      WriteLookahead attached = lookahead;
      if (attached != null) {
        attached.end();
      }
    }
  }
}
