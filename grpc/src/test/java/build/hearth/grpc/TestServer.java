package build.hearth.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.core.Storage;
import build.hearth.grpc.bytestream.UploadSessions;
import build.hearth.grpc.bytestream.WriteLookaheads;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.transport.InstanceServices;
import build.hearth.spi.transport.ServerLimits;
import build.hearth.spi.transport.TransportContext;
import build.hearth.testing.FakeClock;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;

/**
 * A transport on a loopback port over the real {@code memory} stores, a plaintext channel to it,
 * and helpers. Instances: {@code ""} and {@code "ci/linux"} (CAS and action cache), {@code
 * "readonly"} (action-cache updates disabled) and {@code "cas-only"} (no action cache), all over
 * one CAS.
 */
public final class TestServer implements AutoCloseable {
  /** Small, so that over-the-limit batches cost little. */
  public static final long MAX_BATCH = 64 * 1024;

  public final FakeClock clock = new FakeClock();
  public final TestBlobStore blobs;
  public final ActionCacheStore actionCacheStore;
  public final ContentAddressableStorage cas;
  public final ActionCache actionCache;
  public final ManagedChannel channel;
  private final LoopbackServer server;

  private TestServer(UnaryOperator<Settings> tweak) {
    blobs = new TestBlobStore(MemoryStores.blobStore());
    actionCacheStore = MemoryStores.actionCacheStore();
    cas = Storage.cas(blobs);
    actionCache = Storage.actionCache(actionCacheStore, cas);
    Settings tweaked =
        tweak.apply(
            new Settings(
                GrpcSettings.defaults().withClock(clock).withReadChunkBytes(4096),
                ServerLimits.DEFAULTS));
    GrpcSettings settings = tweaked.settings;
    server =
        new LoopbackServer(
            port ->
                TransportContext.newBuilder("test", "127.0.0.1", port)
                    .maxBatchSizeBytes(MAX_BATCH)
                    .limits(tweaked.limits)
                    .instance(new InstanceServices("", cas, Optional.of(actionCache), true))
                    .instance(new InstanceServices("ci/linux", cas, Optional.of(actionCache), true))
                    .instance(
                        new InstanceServices("readonly", cas, Optional.of(actionCache), false))
                    .instance(new InstanceServices("cas-only", cas, Optional.empty(), true))
                    .build(),
            settings);
    channel = server.channel();
  }

  public static TestServer start() {
    return new TestServer(UnaryOperator.identity());
  }

  /** A server whose transport settings {@code tweak} changes. */
  public static TestServer start(UnaryOperator<Settings> tweak) {
    return new TestServer(tweak);
  }

  /** The transport settings a test may change (the transport's own type is internal to it). */
  public static final class Settings {
    private final GrpcSettings settings;
    private final ServerLimits limits;

    private Settings(GrpcSettings settings, ServerLimits limits) {
      this.settings = settings;
      this.limits = limits;
    }

    /** How long an interrupted upload is kept for resumption. */
    public Settings withUploadIdleTimeout(Duration timeout) {
      return withLimits(limits.toBuilder().uploadIdleTimeout(timeout).build());
    }

    /** How many uploads may be in progress at once. */
    public Settings withMaxUploadSessions(int max) {
      return withLimits(limits.toBuilder().maxUploadSessions(max).build());
    }

    /** The server's limits ({@code context.limits()}). */
    public Settings withLimits(ServerLimits replaced) {
      return new Settings(settings, replaced);
    }

    /** The size of the chunks a ByteStream Read sends. */
    public Settings withReadChunkBytes(int bytes) {
      return new Settings(settings.withReadChunkBytes(bytes), limits);
    }
  }

  public ContentAddressableStorageGrpc.ContentAddressableStorageBlockingStub casStub() {
    return LoopbackServer.withTimeout(ContentAddressableStorageGrpc.newBlockingStub(channel));
  }

  public ContentAddressableStorageGrpc.ContentAddressableStorageStub casAsync() {
    return ContentAddressableStorageGrpc.newStub(channel);
  }

  public ByteStreamGrpc.ByteStreamBlockingStub byteStream() {
    return LoopbackServer.withTimeout(ByteStreamGrpc.newBlockingStub(channel));
  }

  public ByteStreamGrpc.ByteStreamStub byteStreamAsync() {
    return ByteStreamGrpc.newStub(channel);
  }

  public ActionCacheGrpc.ActionCacheBlockingStub acStub() {
    return LoopbackServer.withTimeout(ActionCacheGrpc.newBlockingStub(channel));
  }

  public CapabilitiesGrpc.CapabilitiesBlockingStub capabilities() {
    return LoopbackServer.withTimeout(CapabilitiesGrpc.newBlockingStub(channel));
  }

