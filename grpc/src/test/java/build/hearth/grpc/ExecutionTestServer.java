package build.hearth.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecuteOperationMetadata;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.bazel.remote.execution.v2.ExecutionStage;
import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.core.Storage;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.transport.InstanceServices;
import build.hearth.spi.transport.TransportContext;
import com.google.longrunning.Operation;
import com.google.longrunning.OperationsGrpc;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.ManagedChannel;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * A transport on a loopback port whose default instance {@code ""} executes through a {@link
 * TestExecutionService} over the real memory stores, and whose instance {@code "cache-only"} does
 * not execute; a plaintext channel to it, and helpers to upload actions and follow operations.
 */
public final class ExecutionTestServer implements AutoCloseable {

  public final BlobStore blobs;
  public final ActionCacheStore actionCacheStore;
  public final ContentAddressableStorage cas;
  public final ActionCache actionCache;
  public final TestExecutionService executions;
  public final ManagedChannel channel;
  private final LoopbackServer server;

  public ExecutionTestServer() {
    blobs = MemoryStores.blobStore();
    actionCacheStore = MemoryStores.actionCacheStore();
    cas = Storage.cas(blobs);
    actionCache = Storage.actionCache(actionCacheStore, cas);
    executions = new TestExecutionService(cas, actionCache);
    server =
        new LoopbackServer(
            port ->
                TransportContext.newBuilder("exec-test", "127.0.0.1", port)
                    .instance(
                        new InstanceServices(
                            "", cas, Optional.of(actionCache), true, Optional.of(executions)))
                    .instance(
                        new InstanceServices("cache-only", cas, Optional.of(actionCache), true))
                    .build(),
            GrpcSettings.defaults());
    channel = server.channel();
  }

  public ExecutionGrpc.ExecutionBlockingStub execution() {
    return LoopbackServer.withTimeout(ExecutionGrpc.newBlockingStub(channel));
  }

  public ExecutionGrpc.ExecutionStub executionAsync() {
    return ExecutionGrpc.newStub(channel);
  }

  public OperationsGrpc.OperationsBlockingStub operations() {
    return LoopbackServer.withTimeout(OperationsGrpc.newBlockingStub(channel));
  }

  public OperationsGrpc.OperationsStub operationsAsync() {
    return OperationsGrpc.newStub(channel);
  }

  public CapabilitiesGrpc.CapabilitiesBlockingStub capabilities() {
    return LoopbackServer.withTimeout(CapabilitiesGrpc.newBlockingStub(channel));
  }

  /** Uploads a command running {@code arguments}, an empty input root and their action. */
  public Digest uploadAction(String... arguments) {
    Digest command = uploadCommand(arguments);
    Digest inputRoot = cas.put(Directory.getDefaultInstance().toByteString());
    return cas.put(action(command, inputRoot).toByteString());
  }

  public Digest uploadCommand(String... arguments) {
    return cas.put(Command.newBuilder().addAllArguments(List.of(arguments)).build().toByteString());
  }

  public static Action action(Digest command, Digest inputRoot) {
    return Action.newBuilder()
        .setCommandDigest(command.toProto())
        .setInputRootDigest(inputRoot.toProto())
        .build();
  }

  public static ExecuteRequest request(Digest action) {
    return ExecuteRequest.newBuilder().setActionDigest(action.toProto()).build();
  }

  public static ExecuteOperationMetadata metadata(Operation operation) {
    try {
      return operation.getMetadata().unpack(ExecuteOperationMetadata.class);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError("metadata of " + operation, e);
    }
  }

  public static ExecutionStage.Value stage(Operation operation) {
    return metadata(operation).getStage();
  }

  public static ExecuteResponse response(Operation operation) {
    assertThat(operation.getDone()).as("done").isTrue();
    try {
      return operation.getResponse().unpack(ExecuteResponse.class);
    } catch (InvalidProtocolBufferException e) {
      throw new AssertionError("response of " + operation, e);
    }
  }

  /** Starts an asynchronous Execute or WaitExecution and records what it receives. */
  public static final class Stream implements ClientResponseObserver<Object, Operation> {
    public final List<Operation> received = new CopyOnWriteArrayList<>();
    public final CompletableFuture<Void> end = new CompletableFuture<>();
    private volatile ClientCallStreamObserver<Object> call;

    @Override
    public void beforeStart(ClientCallStreamObserver<Object> requestStream) {
      call = requestStream;
    }

    @Override
    public void onNext(Operation value) {
      received.add(value);
    }

    @Override
    public void onError(Throwable t) {
      end.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {
      end.complete(null);
    }

    public void cancel() {
      call.cancel("the test stops following", null);
    }

    public Operation last() {
      return received.get(received.size() - 1);
    }

    public void awaitEnd() {
      end.orTimeout(LoopbackServer.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).join();
    }
  }

  @Override
  public void close() {
    server.close();
    actionCacheStore.close();
    blobs.close();
  }
}
