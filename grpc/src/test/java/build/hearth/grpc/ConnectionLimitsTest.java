package build.hearth.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.FindMissingBlobsResponse;
import build.hearth.api.Digest;
import build.hearth.core.Storage;
import build.hearth.spi.transport.InstanceServices;
import build.hearth.spi.transport.ServerLimits;
import build.hearth.spi.transport.TransportContext;
import com.google.common.util.concurrent.ListenableFuture;
import com.google.protobuf.ByteString;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ConnectivityState;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import java.io.IOException;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The connection limits of {@code limits}, over real sockets: calls per connection, idle gRPC
 * connections, connections past their maximum age, handshakes that do not finish, and HTTP/1.1
 * connections that idle or trickle.
 */
class ConnectionLimitsTest {
  private static final Duration SHORT = Duration.ofMillis(300);

  private final GatedBlobStore blobs = new GatedBlobStore(MemoryStores.blobStore());
  private final List<ManagedChannel> channels = new ArrayList<>();
  private LoopbackServer server;

  private void start(UnaryOperator<ServerLimits.Builder> limits) {
    var cas = Storage.cas(blobs);
    server =
        new LoopbackServer(
            port ->
                TransportContext.newBuilder("limits", "127.0.0.1", port)
                    .instance(new InstanceServices("", cas, Optional.empty(), false))
                    .limits(limits.apply(ServerLimits.newBuilder()).build())
                    .build(),
            GrpcSettings.defaults());
  }

  @AfterEach
  void stop() {
    blobs.open();
    channels.forEach(ManagedChannel::shutdownNow);
    if (server != null) {
      server.close();
    }
    blobs.close();
  }

  @Test
  void aConnectionRunsAtMostMaxConcurrentCallsPerConnectionAtOnce() throws Exception {
    start(limits -> limits.maxConcurrentCallsPerConnection(2));
    var first = ContentAddressableStorageGrpc.newFutureStub(newChannel());
    List<ListenableFuture<FindMissingBlobsResponse>> calls = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      calls.add(first.findMissingBlobs(request("first connection " + i)));
    }
    await().atMost(LoopbackServer.TIMEOUT).until(() -> blobs.entered.get() == 2);
    // Another connection is not held back by the first one's limit.
    Digest other = digest("second connection");
    calls.add(
        ContentAddressableStorageGrpc.newFutureStub(newChannel())
            .findMissingBlobs(
                FindMissingBlobsRequest.newBuilder().addBlobDigests(other.toProto()).build()));
    await().atMost(LoopbackServer.TIMEOUT).until(() -> blobs.asked.contains(other));
    // The first connection's third call waits in its client until one of its two ends.
    assertThat(blobs.entered.get()).isEqualTo(3);

