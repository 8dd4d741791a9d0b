package build.hearth.grpc.workerapi;

import build.hearth.core.internal.Threads;
import build.hearth.proto.workerapi.SchedulerMessage;
import build.hearth.proto.workerapi.WorkerApiGrpc;
import build.hearth.proto.workerapi.WorkerMessage;
import build.hearth.spi.worker.WorkerHub;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code hearth.worker.v1.WorkerApi}: remote workers join the scheduler of the host's {@link
 * WorkerHub}, one {@link WorkerStream} per connection. Their {@code WarmProcesses} and {@code
 * WorkerStatus} reports go to the hub through their connection, which routes and lists them.
 *
 * <p>Worker names are unique per server: a second worker registering under the name of a connected
 * one is refused with ALREADY_EXISTS, whether or not the hub checks that too, since two workers
 * answering to one name would make every log line about either of them ambiguous.
 *
 * <p>Thread-safe. {@link #close()} ends every worker's stream, so that the server's shutdown does
 * not wait out its grace period for streams that never end by themselves.
 */
public final class WorkerApiService extends WorkerApiGrpc.WorkerApiImplBase {
  private final WorkerHub hub;
  private final Duration keepAliveInterval;
  private final ScheduledThreadPoolExecutor timer;
  private final ConcurrentHashMap<String, WorkerStream> byName = new ConcurrentHashMap<>();
  private final AtomicLong strayAnswers = new AtomicLong();
  private volatile boolean closed;

  /**
   * Serves the worker API over {@code hub}.
   *
   * @param hub the worker hub whose schedulers the connecting workers join
   * @param keepAliveInterval how often each side must send something on an idle stream
   * @param serverName names the service's threads
   */
  public WorkerApiService(WorkerHub hub, Duration keepAliveInterval, String serverName) {
    this.hub = hub;
    this.keepAliveInterval = keepAliveInterval;
    this.timer =
        new ScheduledThreadPoolExecutor(
            1, Threads.daemon("hearth-grpc-" + serverName + "-workers-"));
    // Each disconnected worker cancels its keep-alive task; do not keep the dead tasks around.
    timer.setRemoveOnCancelPolicy(true);
  }

  @Override
  public StreamObserver<WorkerMessage> connect(StreamObserver<SchedulerMessage> out) {
    ServerCallStreamObserver<SchedulerMessage> call =
        (ServerCallStreamObserver<SchedulerMessage>) out;
    WorkerStream stream = new WorkerStream(this, call);
    call.setOnCancelHandler(stream::cancelled);
    if (closed) {
      stream.refuse(Status.UNAVAILABLE.withDescription("the server is shutting down"));
    }
    return stream;
  }

  WorkerHub hub() {
    return hub;
  }

  Duration keepAliveInterval() {
    return keepAliveInterval;
  }

  ScheduledExecutorService timer() {
    return timer;
  }

  /**
   * {@return how many answers workers sent, since the service started, for assignments they did not
   * hold: another worker's, one already answered, or one taken back; all were ignored}
   */
  public long strayAnswers() {
    return strayAnswers.get();
  }

  void countStrayAnswer() {
    strayAnswers.incrementAndGet();
  }

  /** Claims {@code name} for {@code stream}; false if a connected worker holds it. */
  boolean claim(String name, WorkerStream stream) {
    return byName.putIfAbsent(name, stream) == null;
  }

  void release(String name, WorkerStream stream) {
    byName.remove(name, stream);
  }

  /** Ends every worker's stream with UNAVAILABLE and stops the keep-alive timer. Idempotent. */
  public void close() {
    closed = true;
    for (WorkerStream stream : byName.values()) {
      stream.end(
          Status.UNAVAILABLE.withDescription("the server is shutting down"),
          "the server is shutting down");
    }
    timer.shutdownNow();
  }
}