  /** Asserts the server still answers plain requests after whatever the test did to it. */
  public void assertStillServing() {
    assertThat(
            capabilities()
                .getCapabilities(GetCapabilitiesRequest.getDefaultInstance())
                .getLowApiVersion()
                .getMajor())
        .isEqualTo(2);
    ByteString data = bytes("still serving " + UUID.randomUUID());
    Digest digest = Digest.of(data);
    assertThat(write(uploadName("", digest), data, 7).getCommittedSize()).isEqualTo(data.size());
    ByteString read = ByteString.EMPTY;
    var responses =
        byteStream().read(ReadRequest.newBuilder().setResourceName(readName("", digest)).build());
    while (responses.hasNext()) {
      read = read.concat(responses.next().getData());
    }
    assertThat(read).isEqualTo(data);
  }

  /** The port the transport listens on. */
  public int port() {
    return server.port();
  }

  /** The transport's write lookahead. */
  public WriteLookaheads writeLookaheads() {
    return server.transport().lookaheads();
  }

  /** The transport's upload sessions. */
  public UploadSessions sessions() {
    return server.transport().sessions();
  }

  @Override
  public void close() {
    server.close();
    actionCacheStore.close();
    blobs.close();
  }

  public static ByteString bytes(String text) {
    return ByteString.copyFrom(text, StandardCharsets.UTF_8);
  }

  /** {@code size} bytes of a pattern that differs per {@code seed}. */
  public static ByteString pattern(int size, int seed) {
    byte[] data = new byte[size];
    for (int i = 0; i < size; i++) {
      data[i] = (byte) (i * 31 + seed * 7 + (i >> 8));
    }
    return ByteString.copyFrom(data);
  }

  public static String uploadName(String instance, Digest digest) {
    return (instance.isEmpty() ? "" : instance + "/")
        + "uploads/"
        + UUID.randomUUID()
        + "/blobs/"
        + digest.hash()
        + "/"
        + digest.sizeBytes();
  }

  public static String readName(String instance, Digest digest) {
    return (instance.isEmpty() ? "" : instance + "/") + "blobs/" + digest;
  }

  /** Asserts {@code call} fails with {@code code} and a description containing every part. */
  public static StatusRuntimeException assertStatus(
      ThrowingCallable call, Status.Code code, String... parts) {
    Throwable thrown = catchThrowable(call);
    assertThat(thrown).isInstanceOf(StatusRuntimeException.class);
    StatusRuntimeException e = (StatusRuntimeException) thrown;
    assertThat(e.getStatus().getCode()).as("status of %s", e).isEqualTo(code);
    if (parts.length > 0) {
      assertThat(e.getStatus().getDescription()).as("description").contains(parts);
    }
    return e;
  }

  /** One client-streaming Write, driven by hand. */
  public final class Upload {
    public final CompletableFuture<WriteResponse> response = new CompletableFuture<>();
    public final ClientCallStreamObserver<WriteRequest> requests;

    public Upload() {
      requests =
          (ClientCallStreamObserver<WriteRequest>)
              byteStreamAsync()
                  .write(
                      new StreamObserver<>() {
                        @Override
                        public void onNext(WriteResponse value) {
                          response.complete(value);
                        }

                        @Override
                        public void onError(Throwable t) {
                          response.completeExceptionally(t);
                        }

                        @Override
                        public void onCompleted() {
                          response.completeExceptionally(
                              new AssertionError("completed without a response"));
                        }
                      });
    }

    public Upload send(String name, long offset, ByteString data, boolean finish) {
      requests.onNext(
          WriteRequest.newBuilder()
              .setResourceName(name)
              .setWriteOffset(offset)
              .setData(data)
              .setFinishWrite(finish)
              .build());
      return this;
    }

    public Upload halfClose() {
      requests.onCompleted();
      return this;
    }

    /** The response, or the StatusRuntimeException the server ended the stream with. */
    public WriteResponse await() {
      try {
        return response.get(LoopbackServer.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof StatusRuntimeException s) {
          throw s;
        }
        throw new AssertionError(e.getCause());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      } catch (TimeoutException e) {
        throw new AssertionError("no answer to the Write within " + LoopbackServer.TIMEOUT, e);
      }
    }
  }

  /** Writes {@code data} as {@code name} in chunks of {@code chunk} bytes, then finishes. */
  public WriteResponse write(String name, ByteString data, int chunk) {
    Upload upload = new Upload();
    int offset = 0;
    do {
      int n = Math.min(chunk, data.size() - offset);
      boolean last = offset + n == data.size();
      upload.send(offset == 0 ? name : "", offset, data.substring(offset, offset + n), last);
      offset += n;
    } while (offset < data.size());
    upload.halfClose();
    return upload.await();
  }
}
