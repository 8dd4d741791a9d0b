package build.hearth.grpc;

import static build.hearth.grpc.TestServer.assertStatus;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.FindMissingBlobsResponse;
import build.hearth.api.Digest;
import build.hearth.core.Storage;
import build.hearth.core.ops.WorkerReports;
import build.hearth.core.remote.SchedulerWorkerHub;
import build.hearth.core.scheduler.Scheduler;
import build.hearth.core.scheduler.WarmWorkers;
import build.hearth.proto.workerapi.SchedulerMessage.KindCase;
import build.hearth.spi.transport.InstanceServices;
import build.hearth.spi.transport.ServerLimits;
import build.hearth.spi.transport.TransportContext;
import build.hearth.spi.worker.ActionOutcome;
import build.hearth.spi.worker.ExecutionTask;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import com.google.rpc.RetryInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The service pool's bound on queued calls, and the worker API's own pool: a server whose two
 * service threads are held by FindMissingBlobs calls stuck in the store refuses calls beyond {@code
 * limits.maxQueuedCalls} at once, keeps its workers connected, and serves normally again once the
 * store answers.
 */
class CallAdmissionTest {
  private static final Duration KEEP_ALIVE = Duration.ofMillis(200);
  private static final int THREADS = 2;
  private static final int MAX_QUEUED = 2;

  private final GatedBlobStore blobs = new GatedBlobStore(MemoryStores.blobStore());
  private final Scheduler<ExecutionTask, ActionOutcome> scheduler =
      Scheduler.<ExecutionTask, ActionOutcome>newBuilder().build();
  private final List<String> refusals = new CopyOnWriteArrayList<>();
  private LoopbackServer server;

  @BeforeEach
  void start() {
    var cas = Storage.cas(blobs);
    server =
        new LoopbackServer(
            port ->
                TransportContext.newBuilder("busy", "127.0.0.1", port)
                    .instance(new InstanceServices("", cas, Optional.empty(), false))
                    .workerHub(
                        new SchedulerWorkerHub(
                            "main",
                            scheduler,
                            new WarmWorkers(),
                            new WorkerReports(Clock.systemUTC())))
                    .limits(ServerLimits.newBuilder().maxQueuedCalls(MAX_QUEUED).build())
                    .limitRefusals(refusals::add)
                    .build(),
            GrpcSettings.defaults().withThreads(THREADS).withWorkerKeepAliveInterval(KEEP_ALIVE));
  }

  @AfterEach
  void stop() {
    blobs.open();
    server.close();
    scheduler.close();
    blobs.close();
  }

  @Test
  void aCallBeyondTheQueueIsRefusedAtOnceWithARetryHintAndTheServerRecovers() throws Exception {
    List<ListenableFuture<FindMissingBlobsResponse>> held = saturate();

    StatusRuntimeException refused =
        assertStatus(
            () -> blocking().findMissingBlobs(request("refused")),
            Status.Code.RESOURCE_EXHAUSTED,
            "limits.maxQueuedCalls is 2",
            "retry later");
    RetryInfo retry =
        StatusProto.fromThrowable(refused).getDetailsList().get(0).unpack(RetryInfo.class);
    assertThat(retry.getRetryDelay().getSeconds()).isEqualTo(1);
    assertThat(refusals).containsExactly("queued_calls");
    // The refusal took no thread from the pool: the store saw only the two calls that hold it.
    assertThat(blobs.entered.get()).isEqualTo(THREADS);

    blobs.open();
    for (ListenableFuture<FindMissingBlobsResponse> call : held) {
      assertThat(
              call.get(LoopbackServer.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                  .getMissingBlobDigestsCount())
          .isEqualTo(1);
    }
    assertThat(blocking().findMissingBlobs(request("after")).getMissingBlobDigestsCount())
        .isEqualTo(1);
  }

  @Test
  void workersKeepTheirConnectionAndNewOnesJoinWhileTheServicePoolIsSaturated() throws Exception {
    try (RawWorker worker = new RawWorker(server.channel())) {
      worker.register("steady", 1);
      worker.next(KindCase.REGISTERED);

      saturate();

      // Well past three keep-alive intervals, in which a worker not heard from is dropped.
      for (int i = 0; i < 6; i++) {
        worker.next(KindCase.KEEP_ALIVE);
        worker.keepAlive();
      }
      assertThat(worker.isEnded()).isFalse();
      try (RawWorker late = new RawWorker(server.channel())) {
        late.register("late", 1);
        late.next(KindCase.REGISTERED);
      }
      assertThat(server.transport().queuedCalls()).isEqualTo(MAX_QUEUED);
      assertThat(refusals).isEmpty();
    }
  }

  /** Holds every thread of the service pool in the store and fills the queue behind them. */
  private List<ListenableFuture<FindMissingBlobsResponse>> saturate() {
    List<ListenableFuture<FindMissingBlobsResponse>> held = new ArrayList<>();
    ContentAddressableStorageGrpc.ContentAddressableStorageFutureStub stub =
        ContentAddressableStorageGrpc.newFutureStub(server.channel());
    for (int i = 0; i < THREADS; i++) {
      held.add(stub.findMissingBlobs(request("running " + i)));
    }
    await().atMost(LoopbackServer.TIMEOUT).until(() -> blobs.entered.get() == THREADS);
    for (int i = 0; i < MAX_QUEUED; i++) {
      held.add(stub.findMissingBlobs(request("queued " + i)));
    }
    await()
        .atMost(LoopbackServer.TIMEOUT)
        .until(() -> server.transport().queuedCalls() == MAX_QUEUED);
    return held;
  }

  private ContentAddressableStorageGrpc.ContentAddressableStorageBlockingStub blocking() {
    return LoopbackServer.withTimeout(
        ContentAddressableStorageGrpc.newBlockingStub(server.channel()));
  }

  private static FindMissingBlobsRequest request(String content) {
    return FindMissingBlobsRequest.newBuilder()
        .addBlobDigests(Digest.of(ByteString.copyFromUtf8(content)).toProto())
        .build();
  }
}
