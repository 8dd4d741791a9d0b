package build.hearth.grpc.bytestream;

import static build.hearth.grpc.TestServer.assertStatus;
import static build.hearth.grpc.TestServer.pattern;
import static build.hearth.grpc.TestServer.readName;
import static build.hearth.grpc.TestServer.uploadName;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.hearth.api.Digest;
import build.hearth.grpc.LoopbackServer;
import build.hearth.grpc.TestServer;
import build.hearth.spi.transport.ServerLimits;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusRequest;
import com.google.bytestream.ByteStreamProto.QueryWriteStatusResponse;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.protobuf.ByteString;
import com.google.rpc.RetryInfo;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Interrupted and resumed uploads, upload sessions, and read flow control. */
class ByteStreamResumeTest {
  private TestServer server;

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  private QueryWriteStatusResponse query(String name) {
    return server
        .byteStream()
        .queryWriteStatus(QueryWriteStatusRequest.newBuilder().setResourceName(name).build());
  }

  /** Sends the first {@code half} bytes, waits until the server holds them, then cancels. */
  private void writeHalfAndCancel(String name, ByteString data, int half) {
    TestServer.Upload upload = server.new Upload();
    upload.send(name, 0, data.substring(0, half / 2), false);
    upload.send("", half / 2, data.substring(half / 2, half), false);
    await()
        .atMost(LoopbackServer.TIMEOUT)
        .ignoreExceptions()
        .until(() -> query(name).getCommittedSize() == half);
    upload.requests.cancel("client gives up midway", null);
    await().atMost(LoopbackServer.TIMEOUT).until(() -> server.sessions().isIdle(name));
  }

  @Test
  void writeStoppedMidwayResumesFromTheCommittedSize() {
    server = TestServer.start();
    ByteString data = pattern(40_000, 4);
    Digest digest = Digest.of(data);
    String name = uploadName("ci/linux", digest);

    writeHalfAndCancel(name, data, 20_000);

    // Nothing partial is visible.
    assertThat(server.cas.contains(digest)).isFalse();
    assertStatus(
        () ->
            server
                .byteStream()
                .read(ReadRequest.newBuilder().setResourceName(readName("", digest)).build())
                .forEachRemaining(r -> {}),
        Status.Code.NOT_FOUND,
        digest.hash());

    QueryWriteStatusResponse status = query(name);
    assertThat(status.getCommittedSize()).isEqualTo(20_000);
    assertThat(status.getComplete()).isFalse();

    // Resuming anywhere but at the committed size is refused, naming both numbers.
    assertStatus(
        () -> server.new Upload().send(name, 0, data, true).await(),
        Status.Code.INVALID_ARGUMENT,
        "write_offset 0",
        "20000 bytes committed",
        "QueryWriteStatus");
    await().atMost(LoopbackServer.TIMEOUT).until(() -> server.sessions().isIdle(name));
    assertThat(query(name).getCommittedSize()).isEqualTo(20_000);

    long committed = query(name).getCommittedSize();
    TestServer.Upload resumed =
        server.new Upload()
            .send(name, committed, data.substring((int) committed, 30_000), false)
            .send("", 30_000, data.substring(30_000), true)
            .halfClose();
    assertThat(resumed.await().getCommittedSize()).isEqualTo(40_000);

    assertThat(server.cas.get(digest)).isEqualTo(data);
    assertThat(query(name).getComplete()).isTrue();
    assertThat(server.sessions().size()).isZero();
  }

  @Test
  void aSecondStreamForAnUploadInProgressIsAborted() {
    server = TestServer.start();
    ByteString data = pattern(1000, 1);
    Digest digest = Digest.of(data);
    String name = uploadName("", digest);
    TestServer.Upload first = server.new Upload().send(name, 0, data.substring(0, 500), false);
    await()
        .atMost(LoopbackServer.TIMEOUT)
        .ignoreExceptions()
        .until(() -> query(name).getCommittedSize() == 500);

    assertStatus(
        () -> server.new Upload().send(name, 500, data.substring(500), true).await(),
        Status.Code.ABORTED,
        "another stream");

    first.send("", 500, data.substring(500), true).halfClose();
    assertThat(first.await().getCommittedSize()).isEqualTo(1000);
    assertThat(server.cas.contains(digest)).isTrue();
  }

