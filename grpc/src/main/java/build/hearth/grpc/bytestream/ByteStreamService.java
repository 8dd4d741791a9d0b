package build.hearth.grpc.bytestream;

import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.grpc.common.Instances;
import build.hearth.grpc.common.PacedSender;
import build.hearth.grpc.common.Rpc;
import build.hearth.spi.security.Identity;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusRequest;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusResponse;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.BindableService;
import io.grpc.MethodDescriptor;
import io.grpc.ServerMethodDefinition;
import io.grpc.ServerServiceDefinition;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.ServerCalls;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * google.bytestream.ByteStream over the CAS: chunked, flow-controlled reads and resumable, verified
 * writes (see {@link WriteCall} and {@link UploadSessions}).
 */
public final class ByteStreamService implements ByteStreamGrpc.AsyncService, BindableService {
  private final Instances instances;
  private final UploadSessions sessions;
  private final int chunkSize;
  private final Supplier<Optional<Identity>> caller;
  private final WriteLookaheads lookaheads;
  private final ReadStalls stalls;

  /**
   * Serves the CAS of {@code instances} as byte streams.
   *
   * @param instances the server's instances
   * @param sessions the uploads in progress, which a broken write can resume from
   * @param chunkSize the most bytes of one {@code ReadResponse}
   * @param caller the current call's identity, if its credentials established one; with the peer's
   *     address, it says which client an upload counts against
   * @param lookaheads the server's write lookahead, which bounds the bytes Write streams hold
   * @param stalls ends Reads whose client stopped reading
   */
  public ByteStreamService(
      Instances instances,
      UploadSessions sessions,
      int chunkSize,
      Supplier<Optional<Identity>> caller,
      WriteLookaheads lookaheads,
      ReadStalls stalls) {
    this.instances = instances;
    this.sessions = sessions;
    this.chunkSize = chunkSize;
    this.caller = caller;
    this.lookaheads = lookaheads;
    this.stalls = stalls;
  }

  @Override
  public void read(ReadRequest request, StreamObserver<ReadResponse> out) {
    BlobChunks chunks;
    try {
      ResourceName name = ResourceName.parseRead(request.getResourceName());
      ContentAddressableStorage cas = instances.require(name.instance()).cas();
      chunks =
          new BlobChunks(
              name.digest(),
              cas.read(name.digest(), request.getReadOffset(), request.getReadLimit()),
              request.getReadOffset(),
              request.getReadLimit(),
              chunkSize);
    } catch (RuntimeException e) {
      out.onError(Rpc.toException(e));
      return;
    }
    PacedSender.start(
        out, chunks, stalls.watch((ServerCallStreamObserver<?>) out, request.getResourceName()));
  }

  /**
   * The generated service, except that Write parses its requests with {@link
   * InboundWriteMarshaller}, so uploaded bytes are hashed and stored straight from the network's
   * buffers.
   */
  @Override
  public ServerServiceDefinition bindService() {
    ServerServiceDefinition generated = ByteStreamGrpc.bindService(this);
    MethodDescriptor<WriteRequest, WriteResponse> standardWrite = ByteStreamGrpc.getWriteMethod();
    ServerServiceDefinition.Builder service =
        ServerServiceDefinition.builder(generated.getServiceDescriptor().getName());
    for (ServerMethodDefinition<?, ?> method : generated.getMethods()) {
      if (!method
          .getMethodDescriptor()
          .getFullMethodName()
          .equals(standardWrite.getFullMethodName())) {
        service.addMethod(method);
      }
    }
    return service
        .addMethod(
            standardWrite.toBuilder(
                    new InboundWriteMarshaller(), standardWrite.getResponseMarshaller())
                .build(),
            UploadClient.capture(ServerCalls.asyncClientStreamingCall(this::openWrite)))
        .build();
  }

  private StreamObserver<InboundWrite> openWrite(StreamObserver<WriteResponse> out) {
    WriteCall call =
        new WriteCall(
            instances,
            sessions,
            (ServerCallStreamObserver<WriteResponse>) out,
            UploadClient.current(caller.get()),
            lookaheads);
    call.start();
    return call;
  }

  @Override
  public void queryWriteStatus(
      QueryWriteStatusRequest request, StreamObserver<QueryWriteStatusResponse> out) {
    Rpc.unary(out, () -> queryWriteStatus(request.getResourceName()));
  }

  private QueryWriteStatusResponse queryWriteStatus(String resourceName) {
    ResourceName name = ResourceName.parseWrite(resourceName);
    ContentAddressableStorage cas = instances.require(name.instance()).cas();
    Digest digest = name.digest();
    if (cas.contains(digest)) {
      return QueryWriteStatusResponse.newBuilder()
          .setCommittedSize(digest.sizeBytes())
          .setComplete(true)
          .build();
    }
    Optional<UploadSessions.Session> session = sessions.find(resourceName);
    if (session.isEmpty()) {
      throw HearthException.notFound(
          "no upload of '%s' is in progress (it never started, failed, or was idle for more"
              + " than %s); write it again from offset 0",
          Instances.abbreviate(resourceName), sessions.idleTimeout());
    }
    return QueryWriteStatusResponse.newBuilder()
        .setCommittedSize(session.get().committedSize())
        .setComplete(false)
        .build();
  }

  /** A blob read in chunks of at most {@code chunkSize} bytes. */
  private static final class BlobChunks implements PacedSender.Source<ReadResponse> {
    private final Digest digest;
    private final InputStream in;
    private final int chunkSize;
    private final long expected;
    private long remaining;

    BlobChunks(Digest digest, InputStream in, long offset, long limit, int chunkSize) {
      this.digest = digest;
      this.in = in;
      this.chunkSize = chunkSize;
      long available = digest.sizeBytes() - offset;
      this.expected = limit == 0 ? available : Math.min(limit, available);
      this.remaining = expected;
    }

    @Override
    public ReadResponse next() {
      if (remaining == 0) {
        return null;
      }
      int want = (int) Math.min(chunkSize, remaining);
      // A fresh array per chunk: gRPC serializes the message after onNext returns, so the bytes
      // must not be reused, and wrapping saves a copy.
      byte[] chunk = new byte[want];
      int got;
      try {
        got = in.readNBytes(chunk, 0, want);
      } catch (IOException e) {
        throw HearthException.internal("reading blob " + digest + " failed: " + e.getMessage(), e);
      }
      if (got < want) {
        throw new HearthException(
            StatusCode.DATA_LOSS,
            "blob "
                + digest
                + " ended after "
                + (expected - remaining + got)
                + " of "
                + expected
                + " requested bytes; the stored copy is damaged");
      }
      remaining -= got;
      return ReadResponse.newBuilder().setData(UnsafeByteOperations.unsafeWrap(chunk)).build();
    }

    @Override
    public void close() {
      try {
        in.close();
      } catch (IOException e) {
        // The response is already complete or abandoned; nothing is lost but a descriptor.
      }
    }
  }
}
