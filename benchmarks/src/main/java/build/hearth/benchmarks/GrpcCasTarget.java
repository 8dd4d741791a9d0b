package build.hearth.benchmarks;

import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.hearth.api.Digest;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.MultiThreadIoEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.Epoll;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollIoHandler;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.nio.NioIoHandler;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.IntSupplier;

/**
 * Drives a Hearth server's default instance ({@code ""}) through a plaintext gRPC channel, the way
 * Bazel would: ByteStream for large blobs, BatchUpdateBlobs and FindMissingBlobs for small ones.
 *
 * <p>The channel runs callbacks on the transport thread ({@code directExecutor}): the callbacks
 * here only hand buffers to gRPC and never block, and leaving out a thread hop per message keeps
 * the client's share of the cores small, so the numbers describe the server. The client has its own
 * Netty event loop, one thread named {@value #CLIENT_THREADS}, so that its CPU time can be told
 * apart from the server's, which would otherwise share gRPC's default event loops.
 */
final class GrpcCasTarget implements CasTarget {
  // Far above any chunk a server sends; a guard against a server that ignores its own limits.
  private static final int MAX_INBOUND_MESSAGE = 64 * 1024 * 1024;
  private static final int BATCH_BLOBS = 1_000;

  /** The name prefix of the client's transport thread. */
  static final String CLIENT_THREADS = "bench-client";

  private final boolean tls;
  private final String provider;
  private final EventLoopGroup eventLoop;
  private final ManagedChannel channel;
  private final ByteStreamGrpc.ByteStreamStub byteStream;
  private final ByteStreamGrpc.ByteStreamBlockingStub byteStreamBlocking;
  private final ContentAddressableStorageGrpc.ContentAddressableStorageBlockingStub cas;

  /**
   * A client of {@code host:port}. {@code onReadyThreshold} is how many bytes a Write may have
   * queued in the client's transport and still be "ready" for more; 0 keeps gRPC's default (32 KiB,
   * less than one 1 MiB chunk, so the client holds at most one chunk at a time).
   */
  GrpcCasTarget(String host, int port, int onReadyThreshold) {
    this(host, port, onReadyThreshold, null);
  }