  @Test
  void idleUploadsAreDiscardedAfterTheTimeout() {
    server = TestServer.start(s -> s.withUploadIdleTimeout(Duration.ofMinutes(10)));
    ByteString data = pattern(2000, 2);
    Digest digest = Digest.of(data);
    String name = uploadName("", digest);
    writeHalfAndCancel(name, data, 1000);

    server.clock.advance(Duration.ofMinutes(9));
    assertThat(server.sessions().sweep()).isZero();
    assertThat(query(name).getCommittedSize()).isEqualTo(1000);

    server.clock.advance(Duration.ofMinutes(2));
    assertThat(server.sessions().sweep()).isEqualTo(1);
    assertStatus(() -> query(name), Status.Code.NOT_FOUND, "idle for more than PT10M");

    // The client starts over, and succeeds.
    assertThat(server.write(name, data, 700).getCommittedSize()).isEqualTo(2000);
    assertThat(server.cas.get(digest)).isEqualTo(data);
  }

  @Test
  void theNumberOfUploadsIsBounded() {
    server = TestServer.start(s -> s.withMaxUploadSessions(1));
    ByteString one = pattern(100, 1);
    ByteString two = pattern(100, 2);
    String firstName = uploadName("", Digest.of(one));
    TestServer.Upload first = server.new Upload().send(firstName, 0, one.substring(0, 10), false);
    await()
        .atMost(LoopbackServer.TIMEOUT)
        .ignoreExceptions()
        .until(() -> query(firstName).getCommittedSize() == 10);

    assertStatus(
        () -> server.write(uploadName("", Digest.of(two)), two, 50),
        Status.Code.RESOURCE_EXHAUSTED,
        "too many uploads in progress on this server",
        "limits.maxUploadSessions is 1");

    // An idle session past its timeout makes room.
    first.requests.cancel("abandon", null);
    await().atMost(LoopbackServer.TIMEOUT).until(() -> server.sessions().isIdle(firstName));
    server.clock.advance(Duration.ofMinutes(11));
    assertThat(server.write(uploadName("", Digest.of(two)), two, 50).getCommittedSize())
        .isEqualTo(100);
  }

  @Test
  void oneClientsUploadsAreBoundedByItsOwnLimit() {
    server =
        TestServer.start(
            s -> s.withLimits(ServerLimits.newBuilder().maxUploadSessionsPerClient(1).build()));
    ByteString one = pattern(100, 1);
    ByteString two = pattern(100, 2);
    String firstName = uploadName("", Digest.of(one));
    TestServer.Upload first = server.new Upload().send(firstName, 0, one.substring(0, 10), false);
    await()
        .atMost(LoopbackServer.TIMEOUT)
        .ignoreExceptions()
        .until(() -> query(firstName).getCommittedSize() == 10);

    StatusRuntimeException refused =
        assertStatus(
            () -> server.write(uploadName("", Digest.of(two)), two, 50),
            Status.Code.RESOURCE_EXHAUSTED,
            "for client address:127.0.0.1",
            "limits.maxUploadSessionsPerClient is 1");
    assertThat(StatusProto.fromThrowable(refused).getDetailsList())
        .anyMatch(detail -> detail.is(RetryInfo.class));
    // The refused upload left nothing behind; the client's own upload goes on.
    assertThat(server.sessions().size()).isEqualTo(1);
    assertThat(first.send("", 10, one.substring(10), true).halfClose().await().getCommittedSize())
        .isEqualTo(100);
    // Its session ended, so the client may start another.
    assertThat(server.write(uploadName("", Digest.of(two)), two, 50).getCommittedSize())
        .isEqualTo(100);
  }

  @Test
  void aStalledUploadStreamIsEndedAndStaysResumable() {
    server = TestServer.start();
    ByteString data = pattern(100, 4);
    Digest digest = Digest.of(data);
    String name = uploadName("", digest);
    TestServer.Upload stalled = server.new Upload().send(name, 0, data.substring(0, 10), false);
    await()
        .atMost(LoopbackServer.TIMEOUT)
        .ignoreExceptions()
        .until(() -> query(name).getCommittedSize() == 10);

    // The stream stays open and silent; the server's sweep ends it once it has been silent for
    // uploadStallTimeout (one minute by default) of the server's clock.
    await()
        .atMost(LoopbackServer.TIMEOUT)
        .until(
            () -> {
              server.clock.advance(Duration.ofSeconds(30));
              server.sessions().sweep();
              return stalled.response.isDone();
            });
    assertStatus(
        stalled::await,
        Status.Code.DEADLINE_EXCEEDED,
        "sent nothing for PT1M",
        "limits.uploadStallTimeout",
        "10 bytes received are kept");
    assertThat(server.sessions().isIdle(name)).isTrue();
    assertThat(query(name).getCommittedSize()).isEqualTo(10);

    assertThat(
            server.new Upload()
                .send(name, 10, data.substring(10), true)
                .halfClose()
                .await()
                .getCommittedSize())
        .isEqualTo(100);
    assertThat(server.cas.get(digest)).isEqualTo(data);
  }

