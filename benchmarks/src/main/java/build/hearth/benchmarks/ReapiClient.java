package build.hearth.benchmarks;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import build.hearth.api.Digest;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The REAPI calls the fault and load drivers make on a server's default instance ({@code ""}), as a
 * client would: ByteStream writes in 64 KiB chunks and reads, batch updates and reads, missing
 * blobs, action-cache reads and writes. A failed call throws {@link StatusRuntimeException} with
 * the server's status; a call is acknowledged only when this returns. Thread-safe.
 */
final class ReapiClient implements AutoCloseable {
  static final int CHUNK_BYTES = 64 * 1024;

  private final ManagedChannel channel;
  private final Duration deadline;

  ReapiClient(int port, Duration deadline) {
    this.channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", port)
            .usePlaintext()
            .maxInboundMessageSize(64 << 20)
            .build();
    this.deadline = deadline;
  }

  ManagedChannel channel() {
    return channel;
  }

  private <S extends io.grpc.stub.AbstractStub<S>> S timed(S stub) {
    return stub.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS);
  }

  /** Uploads {@code data} with one ByteStream Write; returns its digest once the server took it. */
  Digest write(byte[] data) {
    Digest digest = Digest.of(data);
    CompletableFuture<WriteResponse> done = new CompletableFuture<>();
    StreamObserver<WriteRequest> requests =
        timed(ByteStreamGrpc.newStub(channel))
            .write(
                new StreamObserver<>() {
                  @Override
                  public void onNext(WriteResponse response) {
                    done.complete(response);
                  }

                  @Override
                  public void onError(Throwable t) {
                    done.completeExceptionally(t);
                  }

                  @Override
                  public void onCompleted() {
                    done.completeExceptionally(
                        Status.INTERNAL.withDescription("no WriteResponse").asRuntimeException());
                  }
                });
    String resource =
        "uploads/" + UUID.randomUUID() + "/blobs/" + digest.hash() + "/" + digest.sizeBytes();
    int offset = 0;
    do {
      int length = Math.min(CHUNK_BYTES, data.length - offset);
      WriteRequest.Builder chunk =
          WriteRequest.newBuilder()
              .setWriteOffset(offset)
              .setData(ByteString.copyFrom(data, offset, length))
              .setFinishWrite(offset + length == data.length);
      if (offset == 0) {
        chunk.setResourceName(resource);
      }
      requests.onNext(chunk.build());
      offset += length;
      if (done.isDone()) {
        break;
      }
    } while (offset < data.length);
    requests.onCompleted();
    WriteResponse response = await(done);
    if (response.getCommittedSize() != data.length) {
      throw Status.INTERNAL
          .withDescription(
              "committed " + response.getCommittedSize() + " of " + data.length + " bytes")
          .asRuntimeException();
    }
    return digest;
  }

  private <T> T await(CompletableFuture<T> future) {
    try {
      return future.get(deadline.toMillis() + 5_000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw Status.fromThrowable(e.getCause()).asRuntimeException();
    } catch (TimeoutException e) {
      throw Status.DEADLINE_EXCEEDED.withDescription("no answer").asRuntimeException();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw Status.CANCELLED.withCause(e).asRuntimeException();
    }
  }

  /** Uploads {@code blobs} with one BatchUpdateBlobs; returns the status of each blob, in order. */
  List<Status> batchUpdate(List<byte[]> blobs) {
    BatchUpdateBlobsRequest.Builder request = BatchUpdateBlobsRequest.newBuilder();
    for (byte[] blob : blobs) {
      request.addRequests(
          BatchUpdateBlobsRequest.Request.newBuilder()
              .setDigest(Digest.of(blob).toProto())
              .setData(ByteString.copyFrom(blob)));
    }
    BatchUpdateBlobsResponse response =
        timed(ContentAddressableStorageGrpc.newBlockingStub(channel))
            .batchUpdateBlobs(request.build());
    List<Status> statuses = new ArrayList<>();
    for (BatchUpdateBlobsResponse.Response each : response.getResponsesList()) {
      statuses.add(
          Status.fromCodeValue(each.getStatus().getCode())
              .withDescription(each.getStatus().getMessage()));
    }
    return statuses;
  }

  /** The bytes of {@code digest}, read with ByteStream Read. */
  byte[] read(Digest digest) {
    Iterator<ReadResponse> responses =
        timed(ByteStreamGrpc.newBlockingStub(channel))
            .read(
                ReadRequest.newBuilder()
                    .setResourceName("blobs/" + digest.hash() + "/" + digest.sizeBytes())
                    .build());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    while (responses.hasNext()) {
      out.writeBytes(responses.next().getData().toByteArray());
    }
    return out.toByteArray();
  }

  /** BatchReadBlobs of {@code digests}: each digest's bytes, or its status if not OK. */
  Map<Digest, Object> batchRead(Collection<Digest> digests) {
    BatchReadBlobsRequest.Builder request = BatchReadBlobsRequest.newBuilder();
    digests.forEach(d -> request.addDigests(d.toProto()));
    BatchReadBlobsResponse response =
        timed(ContentAddressableStorageGrpc.newBlockingStub(channel))
            .batchReadBlobs(request.build());
    Map<Digest, Object> result = new java.util.LinkedHashMap<>();
    for (BatchReadBlobsResponse.Response each : response.getResponsesList()) {
      Digest digest = Digest.fromProto(each.getDigest());
      result.put(
          digest,
          each.getStatus().getCode() == 0
              ? each.getData().toByteArray()
              : Status.fromCodeValue(each.getStatus().getCode())
                  .withDescription(each.getStatus().getMessage()));
    }
    return result;
  }

  /** The digests of {@code digests} that the server does not hold. */
  List<Digest> findMissing(Collection<Digest> digests) {
    FindMissingBlobsRequest.Builder request = FindMissingBlobsRequest.newBuilder();
    digests.forEach(d -> request.addBlobDigests(d.toProto()));
    return timed(ContentAddressableStorageGrpc.newBlockingStub(channel))
        .findMissingBlobs(request.build())
        .getMissingBlobDigestsList()
        .stream()
        .map(Digest::fromProto)
        .toList();
  }

  void updateActionResult(Digest action, ActionResult result) {
    timed(ActionCacheGrpc.newBlockingStub(channel))
        .updateActionResult(
            UpdateActionResultRequest.newBuilder()
                .setActionDigest(action.toProto())
                .setActionResult(result)
                .build());
  }

  /** The cached result of {@code action}, empty on a miss ({@code NOT_FOUND}). */
  Optional<ActionResult> getActionResult(Digest action) {
    try {
      return Optional.of(
          timed(ActionCacheGrpc.newBlockingStub(channel))
              .getActionResult(
                  GetActionResultRequest.newBuilder().setActionDigest(action.toProto()).build()));
    } catch (StatusRuntimeException e) {
      if (e.getStatus().getCode() == Status.Code.NOT_FOUND) {
        return Optional.empty();
      }
      throw e;
    }
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