  /**
   * A client of {@code host:port} over TLS when {@code trusted} (the server's self-signed
   * certificate) is given, else in plaintext. Over TLS the client uses grpc-java's default provider
   * (BoringSSL from grpc-netty-shaded when it loads), so the client's share stays small and the
   * measurement is of the server's TLS.
   */
  GrpcCasTarget(String host, int port, int onReadyThreshold, java.nio.file.Path trusted) {
    this.tls = trusted != null;
    boolean epoll = Epoll.isAvailable();
    DefaultThreadFactory threads = new DefaultThreadFactory(CLIENT_THREADS, true);
    this.eventLoop =
        new MultiThreadIoEventLoopGroup(
            1, threads, epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
    NettyChannelBuilder builder = NettyChannelBuilder.forAddress(host, port);
    if (trusted == null) {
      builder.usePlaintext();
    } else {
      try {
        builder.sslContext(
            io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts.forClient()
                .trustManager(trusted.toFile())
                .build());
      } catch (javax.net.ssl.SSLException e) {
        throw new IllegalStateException("cannot make the client's TLS context", e);
      }
    }
    this.channel =
        builder
            .eventLoopGroup(eventLoop)
            .channelType(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
            .directExecutor()
            .maxInboundMessageSize(MAX_INBOUND_MESSAGE)
            .build();
    this.provider =
        trusted == null
            ? ""
            : io.grpc.netty.shaded.io.netty.handler.ssl.SslContext.defaultClientProvider()
                .toString();
    ByteStreamGrpc.ByteStreamStub stub = ByteStreamGrpc.newStub(channel);
    this.byteStream = onReadyThreshold > 0 ? stub.withOnReadyThreshold(onReadyThreshold) : stub;
    this.byteStreamBlocking = ByteStreamGrpc.newBlockingStub(channel);
    this.cas = ContentAddressableStorageGrpc.newBlockingStub(channel);
  }

  @Override
  public void write(byte[] data, Digest digest, int chunkSize) {
    String resource =
        "uploads/" + UUID.randomUUID() + "/blobs/" + digest.hash() + "/" + data.length;
    Upload upload = new Upload(data, resource, chunkSize);
    byteStream.write(upload);
    WriteResponse response = await(upload.done, "ByteStream.Write of " + digest);
    if (response.getCommittedSize() != data.length) {
      throw new IllegalStateException(
          "the server committed " + response.getCommittedSize() + " of " + data.length + " bytes");
    }
  }

  @Override
  public long read(Digest digest) {
    ReadRequest request =
        ReadRequest.newBuilder()
            .setResourceName("blobs/" + digest.hash() + "/" + digest.sizeBytes())
            .build();
    long received = 0;
    Iterator<ReadResponse> responses = byteStreamBlocking.read(request);
    while (responses.hasNext()) {
      received += responses.next().getData().size();
    }
    return received;
  }

  @Override
  public void putSmall(Map<Digest, byte[]> blobs) {
    BatchUpdateBlobsRequest.Builder batch = BatchUpdateBlobsRequest.newBuilder();
    for (Map.Entry<Digest, byte[]> blob : blobs.entrySet()) {
      batch.addRequests(
          BatchUpdateBlobsRequest.Request.newBuilder()
              .setDigest(toProto(blob.getKey()))
              .setData(UnsafeByteOperations.unsafeWrap(blob.getValue())));
      if (batch.getRequestsCount() == BATCH_BLOBS) {
        sendBatch(batch.build());
        batch.clearRequests();
      }
    }
    if (batch.getRequestsCount() > 0) {
      sendBatch(batch.build());
    }
  }

  private void sendBatch(BatchUpdateBlobsRequest request) {
    BatchUpdateBlobsResponse response = cas.batchUpdateBlobs(request);
    for (BatchUpdateBlobsResponse.Response each : response.getResponsesList()) {
      if (each.getStatus().getCode() != 0) {
        throw new IllegalStateException(
            "BatchUpdateBlobs refused "
                + each.getDigest().getHash()
                + ": "
                + each.getStatus().getMessage());
      }
    }
  }

  @Override
  public IntSupplier findMissingCall(List<Digest> digests) {
    FindMissingBlobsRequest.Builder request = FindMissingBlobsRequest.newBuilder();
    digests.forEach(d -> request.addBlobDigests(toProto(d)));
    FindMissingBlobsRequest built = request.build();
    return () -> cas.findMissingBlobs(built).getMissingBlobDigestsCount();
  }

  /**
   * The channel, for other services of the same server (the Execute load driver's calls share it
   * with its uploads); closed with this target.
   */
  ManagedChannel channel() {
    return channel;
  }

  @Override
  public String description() {
    return tls
        ? "gRPC over loopback (TLS, one channel; client provider " + provider + ")"
        : "gRPC over loopback (plaintext, one channel)";
  }

  @Override
  public void close() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      eventLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }

  private static build.bazel.remote.execution.v2.Digest toProto(Digest digest) {
    return build.bazel.remote.execution.v2.Digest.newBuilder()
        .setHash(digest.hash())
        .setSizeBytes(digest.sizeBytes())
        .build();
  }

  private static <T> T await(CompletableFuture<T> future, String what) {
    try {
      return future.get(10, TimeUnit.MINUTES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(what + " was interrupted", e);
    } catch (ExecutionException e) {
      throw new IllegalStateException(what + " failed: " + e.getCause(), e.getCause());
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException(what + " took more than 10 minutes", e);
    }
  }

  /**
   * One ByteStream Write that sends only while the transport says it is ready, so a slow server
   * pushes back instead of the client queueing the whole blob in memory. The chunks wrap the
   * caller's array without copying it. gRPC calls the handlers of one call one at a time, so the
   * fields need no lock.
   */
  private static final class Upload implements ClientResponseObserver<WriteRequest, WriteResponse> {
    final CompletableFuture<WriteResponse> done = new CompletableFuture<>();
    private final byte[] data;
    private final String resource;
    private final int chunkSize;
    private ClientCallStreamObserver<WriteRequest> requests;
    private WriteResponse response;
    private int offset;
    private boolean halfClosed;

    Upload(byte[] data, String resource, int chunkSize) {
      this.data = data;
      this.resource = resource;
      this.chunkSize = chunkSize;
    }

    @Override
    public void beforeStart(ClientCallStreamObserver<WriteRequest> requestStream) {
      this.requests = requestStream;
      requestStream.setOnReadyHandler(this::sendWhileReady);
    }

    private void sendWhileReady() {
      while (!halfClosed && !done.isDone() && requests.isReady()) {
        int n = Math.min(chunkSize, data.length - offset);
        WriteRequest.Builder chunk =
            WriteRequest.newBuilder()
                .setWriteOffset(offset)
                .setData(UnsafeByteOperations.unsafeWrap(data, offset, n));
        if (offset == 0) {
          chunk.setResourceName(resource);
        }
        offset += n;
        boolean last = offset == data.length;
        requests.onNext(chunk.setFinishWrite(last).build());
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
      done.completeExceptionally(t);
    }

    @Override
    public void onCompleted() {
      if (response == null) {
        done.completeExceptionally(new IllegalStateException("the server sent no WriteResponse"));
      } else {
        done.complete(response);
      }
    }
  }
}