  @Test
  void streamEndedWithoutFinishWriteKeepsTheUploadResumable() {
    server = TestServer.start();
    ByteString data = pattern(300, 3);
    Digest digest = Digest.of(data);
    String name = uploadName("", digest);

    assertStatus(
        () -> server.new Upload().send(name, 0, data.substring(0, 100), false).halfClose().await(),
        Status.Code.INVALID_ARGUMENT,
        "without finish_write after 100 of 300 bytes",
        "write_offset 100");
    await().atMost(LoopbackServer.TIMEOUT).until(() -> server.sessions().isIdle(name));

    assertThat(
            server.new Upload()
                .send(name, 100, data.substring(100), true)
                .halfClose()
                .await()
                .getCommittedSize())
        .isEqualTo(300);
    assertThat(server.cas.get(digest)).isEqualTo(data);
  }

  @Test
  void aClientThatStopsReadingMakesTheServerHoldAboutOneFlowControlWindow() throws Exception {
    int chunk = 64 * 1024;
    int window = 1 << 20;
    server = TestServer.start(s -> s.withReadChunkBytes(chunk));
    long size = 256L << 20;
    Digest blob = server.blobs.addSynthetic(size);
    // A fixed window (no auto-tuning), so that what the server may send ahead is known.
    ManagedChannel channel =
        NettyChannelBuilder.forAddress("127.0.0.1", server.port())
            .usePlaintext()
            .flowControlWindow(window)
            .build();
    try {
      AtomicReference<ClientCallStreamObserver<ReadRequest>> call = new AtomicReference<>();
      AtomicLong received = new AtomicLong();
      CompletableFuture<Void> done = new CompletableFuture<>();
      ByteStreamGrpc.newStub(channel)
          .read(
              ReadRequest.newBuilder().setResourceName(readName("", blob)).build(),
              new ClientResponseObserver<ReadRequest, ReadResponse>() {
                @Override
                public void beforeStart(ClientCallStreamObserver<ReadRequest> requestStream) {
                  call.set(requestStream);
                  requestStream.disableAutoRequestWithInitial(1);
                }

                @Override
                public void onNext(ReadResponse value) {
                  received.addAndGet(value.getData().size());
                }

                @Override
                public void onError(Throwable t) {
                  done.completeExceptionally(t);
                }

                @Override
                public void onCompleted() {
                  done.complete(null);
                }
              });

      await().atMost(LoopbackServer.TIMEOUT).until(() -> received.get() > 0);
      // The client took one chunk and stopped. The server may have sent one window and queue
      // gRPC's on-ready threshold (32 KiB) and a chunk more; it must not read further.
      long bound = window + 32 * 1024 + 2L * chunk;
      await()
          .during(Duration.ofMillis(500))
          .atMost(Duration.ofSeconds(5))
          .until(() -> server.blobs.syntheticBytesRead() <= bound);

      call.get().request(Integer.MAX_VALUE);
      await().atMost(Duration.ofSeconds(60)).until(done::isDone);
      assertThat(done).isCompleted();
      assertThat(received.get()).isEqualTo(size);
    } finally {
      channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void readsOnlyAsFastAsTheClientTakes() {
    server = TestServer.start(s -> s.withReadChunkBytes(256 * 1024));
    long size = 512L << 20;
    Digest blob = server.blobs.addSynthetic(size);
    AtomicReference<ClientCallStreamObserver<ReadRequest>> call = new AtomicReference<>();
    AtomicLong received = new AtomicLong();
    CompletableFuture<Void> done = new CompletableFuture<>();

    server
        .byteStreamAsync()
        .read(
            ReadRequest.newBuilder().setResourceName(readName("", blob)).build(),
            new ClientResponseObserver<ReadRequest, ReadResponse>() {
              @Override
              public void beforeStart(ClientCallStreamObserver<ReadRequest> requestStream) {
                call.set(requestStream);
                requestStream.disableAutoRequestWithInitial(1);
              }

              @Override
              public void onNext(ReadResponse value) {
                received.addAndGet(value.getData().size());
              }

              @Override
              public void onError(Throwable t) {
                done.completeExceptionally(t);
              }

              @Override
              public void onCompleted() {
                done.complete(null);
              }
            });

    await().atMost(LoopbackServer.TIMEOUT).until(() -> received.get() > 0);
    // The client has taken one chunk; the server may fill the HTTP/2 window and socket buffers,
    // but must not run ahead through the blob.
    await()
        .during(Duration.ofMillis(500))
        .atMost(Duration.ofSeconds(5))
        .until(() -> server.blobs.syntheticBytesRead() < 32L << 20);

    call.get().request(Integer.MAX_VALUE);
    await().atMost(Duration.ofSeconds(60)).until(done::isDone);
    assertThat(done).isCompleted();
    assertThat(received.get()).isEqualTo(size);
  }
}
