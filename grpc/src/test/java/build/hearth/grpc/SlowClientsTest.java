package build.hearth.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.core.Storage;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.transport.InstanceServices;
import build.hearth.spi.transport.ServerLimits;
import build.hearth.spi.transport.TransportContext;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.ByteStreamProto.ReadRequest;
import com.google.bytestream.ByteStreamProto.ReadResponse;
import com.google.bytestream.ByteStreamProto.WriteRequest;
import com.google.bytestream.ByteStreamProto.WriteResponse;
import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The slow clients: 200 connections that trickle an HTTP/2 preface or an HTTP/1.1 request a
 * byte every 300 ms, or open a ByteStream Read of a large blob and stop reading, while a
 * well-behaved client keeps calling FindMissingBlobs, Write and Read. Its calls all succeed (their
 * latencies are printed, not asserted), the heap stays bounded, and the server closes every
 * trickling connection. Loopback only, and over in well under a minute.
 */
class SlowClientsTest {
  private static final int TRICKLING = 180;
  private static final int STALLED_READERS = 20;
  private static final int GOOD_ROUNDS = 300;
  private static final Duration DEADLINE = Duration.ofSeconds(2);
  private static final Duration TICK = Duration.ofMillis(300);
  private static final int LARGE_BLOB = 8 << 20;

  /** Far above what the test should cost; a leak per connection or per stalled read exceeds it. */
  private static final long HEAP_GROWTH_BOUND = 128L << 20;

