package build.hearth.server;

import build.bazel.remote.execution.v2.Digest;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.Channel;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * A ByteStream client for tests that streams in both directions the way Bazel does: a write sends
 * the resource name only in its first request and sends a chunk only when gRPC reports the stream
 * ready, so the test JVM never queues more than a chunk or two however large the blob; a read hands
 * each response to a consumer as it arrives (the blocking stub asks for one message at a time).
 *
 * <p>Stateless; the methods block the calling thread.
 */
final class ByteStreamClient {
  private ByteStreamClient() {}

  /** {@code uploads/<uuid>/blobs/<hash>/<size>} for the default instance. */
  static String uploadName(Digest digest) {
    return "uploads/"
        + UUID.randomUUID()
        + "/blobs/"
        + digest.getHash()
        + "/"
        + digest.getSizeBytes();
  }

  /** {@code blobs/<hash>/<size>} for the default instance. */
  static String readName(Digest digest) {
    return "blobs/" + digest.getHash() + "/" + digest.getSizeBytes();
  }

  /**
   * Writes {@code chunks} to {@code resourceName}, marking the last request {@code finish_write}.
   *
   * @throws StatusRuntimeException as the server failed the call
   * @throws AssertionError if the call does not finish within {@code timeout}
   */
  static WriteResponse write(
      Channel channel, String resourceName, Iterator<byte[]> chunks, Duration timeout)
      throws InterruptedException {
    CompletableFuture<WriteResponse> result = new CompletableFuture<>();
    ByteStreamGrpc.newStub(channel)
        .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
        .write(new FlowControlledWrite(resourceName, chunks, result));
    try {
      return result.get(timeout.toMillis() + 5_000, TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof StatusRuntimeException status) {
        // Rethrown here so the stack trace shows the test's line, with the call's as the cause.
        throw new StatusRuntimeException(status.getStatus(), status.getTrailers());
      }
      throw new AssertionError("write of " + resourceName + " failed", e.getCause());
    } catch (TimeoutException e) {
      throw new AssertionError("write of " + resourceName + " did not finish in " + timeout, e);
    }
  }

  /**
   * Reads {@code resourceName} from {@code offset}, at most {@code limit} bytes (0: to the end),
   * passing each response's data to {@code sink}.
   *
   * @throws StatusRuntimeException as the server failed the call
   */
  static void read(
      Channel channel,
      String resourceName,
      long offset,
      long limit,
      Duration timeout,
      Consumer<ByteString> sink) {
    Iterator<ReadResponse> responses =
        ByteStreamGrpc.newBlockingStub(channel)
            .withDeadlineAfter(timeout.toMillis(), TimeUnit.MILLISECONDS)
            .read(
                ReadRequest.newBuilder()
                    .setResourceName(resourceName)
                    .setReadOffset(offset)
                    .setReadLimit(limit)
                    .build());
    while (responses.hasNext()) {
      sink.accept(responses.next().getData());
    }
  }

  /**
   * Reads the whole of {@code resourceName} and returns the digest of what arrived, hashing each
   * response as it comes: for blobs too large to hold.
   */
  static Digest readDigest(Channel channel, String resourceName, Duration timeout) {
    MessageDigest sha256 = build.hearth.api.Digest.newMessageDigest();
    AtomicLong received = new AtomicLong();
    read(
        channel,
        resourceName,
        0,
        0,
        timeout,
        data -> {
          received.addAndGet(data.size());
          data.asReadOnlyByteBufferList().forEach(sha256::update);
        });
    return BlobPattern.digest(sha256, received.get());
  }

  /** Reads a whole range into memory; only for blobs of a few MiB. */
  static byte[] readAll(
      Channel channel, String resourceName, long offset, long limit, Duration timeout) {
    List<ByteString> parts = new ArrayList<>();
    read(channel, resourceName, offset, limit, timeout, parts::add);
    return ByteString.copyFrom(parts).toByteArray();
  }

  /**
   * Sends the next chunk whenever the call is ready. gRPC runs the on-ready handler serially, so
   * the fields need no lock; the future is what the response side shares with it.
   */
  private static final class FlowControlledWrite
      implements ClientResponseObserver<WriteRequest, WriteResponse> {
    private final String resourceName;
    private final Iterator<byte[]> chunks;
    private final CompletableFuture<WriteResponse> result;
    private ClientCallStreamObserver<WriteRequest> requests;
    private long offset;
    private boolean first = true;
    private boolean halfClosed;
    private volatile WriteResponse response;

    FlowControlledWrite(
        String resourceName, Iterator<byte[]> chunks, CompletableFuture<WriteResponse> result) {
      this.resourceName = resourceName;
      this.chunks = chunks;
      this.result = result;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<WriteRequest> requestStream) {
      this.requests = requestStream;
      requestStream.setOnReadyHandler(this::sendWhileReady);
    }

    private void sendWhileReady() {
      // The server may answer before the last chunk (the blob already exists); then stop sending.
      while (!halfClosed && !result.isDone() && requests.isReady()) {
        byte[] data = chunks.hasNext() ? chunks.next() : new byte[0];
        boolean last = !chunks.hasNext();
        WriteRequest.Builder request =
            WriteRequest.newBuilder()
                .setWriteOffset(offset)
                // The array is fresh per chunk and never touched again, so wrapping is safe.
                .setData(UnsafeByteOperations.unsafeWrap(data))
                .setFinishWrite(last);
        if (first) {
          request.setResourceName(resourceName);
          first = false;
        }
        requests.onNext(request.build());
        offset += data.length;
        if (last) {
          halfClosed = true;
          requests.onCompleted();
        }
      }
    }

    @Override
    public void onNext(WriteResponse value) {
      response = value;
    }

    @Override
    public void onError(Throwable t) {
      result.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {
      WriteResponse value = response;
      if (value == null) {
        result.completeExceptionally(
            new AssertionError("the server completed the write without a WriteResponse"));
      } else {
        result.complete(value);
      }
    }
  }
}
