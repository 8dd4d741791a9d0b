package build.hearth.grpc.bytestream;

import static build.hearth.grpc.TestServer.readName;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.hearth.api.Digest;
import build.hearth.grpc.LoopbackServer;
import build.hearth.grpc.TestServer;
import build.hearth.spi.transport.ServerLimits;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code limits.readStallTimeout}, with a real grpc-java client that stops reading: the server
 * resets the stream, which frees the blob and the queued data, and the client learns it when it
 * reads again.
 */
class ByteStreamReadStallTest {
  private static final long BLOB = 256L << 20;

  private TestServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  /** A Read that takes its first response and then nothing. */
  private static final class StalledRead extends ClientCall.Listener<ReadResponse> {
    final AtomicLong received = new AtomicLong();
    final CompletableFuture<Status> closed = new CompletableFuture<>();

    @Override
    public void onMessage(ReadResponse message) {
      received.addAndGet(message.getData().size());
    }

    @Override
    public void onClose(Status status, Metadata trailers) {
      closed.complete(status);
    }
  }

  private ClientCall<ReadRequest, ReadResponse> startRead(Digest digest, StalledRead listener) {
    ClientCall<ReadRequest, ReadResponse> call =
        server.channel.newCall(ByteStreamGrpc.getReadMethod(), CallOptions.DEFAULT);
    call.start(listener, new Metadata());
    call.request(1);
    call.sendMessage(ReadRequest.newBuilder().setResourceName(readName("", digest)).build());
    call.halfClose();
    return call;
  }

  @Test
  void aReadWhoseClientStopsReadingIsResetAfterTheStallTimeout() throws Exception {
    server =
        TestServer.start(
            s ->
                s.withLimits(
                    ServerLimits.newBuilder().readStallTimeout(Duration.ofMillis(300)).build()));
    Digest blob = server.blobs.addSynthetic(BLOB);
    StalledRead listener = new StalledRead();
    ClientCall<ReadRequest, ReadResponse> call = startRead(blob, listener);
    await().atMost(LoopbackServer.TIMEOUT).until(() -> listener.received.get() > 0);
    await().atMost(LoopbackServer.TIMEOUT).until(() -> server.blobs.syntheticStreamsOpen() == 1);

    // The server gives up on the stream: its blob is closed without being read to the end.
    await().atMost(LoopbackServer.TIMEOUT).until(() -> server.blobs.syntheticStreamsOpen() == 0);
    assertThat(server.blobs.syntheticBytesRead()).isLessThan(BLOB);
    assertThat(listener.closed).isNotDone();

    // Reading again, the client gets what had arrived and then the end of the stream, an error.
    call.request(Integer.MAX_VALUE);
    Status status = listener.closed.get(LoopbackServer.TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    assertThat(status.isOk()).as("status %s", status).isFalse();
    assertThat(listener.received.get()).isLessThan(BLOB);
    server.assertStillServing();
  }

  @Test
  void readsAreWatchedForAMinuteByDefault() {
    assertThat(ServerLimits.DEFAULTS.readStallTimeout()).isEqualTo(Duration.ofMinutes(1));
  }
}