  @Test
  void slowAndStalledClientsDoNotHoldUpAGoodOneAndTricklersAreClosed() throws Exception {
    BlobStore blobs = MemoryStores.blobStore();
    ContentAddressableStorage cas = Storage.cas(blobs);
    LoopbackServer server =
        new LoopbackServer(
            port ->
                TransportContext.newBuilder("slow", "127.0.0.1", port)
                    .instance(new InstanceServices("", cas, Optional.empty(), false))
                    .limits(
                        ServerLimits.newBuilder()
                            .handshakeTimeout(DEADLINE)
                            .httpIdleTimeout(DEADLINE)
                            .build())
                    .build(),
            GrpcSettings.defaults());
    ScheduledExecutorService ticker = Executors.newSingleThreadScheduledExecutor();
    List<ManagedChannel> channels = new ArrayList<>();
    List<SocketChannel> sockets = new ArrayList<>();
    try {
      Digest large = cas.put(TestServer.pattern(LARGE_BLOB, 1));
      long heapBefore = usedHeap();

      // The tricklers: half start an HTTP/2 preface, half an HTTP/1.1 request, and never finish.
      AtomicInteger closedByServer = new AtomicInteger();
      for (int i = 0; i < TRICKLING; i++) {
        SocketChannel socket =
            SocketChannel.open(new InetSocketAddress("127.0.0.1", server.port()));
        socket.configureBlocking(false);
        sockets.add(socket);
      }
      byte[][] scripts = {
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
        ("GET /metrics HTTP/1.1\r\nHost: localhost\r\nX-Slow: " + "a".repeat(500))
            .getBytes(StandardCharsets.US_ASCII)
      };
      int[] sent = new int[TRICKLING];
      boolean[] closed = new boolean[TRICKLING];
      ticker.scheduleAtFixedRate(
          () -> {
            ByteBuffer sink = ByteBuffer.allocate(4096);
            for (int i = 0; i < TRICKLING; i++) {
              if (closed[i]) {
                continue;
              }
              SocketChannel socket = sockets.get(i);
              byte[] script = scripts[i % 2];
              try {
                sink.clear();
                if (socket.read(sink) < 0) {
                  throw new IOException("closed");
                }
                if (sent[i] < script.length - 1) { // never the last byte
                  socket.write(ByteBuffer.wrap(script, sent[i]++, 1));
                }
              } catch (IOException e) {
                closed[i] = true;
                closedByServer.incrementAndGet();
              }
            }
          },
          0,
          TICK.toMillis(),
          TimeUnit.MILLISECONDS);

      // The stalled readers: each asks for one message of a large blob and never for more.
      for (int i = 0; i < STALLED_READERS; i++) {
        ManagedChannel channel = newChannel(server, channels);
        ClientCall<ReadRequest, ReadResponse> call =
            channel.newCall(ByteStreamGrpc.getReadMethod(), CallOptions.DEFAULT);
        call.start(new ClientCall.Listener<>() {}, new Metadata());
        call.sendMessage(
            ReadRequest.newBuilder().setResourceName(TestServer.readName("", large)).build());
        call.halfClose();
        call.request(1);
      }

      // The good client.
      ManagedChannel good = newChannel(server, channels);
      List<Long> latencies = new ArrayList<>();
      for (int round = 0; round < GOOD_ROUNDS; round++) {
        long start = System.nanoTime();
        ByteString data = TestServer.bytes("good client round " + round + " ".repeat(1000));
        Digest digest = Digest.of(data);
        assertThat(
                LoopbackServer.withTimeout(ContentAddressableStorageGrpc.newBlockingStub(good))
                    .findMissingBlobs(
                        FindMissingBlobsRequest.newBuilder()
                            .addBlobDigests(digest.toProto())
                            .build())
                    .getMissingBlobDigestsCount())
            .isEqualTo(1);
        assertThat(write(good, digest, data).getCommittedSize()).isEqualTo(data.size());
        ByteString read = ByteString.EMPTY;
        var responses =
            LoopbackServer.withTimeout(ByteStreamGrpc.newBlockingStub(good))
                .read(
                    ReadRequest.newBuilder()
                        .setResourceName(TestServer.readName("", digest))
                        .build());
        while (responses.hasNext()) {
          read = read.concat(responses.next().getData());
        }
        assertThat(read).isEqualTo(data);
        latencies.add(System.nanoTime() - start);
      }

      await().atMost(LoopbackServer.TIMEOUT).until(() -> closedByServer.get() == TRICKLING);
      long heapAfter = usedHeap();
      Collections.sort(latencies);
      System.out.printf(
          "slow clients: %d trickling connections (all closed by the server), %d stalled reads of"
              + " %d MiB; good client %d rounds of FindMissingBlobs+Write+Read: p50 %.2f ms, p99"
              + " %.2f ms; used heap %d MiB before, %d MiB after%n",
          TRICKLING,
          STALLED_READERS,
          LARGE_BLOB >> 20,
          GOOD_ROUNDS,
          percentile(latencies, 50) / 1e6,
          percentile(latencies, 99) / 1e6,
          heapBefore >> 20,
          heapAfter >> 20);
      assertThat(heapAfter - heapBefore).isLessThan(HEAP_GROWTH_BOUND);
    } finally {
      ticker.shutdownNow();
      for (SocketChannel socket : sockets) {
        socket.close();
      }
      channels.forEach(ManagedChannel::shutdownNow);
      server.close();
      blobs.close();
    }
  }

  private static ManagedChannel newChannel(LoopbackServer server, List<ManagedChannel> channels) {
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    channels.add(channel);
    return channel;
  }

  private static WriteResponse write(ManagedChannel channel, Digest digest, ByteString data)
      throws Exception {
    CompletableFuture<WriteResponse> done = new CompletableFuture<>();
    StreamObserver<WriteRequest> requests =
        ByteStreamGrpc.newStub(channel)
            .withDeadlineAfter(LoopbackServer.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
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
                  public void onCompleted() {}
                });
    requests.onNext(
        WriteRequest.newBuilder()
            .setResourceName(TestServer.uploadName("", digest))
            .setData(data)
            .setFinishWrite(true)
            .build());
    requests.onCompleted();
    return done.get(LoopbackServer.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
  }

  private static long percentile(List<Long> sorted, int percent) {
    return sorted.get(Math.min(sorted.size() - 1, sorted.size() * percent / 100));
  }

  private static long usedHeap() {
    Runtime runtime = Runtime.getRuntime();
    System.gc();
    return runtime.totalMemory() - runtime.freeMemory();
  }
}
