package build.hearth.grpc;

import build.hearth.proto.workerapi.ActionFinished;
import build.hearth.proto.workerapi.KeepAlive;
import build.hearth.proto.workerapi.Register;
import build.hearth.proto.workerapi.SchedulerMessage;
import build.hearth.proto.workerapi.WorkerApiGrpc;
import build.hearth.proto.workerapi.WorkerMessage;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** A worker stream driven by hand from the test thread, for what the agent would never send. */
public final class RawWorker implements AutoCloseable {
  private final BlockingQueue<SchedulerMessage> received = new LinkedBlockingQueue<>();
  private final CompletableFuture<Status> ended = new CompletableFuture<>();
  private final StreamObserver<WorkerMessage> requests;

  public RawWorker(Channel channel) {
    requests =
        WorkerApiGrpc.newStub(channel)
            .connect(
                new StreamObserver<>() {
                  @Override
                  public void onNext(SchedulerMessage message) {
                    received.add(message);
                  }

                  @Override
                  public void onError(Throwable t) {
                    ended.complete(Status.fromThrowable(t));
                  }

                  @Override
                  public void onCompleted() {
                    ended.complete(Status.OK);
                  }
                });
  }

  public RawWorker send(WorkerMessage message) {
    requests.onNext(message);
    return this;
  }

  public RawWorker register(String name, int slots) {
    return send(
        WorkerMessage.newBuilder()
            .setRegister(Register.newBuilder().setName(name).setSlots(slots))
            .build());
  }

  public RawWorker keepAlive() {
    return send(WorkerMessage.newBuilder().setKeepAlive(KeepAlive.getDefaultInstance()).build());
  }

  public RawWorker finished(ActionFinished finished) {
    return send(WorkerMessage.newBuilder().setFinished(finished).build());
  }

  /**
   * The next message of kind {@code kind}, skipping keep-alives; fails after {@link
   * LoopbackServer#TIMEOUT}.
   */
  public SchedulerMessage next(SchedulerMessage.KindCase kind) throws InterruptedException {
    long deadline = System.nanoTime() + LoopbackServer.TIMEOUT.toNanos();
    while (true) {
      long left = deadline - System.nanoTime();
      SchedulerMessage message = received.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
      if (message == null) {
        throw new AssertionError(
            "no "
                + kind
                + " within "
                + LoopbackServer.TIMEOUT
                + "; stream ended: "
                + ended.getNow(null));
      }
      if (message.getKindCase() == kind) {
        return message;
      }
      if (message.getKindCase() != SchedulerMessage.KindCase.KEEP_ALIVE) {
        throw new AssertionError("expected " + kind + " but got " + message);
      }
    }
  }

  /**
   * The next message of kind {@code kind}, skipping keep-alives and sending one every {@code tick},
   * as a worker that is alive but busy does; fails after {@link LoopbackServer#TIMEOUT}.
   */
  public SchedulerMessage nextWhileAlive(SchedulerMessage.KindCase kind, Duration tick)
      throws InterruptedException {
    long deadline = System.nanoTime() + LoopbackServer.TIMEOUT.toNanos();
    while (System.nanoTime() < deadline) {
      keepAlive();
      SchedulerMessage message = received.poll(tick.toNanos(), TimeUnit.NANOSECONDS);
      if (message == null || message.getKindCase() == SchedulerMessage.KindCase.KEEP_ALIVE) {
        continue;
      }
      if (message.getKindCase() == kind) {
        return message;
      }
      throw new AssertionError("expected " + kind + " but got " + message);
    }
    throw new AssertionError(
        "no "
            + kind
            + " within "
            + LoopbackServer.TIMEOUT
            + "; stream ended: "
            + ended.getNow(null));
  }

  /** How the stream ended; fails if it does not within {@code timeout}. */
  public Status awaitEnd(Duration timeout) throws InterruptedException {
    try {
      return ended.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      throw new AssertionError("the stream did not end within " + timeout, e);
    }
  }

  public boolean isEnded() {
    return ended.isDone();
  }

  @Override
  public void close() {
    if (!ended.isDone()) {
      requests.onError(Status.CANCELLED.withDescription("test over").asRuntimeException());
    }
  }
}