    blobs.open();
    for (var call : calls) {
      assertThat(call.get(20, TimeUnit.SECONDS).getMissingBlobDigestsCount()).isEqualTo(1);
    }
  }

  @Test
  void anIdleGrpcConnectionIsClosedAfterConnectionIdleTimeout() {
    start(limits -> limits.connectionIdleTimeout(SHORT));
    blobs.open();
    ManagedChannel channel = newChannel();
    assertThat(
            LoopbackServer.withTimeout(ContentAddressableStorageGrpc.newBlockingStub(channel))
                .findMissingBlobs(request("once"))
                .getMissingBlobDigestsCount())
        .isEqualTo(1);
    // The server's GOAWAY takes the channel out of READY; the client's own idle timer is 30 min.
    await()
        .atMost(LoopbackServer.TIMEOUT)
        .until(() -> channel.getState(false) != ConnectivityState.READY);
  }

  @Test
  void aConnectionThatSendsNothingIsClosedAfterTheHandshakeTimeout() throws Exception {
    start(limits -> limits.handshakeTimeout(SHORT));
    try (RawHttp silent = new RawHttp(server.port())) {
      assertThat(silent.closedByServer()).isTrue();
    }
  }

  @Test
  void anUnfinishedHttp2PrefaceIsClosedAfterTheHandshakeTimeout() throws Exception {
    start(limits -> limits.handshakeTimeout(SHORT));
    try (RawHttp partial = new RawHttp(server.port())) {
      partial.send("PRI * HTTP/2.0\r\n");
      assertThat(partial.closedByServer()).isTrue();
    }
  }

  @Test
  void busyConnectionsOutliveTheHandshakeTimeout() throws Exception {
    // Long enough for a connection's own handshake on a loaded machine, short for the test.
    Duration handshake = Duration.ofSeconds(1);
    start(limits -> limits.handshakeTimeout(handshake).httpIdleTimeout(Duration.ofSeconds(20)));
    blobs.open();
    ManagedChannel channel = newChannel();
    var stub = ContentAddressableStorageGrpc.newBlockingStub(channel);
    try (RawHttp http = new RawHttp(server.port())) {
      // Three handshake timeouts long, a request on each connection every half of one.
      for (int i = 0; i < 6; i++) {
        http.send(RawHttp.get("/healthz"));
        assertThat(http.read().status()).isEqualTo(404); // no routes in this server
        assertThat(
                LoopbackServer.withTimeout(stub)
                    .findMissingBlobs(request("busy " + i))
                    .getMissingBlobDigestsCount())
            .isEqualTo(1);
        pause(handshake.dividedBy(2));
      }
    }
  }

  @Test
  void anHttpConnectionIdleBetweenRequestsIsClosedAfterHttpIdleTimeout() throws Exception {
    // A handshake timeout far beyond the test, so that only the idle timeout can close it.
    start(limits -> limits.httpIdleTimeout(SHORT).handshakeTimeout(Duration.ofHours(1)));
    try (RawHttp idle = new RawHttp(server.port())) {
      idle.send(RawHttp.get("/healthz"));
      assertThat(idle.read().status()).isEqualTo(404);
      assertThat(idle.closedByServer()).isTrue();
    }
  }

  @Test
  void anHttpRequestTrickledByteByByteIsClosedAfterHttpIdleTimeout() throws Exception {
    // A handshake timeout far beyond the test, so that only the idle timeout can close it.
    start(limits -> limits.httpIdleTimeout(SHORT).handshakeTimeout(Duration.ofHours(1)));
    try (RawHttp trickle = new RawHttp(server.port())) {
      trickle.send("GET /healthz HTTP/1.1\r\nX-Slow: ");
      CompletableFuture<Void> trickling =
          CompletableFuture.runAsync(
              () -> {
                // A byte every 100 ms, each well within the timeout, for up to 20 s.
                for (int i = 0; i < 200; i++) {
                  try {
                    trickle.send("a");
                  } catch (IOException closed) {
                    return;
                  }
                  pause(Duration.ofMillis(100));
                }
              });
      assertThat(trickle.closedByServer()).isTrue();
      trickling.get(LoopbackServer.TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  @Test
  void aConnectionOlderThanMaxConnectionAgeIsClosedWhileItsCallFinishesWithinTheGrace()
      throws Exception {
    start(
        limits ->
            limits
                .maxConnectionAge(Optional.of(SHORT))
                .maxConnectionAgeGrace(Duration.ofMinutes(1)));
    List<SocketAddress> connections = new CopyOnWriteArrayList<>();
    ManagedChannel channel = newChannel();
    var stub =
        ContentAddressableStorageGrpc.newFutureStub(channel)
            .withInterceptors(new LocalAddresses(connections));
    // Held in the store, so that it is in flight when the connection reaches its age.
    ListenableFuture<FindMissingBlobsResponse> inFlight = stub.findMissingBlobs(request("old"));
    await().atMost(LoopbackServer.TIMEOUT).until(() -> blobs.entered.get() == 1);

    // The server's GOAWAY takes the channel out of READY though the call goes on.
    await()
        .atMost(LoopbackServer.TIMEOUT)
        .until(() -> channel.getState(false) != ConnectivityState.READY);
    assertThat(inFlight).isNotDone();

    // A new call opens a new connection, and the old one's call completes within its grace.
    ListenableFuture<FindMissingBlobsResponse> next = stub.findMissingBlobs(request("new"));
    await().atMost(LoopbackServer.TIMEOUT).until(() -> blobs.entered.get() == 2);
    blobs.open();
    assertThat(inFlight.get(20, TimeUnit.SECONDS).getMissingBlobDigestsCount()).isEqualTo(1);
    assertThat(next.get(20, TimeUnit.SECONDS).getMissingBlobDigestsCount()).isEqualTo(1);
    assertThat(connections).hasSize(2);
    assertThat(connections.get(0)).isNotEqualTo(connections.get(1));
  }

  @Test
  void connectionsHaveNoMaximumAgeByDefault() {
    assertThat(ServerLimits.DEFAULTS.maxConnectionAge()).isEmpty();
  }

  private ManagedChannel newChannel() {
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
    channels.add(channel);
    return channel;
  }

  private static void pause(Duration duration) {
    await().pollDelay(duration).atMost(duration.multipliedBy(10)).until(() -> true);
  }

  private static Digest digest(String content) {
    return Digest.of(ByteString.copyFromUtf8(content));
  }

  /** Records the local address of the connection each call's response came on. */
  private record LocalAddresses(List<SocketAddress> seen) implements ClientInterceptor {
    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(
        MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
        @Override
        public void start(Listener<R> listener, Metadata headers) {
          ClientCall<Q, R> call = this;
          super.start(
              new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                @Override
                public void onHeaders(Metadata responseHeaders) {
                  seen.add(call.getAttributes().get(Grpc.TRANSPORT_ATTR_LOCAL_ADDR));
                  super.onHeaders(responseHeaders);
                }
              },
              headers);
        }
      };
    }
  }

  private static FindMissingBlobsRequest request(String content) {
    return FindMissingBlobsRequest.newBuilder().addBlobDigests(digest(content).toProto()).build();
  }
}
