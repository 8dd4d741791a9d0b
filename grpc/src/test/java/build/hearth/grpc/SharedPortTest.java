package build.hearth.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.Storage;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.transport.HttpRoutes;
import build.hearth.spi.transport.HttpRoutes.Response;
import build.hearth.spi.transport.InstanceServices;
import build.hearth.spi.transport.TransportContext;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Plain HTTP/1.1 GETs and gRPC on one port, over real sockets. */
class SharedPortTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final String PROMETHEUS = "text/plain; version=0.0.4; charset=utf-8";
  private static final String METRICS = "# TYPE hearth_up gauge\nhearth_up 1\n";

  private final ConcurrentLinkedQueue<String> queries = new ConcurrentLinkedQueue<>();
  private final AtomicInteger metricsCalls = new AtomicInteger();
  private BlobStore store;
  private GrpcTransport transport;
  private ManagedChannel channel;
  private HttpClient http;

  /** A {@code /metrics}, a {@code /workers} that records its query, and a route that throws. */
  private final HttpRoutes routes =
      (path, query) ->
          switch (path) {
            case "/metrics" -> {
              metricsCalls.incrementAndGet();
              yield Optional.of(Response.ok(PROMETHEUS, METRICS));
            }
            case "/workers" -> {
              queries.add(query);
              yield Optional.of(
                  new Response(503, "application/json", "{\"ready\":false}".getBytes()));
            }
            case "/broken" -> throw new IllegalStateException("the route is broken");
            default -> Optional.empty();
          };

  @BeforeEach
  void start() {
    store = MemoryStores.blobStore();
    transport = start(context("shared", 0).httpRoutes(routes));
    channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", transport.port()).usePlaintext().build();
    http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
  }

  @AfterEach
  void stop() throws InterruptedException {
    channel.shutdownNow();
    channel.awaitTermination(5, TimeUnit.SECONDS);
    transport.shutdown(Duration.ofSeconds(2));
    store.close();
  }

  private TransportContext.Builder context(String name, int port) {
    return TransportContext.newBuilder(name, "127.0.0.1", port)
        .instance(new InstanceServices("", Storage.cas(store), Optional.empty(), true));
  }

  private static GrpcTransport start(TransportContext.Builder context) {
    return GrpcTransport.start(context.build(), GrpcSettings.defaults());
  }

  private int grpcMajorVersion(ManagedChannel on) {
    return CapabilitiesGrpc.newBlockingStub(on)
        .withDeadlineAfter(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
        .getCapabilities(GetCapabilitiesRequest.getDefaultInstance())
        .getLowApiVersion()
        .getMajor();
  }

  private HttpResponse<String> get(String path) throws IOException, InterruptedException {
    return send(request(path).GET().version(HttpClient.Version.HTTP_1_1).build());
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + transport.port() + path))
        .timeout(TIMEOUT);
  }

  private HttpResponse<String> send(HttpRequest request) throws IOException, InterruptedException {
    return http.send(request, BodyHandlers.ofString(StandardCharsets.UTF_8));
  }

  @Test
  void aRouteIsAnsweredWithItsStatusBodyAndContentType() throws Exception {
    HttpResponse<String> response = get("/metrics");

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
    assertThat(response.body()).isEqualTo(METRICS);
    assertThat(response.headers().firstValue("content-type")).hasValue(PROMETHEUS);
    assertThat(response.headers().firstValueAsLong("content-length"))
        .hasValue(METRICS.getBytes(StandardCharsets.UTF_8).length);
  }

  @Test
  void theRouteGetsThePathWithoutTheQueryAndTheQueryApart() throws Exception {
    HttpResponse<String> response = get("/workers?format=json&worker=a%20b");

    assertThat(response.statusCode()).isEqualTo(503);
    assertThat(response.body()).isEqualTo("{\"ready\":false}");
    assertThat(response.headers().firstValue("content-type")).hasValue("application/json");
    assertThat(queries).containsExactly("format=json&worker=a%20b");
  }

  @Test
  void aClientThatOffersAnHttp2UpgradeIsAnsweredInHttp1() throws Exception {
    // java.net.http asks to upgrade to h2c by default; curl and Prometheus do not, but may.
    HttpResponse<String> response = send(request("/metrics").GET().build());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.version()).isEqualTo(HttpClient.Version.HTTP_1_1);
    assertThat(response.body()).isEqualTo(METRICS);
  }

  @Test
  void anUnknownPathIsNotFound() throws Exception {
    HttpResponse<String> response = get("/nothing/here");

    assertThat(response.statusCode()).isEqualTo(404);
    assertThat(response.body()).isEqualTo("not found: /nothing/here\n");
    assertThat(response.headers().firstValue("content-type")).hasValue("text/plain; charset=utf-8");
  }

  @Test
  void withoutRoutesEveryPathIsNotFound() throws Exception {
    GrpcTransport bare = start(context("bare", 0));
    try {
      HttpResponse<String> response =
          send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + bare.port() + "/metrics"))
                  .timeout(TIMEOUT)
                  .build());
      assertThat(response.statusCode()).isEqualTo(404);
    } finally {
      bare.shutdown(Duration.ofSeconds(2));
    }
  }

  @Test
  void headAnswersTheHeadersOfGetWithoutTheBody() throws Exception {
    try (RawHttp connection = new RawHttp(transport.port())) {
      connection.send("HEAD /metrics HTTP/1.1\r\nHost: localhost\r\n\r\n");
      RawHttp.Response head = connection.read(true);
      // The same connection then carries a GET, so a stray body after HEAD would garble it.
      connection.send(RawHttp.get("/metrics"));
      RawHttp.Response get = connection.read();

      assertThat(head.status()).isEqualTo(200);
      assertThat(head.headers())
          .containsEntry("content-length", String.valueOf(METRICS.length()))
          .containsEntry("content-type", PROMETHEUS);
      assertThat(get.status()).isEqualTo(200);
      assertThat(get.body()).isEqualTo(METRICS);
    }
  }

  @Test
  void otherMethodsAreNotAllowedAndTheConnectionCloses() throws Exception {
    HttpResponse<String> post =
        send(
            request("/metrics")
                .version(HttpClient.Version.HTTP_1_1)
                .POST(BodyPublishers.ofString("x=1"))
                .build());

    assertThat(post.statusCode()).isEqualTo(405);
    assertThat(post.headers().firstValue("allow")).hasValue("GET, HEAD");
    assertThat(post.body()).contains("POST is not served here");
    assertThat(metricsCalls).hasValue(0);

    try (RawHttp connection = new RawHttp(transport.port())) {
      connection.send("DELETE /metrics HTTP/1.1\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n");
      assertThat(connection.read().status()).isEqualTo(405);
      assertThat(connection.closedByServer()).isTrue();
    }
  }

  @Test
  void aFailingRouteIsAnInternalErrorAndTheServerGoesOn() throws Exception {
    HttpResponse<String> broken = get("/broken");

    assertThat(broken.statusCode()).isEqualTo(500);
    assertThat(broken.body()).contains("answering GET /broken failed", "the route is broken");
    assertThat(get("/metrics").statusCode()).isEqualTo(200);
  }

  @Test
  void grpcWorksOnTheSamePortBeforeAndAfterHttp() throws Exception {
    assertThat(grpcMajorVersion(channel)).isEqualTo(2);

    assertThat(get("/metrics").body()).isEqualTo(METRICS);
    assertThat(grpcMajorVersion(channel)).isEqualTo(2);

    ManagedChannel fresh =
        ManagedChannelBuilder.forAddress("127.0.0.1", transport.port()).usePlaintext().build();
    try {
      assertThat(grpcMajorVersion(fresh)).isEqualTo(2);
    } finally {
      fresh.shutdownNow();
    }
    assertThat(get("/metrics").statusCode()).isEqualTo(200);
  }

  @Test
  void oneConnectionCarriesRequestsOneAfterAnotherAndPipelined() throws Exception {
    try (RawHttp connection = new RawHttp(transport.port())) {
      connection.send(RawHttp.get("/metrics"));
      RawHttp.Response first = connection.read();
      connection.send(RawHttp.get("/nothing"));
      RawHttp.Response second = connection.read();
      // Three at once; answers come back in order.
      connection.send(
          RawHttp.get("/workers?n=1") + RawHttp.get("/metrics") + RawHttp.get("/workers?n=3"));
      List<RawHttp.Response> pipelined =
          List.of(connection.read(), connection.read(), connection.read());

      assertThat(first.status()).isEqualTo(200);
      assertThat(first.body()).isEqualTo(METRICS);
      assertThat(first.headers()).doesNotContainKey("connection");
      assertThat(second.status()).isEqualTo(404);
      assertThat(pipelined).extracting(RawHttp.Response::status).containsExactly(503, 200, 503);
      assertThat(queries).containsExactly("n=1", "n=3");
    }
  }

  /**
   * Routes whose {@code /slow} runs on {@code executor} and waits for {@code release}, after
   * counting down {@code entered}; {@code /metrics} answers at once on the I/O thread.
   */
  private HttpRoutes blockingRoutes(
      java.util.concurrent.Executor executor,
      java.util.concurrent.CountDownLatch entered,
      java.util.concurrent.CountDownLatch release) {
    return new HttpRoutes() {
      @Override
      public Optional<Response> get(String path, String query) {
        if (path.equals("/slow")) {
          entered.countDown();
          try {
            release.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          return Optional.of(Response.ok("text/plain", "slow " + query));
        }
        return routes.get(path, query);
      }

      @Override
      public Optional<java.util.concurrent.Executor> blockingExecutor(String path) {
        return path.equals("/slow") ? Optional.of(executor) : Optional.empty();
      }
    };
  }

  @Test
  void aBlockingRouteStallsNeitherTheEventLoopsNorTheOtherRoutes() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    var entered = new java.util.concurrent.CountDownLatch(1);
    var release = new java.util.concurrent.CountDownLatch(1);
    GrpcTransport blocking =
        start(context("blocking", 0).httpRoutes(blockingRoutes(pool, entered, release)));
    List<RawHttp> connections = new ArrayList<>();
    try (RawHttp slow = new RawHttp(blocking.port())) {
      slow.send(RawHttp.get("/slow?n=1"));
      entered.await();
      // Connections go round-robin over the event loops: some of these share the slow one's.
      for (int i = 0; i < 16; i++) {
        RawHttp connection = new RawHttp(blocking.port());
        connections.add(connection);
        connection.send(RawHttp.get("/metrics"));
        RawHttp.Response answer = connection.read();
        assertThat(answer.status()).isEqualTo(200);
        assertThat(answer.body()).isEqualTo(METRICS);
      }
      release.countDown();
      RawHttp.Response answer = slow.read();
      assertThat(answer.status()).isEqualTo(200);
      assertThat(answer.body()).isEqualTo("slow n=1");
    } finally {
      release.countDown();
      for (RawHttp connection : connections) {
        connection.close();
      }
      blocking.shutdown(Duration.ofSeconds(2));
      pool.shutdownNow();
    }
  }

  @Test
  void pipelinedAnswersStayInOrderAroundABlockingRoute() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(2);
    var entered = new java.util.concurrent.CountDownLatch(1);
    var release = new java.util.concurrent.CountDownLatch(1);
    GrpcTransport blocking =
        start(context("blocking", 0).httpRoutes(blockingRoutes(pool, entered, release)));
    try (RawHttp connection = new RawHttp(blocking.port())) {
      connection.send(
          RawHttp.get("/slow?n=1")
              + RawHttp.get("/metrics")
              + RawHttp.get("/slow?n=2")
              + RawHttp.get("/nothing")
              + "HEAD /slow?n=3 HTTP/1.1\r\nHost: test\r\n\r\n"
              + RawHttp.get("/metrics"));
      entered.await();
      release.countDown();
      List<RawHttp.Response> answers = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        answers.add(connection.read(i == 4));
      }
      connection.send(RawHttp.get("/slow?n=4"));
      RawHttp.Response afterwards = connection.read();

      assertThat(answers)
          .extracting(RawHttp.Response::status)
          .containsExactly(200, 200, 200, 404, 200, 200);
      assertThat(answers)
          .extracting(RawHttp.Response::body)
          .containsExactly("slow n=1", METRICS, "slow n=2", "not found: /nothing\n", "", METRICS);
      assertThat(answers.get(4).headers()).containsEntry("content-length", "8");
      assertThat(afterwards.body()).isEqualTo("slow n=4");
    } finally {
      release.countDown();
      blocking.shutdown(Duration.ofSeconds(2));
      pool.shutdownNow();
    }
  }

  @Test
  void aBlockingRouteWhoseExecutorIsFullIsAnswered503WithRetryAfter() throws Exception {
    java.util.concurrent.Executor full =
        task -> {
          throw new java.util.concurrent.RejectedExecutionException("full");
        };
    var release = new java.util.concurrent.CountDownLatch(0);
    GrpcTransport blocking =
        start(
            context("blocking", 0)
                .httpRoutes(
                    blockingRoutes(full, new java.util.concurrent.CountDownLatch(1), release)));
    try (RawHttp connection = new RawHttp(blocking.port())) {
      connection.send(RawHttp.get("/slow"));
      RawHttp.Response refused = connection.read();
      connection.send(RawHttp.get("/metrics"));
      RawHttp.Response next = connection.read();

      assertThat(refused.status()).isEqualTo(503);
      assertThat(refused.headers()).containsEntry("retry-after", "1");
      assertThat(refused.body()).contains("busy");
      assertThat(next.status()).isEqualTo(200);
    } finally {
      blocking.shutdown(Duration.ofSeconds(2));
    }
  }

  @Test
  void aBlockingRouteThatThrowsAnErrorIsAnsweredAndTheConnectionGoesOn() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(1);
    HttpRoutes failing =
        new HttpRoutes() {
          @Override
          public Optional<Response> get(String path, String query) {
            if (path.equals("/error")) {
              throw new AssertionError("the route broke badly");
            }
            return routes.get(path, query);
          }

          @Override
          public Optional<java.util.concurrent.Executor> blockingExecutor(String path) {
            return Optional.of(pool);
          }
        };
    GrpcTransport blocking = start(context("blocking", 0).httpRoutes(failing));
    try (RawHttp connection = new RawHttp(blocking.port())) {
      connection.send(RawHttp.get("/error") + RawHttp.get("/metrics"));
      RawHttp.Response broken = connection.read();
      RawHttp.Response next = connection.read();

      assertThat(broken.status()).isEqualTo(500);
      assertThat(broken.body()).contains("the route broke badly");
      assertThat(next.status()).isEqualTo(200);
      assertThat(next.body()).isEqualTo(METRICS);
    } finally {
      blocking.shutdown(Duration.ofSeconds(2));
      pool.shutdownNow();
    }
  }

  @Test
  void connectionCloseIsHonoured() throws Exception {
    try (RawHttp connection = new RawHttp(transport.port())) {
      connection.send(RawHttp.get("/metrics", "Connection: close"));
      RawHttp.Response response = connection.read();

      assertThat(response.status()).isEqualTo(200);
      assertThat(response.headers()).containsEntry("connection", "close");
      assertThat(connection.closedByServer()).isTrue();
    }
  }

  @Test
  void http10IsClosedAfterOneAnswerUnlessItAsksToKeepAlive() throws Exception {
    try (RawHttp connection = new RawHttp(transport.port())) {
      connection.send("GET /metrics HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
      RawHttp.Response kept = connection.read();
      connection.send("GET /metrics HTTP/1.0\r\n\r\n");
      RawHttp.Response last = connection.read();

      assertThat(kept.statusLine()).startsWith("HTTP/1.0 200");
      assertThat(kept.headers()).containsEntry("connection", "keep-alive");
      assertThat(last.body()).isEqualTo(METRICS);
      assertThat(connection.closedByServer()).isTrue();
    }
  }

  @Test
  void garbageClosesItsConnectionAndTheServerGoesOn() throws Exception {
    try (RawHttp garbage = new RawHttp(transport.port())) {
      garbage.send("HELLO THERE, IS ANYONE HOME?\r\n\r\n");
      assertThat(garbage.closedByServer()).isTrue();
    }
    try (RawHttp badRequestLine = new RawHttp(transport.port())) {
      badRequestLine.send("GET \u0001\u0002 NOT-A-VERSION\r\n\r\n");
      assertThat(badRequestLine.read().status()).isEqualTo(400);
      assertThat(badRequestLine.closedByServer()).isTrue();
    }
    try (RawHttp tooLong = new RawHttp(transport.port())) {
      tooLong.send(RawHttp.get("/" + "x".repeat(10_000)));
      assertThat(tooLong.read().status()).isEqualTo(400);
      assertThat(tooLong.closedByServer()).isTrue();
    }
    try (RawHttp cutShort = new RawHttp(transport.port())) {
      cutShort.send("GE");
    }

    assertThat(grpcMajorVersion(channel)).isEqualTo(2);
    assertThat(get("/metrics").body()).isEqualTo(METRICS);
  }

  @Test
  void manyHttpAndGrpcClientsAtOnce() throws Exception {
    int clients = 16;
    int rounds = 25;
    ExecutorService pool = Executors.newFixedThreadPool(clients);
    List<ManagedChannel> channels = new ArrayList<>();
    try {
      List<Future<?>> done = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        Random random = new Random(c); // a fixed mix per client
        if (c % 2 == 0) {
          ManagedChannel own =
              ManagedChannelBuilder.forAddress("127.0.0.1", transport.port())
                  .usePlaintext()
                  .build();
          channels.add(own);
          done.add(
              pool.submit(
                  () -> {
                    for (int i = 0; i < rounds; i++) {
                      assertThat(grpcMajorVersion(random.nextBoolean() ? own : channel))
                          .isEqualTo(2);
                    }
                    return null;
                  }));
        } else {
          HttpClient own = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
          done.add(
              pool.submit(
                  () -> {
                    for (int i = 0; i < rounds; i++) {
                      HttpRequest request =
                          request(random.nextBoolean() ? "/metrics" : "/workers?i=" + i)
                              .version(HttpClient.Version.HTTP_1_1)
                              .build();
                      HttpResponse<String> response =
                          (random.nextBoolean() ? own : http)
                              .send(request, BodyHandlers.ofString());
                      assertThat(response.statusCode()).isIn(200, 503);
                    }
                    return null;
                  }));
        }
      }
      for (Future<?> future : done) {
        future.get(60, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
      channels.forEach(ManagedChannel::shutdownNow);
    }
    assertThat(metricsCalls.get() + queries.size()).isEqualTo(clients / 2 * rounds);
  }

  @Test
  void shutdownClosesIdleHttpConnectionsWithoutWaitingOutTheGrace() throws Exception {
    try (RawHttp idle = new RawHttp(transport.port())) {
      idle.send(RawHttp.get("/metrics"));
      assertThat(idle.read().status()).isEqualTo(200);

      CompletableFuture<Void> stopped =
          CompletableFuture.runAsync(() -> transport.shutdown(Duration.ofMinutes(5)));

      assertThat(idle.closedByServer()).isTrue();
      await().atMost(TIMEOUT).until(stopped::isDone);
      stopped.get();
    }
  }

  @Test
  void aPortInUseByAnotherHearthIsRefusedWithAMessageThatSaysWhatToDo() {
    int taken = transport.port();

    assertThatThrownBy(() -> start(context("second", taken).httpRoutes(routes)))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> {
              assertThat(e.code()).isEqualTo(StatusCode.UNAVAILABLE);
              assertThat(e.getMessage())
                  .isEqualTo(
                      "cannot listen on 127.0.0.1:"
                          + taken
                          + ": the address is already in use (another Hearth or program listens"
                          + " there); stop it or choose another port with \"listen\"");
            });
    // The first one is untouched.
    assertThat(grpcMajorVersion(channel)).isEqualTo(2);
  }
}
