package build.hearth.grpc.workerapi;

import build.hearth.core.execution.WorkerGateway;
import build.hearth.core.internal.Threads;
import build.hearth.core.ops.WorkerReports;
import build.hearth.core.scheduler.WarmWorkers;
import build.hearth.proto.workerapi.SchedulerMessage;
import build.hearth.proto.workerapi.WorkerApiGrpc;
import build.hearth.proto.workerapi.WorkerMessage;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;

/**
 * {@code hearth.worker.v1.WorkerApi}: remote workers join the scheduler through the server's {@link
 * WorkerGateway}, one {@link WorkerStream} per connection.
 *
 * <p>Workers' {@code WarmProcesses} reports go to the {@link WarmWorkers} the host offers beside
 * the gateway (the scorer of the same scheduler), if it offers one; otherwise they are accepted and
 * dropped.
 *
 * <p>Workers' {@code WorkerStatus} reports go to the {@link WorkerReports} the host offers, if it
 * offers one, under the scheduler the host names (or the server's name); a worker is listed there
 * from its registration until its stream ends.
 *
 * <p>Worker names are unique per server: a second worker registering under the name of a connected
 * one is refused with ALREADY_EXISTS, whether or not the gateway checks that too, since two workers
 * answering to one name would make every log line about either of them ambiguous.
 *
 * <p>Thread-safe. {@link #close()} ends every worker's stream, so that the server's shutdown does
 * not wait out its grace period for streams that never end by themselves.
 */
public final class WorkerApiService extends WorkerApiGrpc.WorkerApiImplBase {
  private final WorkerGateway gateway;
  private final WarmWorkers warmWorkers; // null when the host routes on no warm processes
  private final Duration keepAliveInterval;
  private final WorkerReports workerReports; // null when the host keeps no reports
  private final String schedulerName;
  private final Clock clock;
  private final ScheduledThreadPoolExecutor timer;
  private final ConcurrentHashMap<String, WorkerStream> byName = new ConcurrentHashMap<>();
  private volatile boolean closed;

  /**
   * Serves the worker API over {@code gateway}.
   *
   * @param workerReports where remote workers' reports go; null to drop them
   * @param schedulerName the scheduler the reports name
   * @param clock the clock of the reports' arrival times and of how long a worker has been silent
   */
  public WorkerApiService(
      WorkerGateway gateway,
      WarmWorkers warmWorkers,
      Duration keepAliveInterval,
      String serverName,
      WorkerReports workerReports,
      String schedulerName,
      Clock clock) {
    this.gateway = gateway;
    this.warmWorkers = warmWorkers;
    this.keepAliveInterval = keepAliveInterval;
    this.workerReports = workerReports;
    this.schedulerName = schedulerName;
    this.clock = clock;
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

  WorkerGateway gateway() {
    return gateway;
  }

  /** Where workers' WarmProcesses reports go: the scorer of the gateway's scheduler, or null. */
  WarmWorkers warmWorkers() {
    return warmWorkers;
  }

  /** Where workers' status reports go, or null. */
  WorkerReports workerReports() {
    return workerReports;
  }

  /** The scheduler workers' reports name. */
  String schedulerName() {
    return schedulerName;
  }

  Clock clock() {
    return clock;
  }

  Duration keepAliveInterval() {
    return keepAliveInterval;
  }

  ScheduledExecutorService timer() {
    return timer;
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
