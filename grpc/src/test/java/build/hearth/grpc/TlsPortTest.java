package build.hearth.grpc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.ServerCapabilities;
import build.hearth.core.Storage;
import build.hearth.grpc.http.SharedPortNegotiator;
import build.hearth.grpc.tls.ServerTls;
import build.hearth.grpc.tls.TestCertificates;
import build.hearth.grpc.tls.TestCertificates.Authority;
import build.hearth.grpc.tls.TestCertificates.Issued;
import build.hearth.grpc.tls.TestCertificates.KeyType;
import build.hearth.spi.security.AccessControl;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.transport.HttpRoutes;
import build.hearth.spi.transport.HttpRoutes.Response;
import build.hearth.spi.transport.InstanceServices;
import build.hearth.spi.transport.TlsSettings;
import build.hearth.spi.transport.TlsSettings.ClientCertificates;
import build.hearth.spi.transport.TransportContext;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.SecurityLevel;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The transport's port over TLS, with real sockets, real TLS clients (grpc-java, curl, openssl) and
 * certificates the test makes: protocols, key types, client certificates, rotation, and clients
 * that speak the wrong thing.
 */
class TlsPortTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(20);
  private static final String METRICS = "# TYPE hearth_up gauge\nhearth_up 1\n";

  private final HttpRoutes routes =
      (path, query) ->
          switch (path) {
            case "/metrics" -> Optional.of(Response.ok("text/plain; version=0.0.4", METRICS));
            case "/healthz" -> Optional.of(Response.ok("text/plain", "ok\n"));
            default -> Optional.empty();
          };

  @TempDir Path dir;
  private Authority ca;
  private Path caFile;
  private BlobStore store;
  private final List<AutoCloseable> open = new ArrayList<>();

  @BeforeEach
  void setUp() {
    ca = TestCertificates.authority("Hearth test CA");
    caFile = ca.writeCertificate(dir.resolve("ca.pem"));
    store = MemoryStores.blobStore();
  }

  @AfterEach
  void tearDown() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
    store.close();
  }

  // ---- servers and clients ----

  /** Server files for a new certificate from {@link #ca}: chain and key in {@link #dir}. */
  private TlsSettings.Builder serverFiles(String name, KeyType type) {
    Issued server = ca.server(name, type);
    return TlsSettings.newBuilder(
        server.writeChain(dir.resolve("server.pem")), server.writeKey(dir.resolve("server.key")));
  }

  private GrpcTransport start(TlsSettings tls) {
    return start(Optional.of(tls));
  }

  private GrpcTransport start(Optional<TlsSettings> tls) {
    TransportContext.Builder context =
        TransportContext.newBuilder("tls-test", "127.0.0.1", 0)
            .instance(new InstanceServices("", Storage.cas(store), Optional.empty(), true))
            .httpRoutes(routes);
    tls.ifPresent(context::tls);
    GrpcTransport transport =
        GrpcTransport.start(
            context.build(), GrpcSettings.defaults().withTlsPollInterval(Duration.ofMillis(50)));
    open.add(() -> transport.shutdown(Duration.ofSeconds(2)));
    return transport;
  }

  private ManagedChannel tlsChannel(int port, Issued client, String protocol) {
    try {
      SslContextBuilder ssl = GrpcSslContexts.forClient().trustManager(caFile.toFile());
      if (client != null) {
        ssl.keyManager(client.keys().getPrivate(), client.certificate());
      }
      if (protocol != null) {
        ssl.protocols(protocol);
      }
      ManagedChannel channel =
          NettyChannelBuilder.forAddress("localhost", port).sslContext(ssl.build()).build();
      open.add(() -> close(channel));
      return channel;
    } catch (IOException e) {
      throw new AssertionError(e);
    }
  }

  private ManagedChannel plaintextChannel(int port) {
    ManagedChannel channel =
        ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    open.add(() -> close(channel));
    return channel;
  }

  private static void close(ManagedChannel channel) throws InterruptedException {
    channel.shutdownNow();
    channel.awaitTermination(5, TimeUnit.SECONDS);
  }

  /** Calls GetCapabilities and returns the client's view of the TLS session it went over. */
  private static SSLSession capabilities(Channel channel) {
    AtomicReference<SSLSession> session = new AtomicReference<>();
    ServerCapabilities answer =
        CapabilitiesGrpc.newBlockingStub(channel)
            .withInterceptors(new SessionCapture(session))
            .withDeadlineAfter(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
            .getCapabilities(GetCapabilitiesRequest.getDefaultInstance());
    assertThat(answer.getLowApiVersion().getMajor()).isEqualTo(2);
    return session.get();
  }

  private static StatusRuntimeException refused(Channel channel) {
    StatusRuntimeException e =
        catchThrowableOfType(StatusRuntimeException.class, () -> capabilities(channel));
    assertThat(e).as("the call should have been refused").isNotNull();
    return e;
  }

  private static String subject(SSLSession session) throws SSLPeerUnverifiedException {
    return ((X509Certificate) session.getPeerCertificates()[0]).getSubjectX500Principal().getName();
  }

  // ---- gRPC over TLS ----

  @Test
  void grpcRunsOverTlsWithAnEcKey() throws Exception {
    GrpcTransport transport = start(serverFiles("ec-server", KeyType.EC).build());

    SSLSession session = capabilities(tlsChannel(transport.port(), null, null));

    assertThat(subject(session)).startsWith("CN=ec-server");
    assertThat(session.getPeerCertificates()[0].getPublicKey().getAlgorithm()).isEqualTo("EC");
    assertThat(session.getProtocol()).isEqualTo("TLSv1.3");
  }

  @Test
  void grpcRunsOverTlsWithAnRsaKey() throws Exception {
    GrpcTransport transport = start(serverFiles("rsa-server", KeyType.RSA).build());

    SSLSession session = capabilities(tlsChannel(transport.port(), null, null));

    assertThat(subject(session)).startsWith("CN=rsa-server");
    assertThat(session.getPeerCertificates()[0].getPublicKey().getAlgorithm()).isEqualTo("RSA");
  }

  @Test
  void tls12AndTls13AreEachNegotiated() {
    GrpcTransport transport = start(serverFiles("server", KeyType.EC).build());

    assertThat(capabilities(tlsChannel(transport.port(), null, "TLSv1.2")).getProtocol())
        .isEqualTo("TLSv1.2");
    assertThat(capabilities(tlsChannel(transport.port(), null, "TLSv1.3")).getProtocol())
        .isEqualTo("TLSv1.3");
  }

  /**
   * Both engines, on a server assembled here with the negotiator, so that the JDK's engine stays
   * proven where BoringSSL loads (and the transport therefore picks it).
   */
  @ParameterizedTest
  @EnumSource(ServerTls.Engine.class)
  void callsSeeTheSessionAndPrivacyAsWithGrpcJavasOwnTls(ServerTls.Engine engine) throws Exception {
    Issued server = ca.server("server", KeyType.EC);
    TlsSettings settings =
        TlsSettings.newBuilder(
                server.writeChain(dir.resolve("s.pem")), server.writeKey(dir.resolve("s.key")))
            .clientCa(caFile)
            .clientCertificates(ClientCertificates.OPTIONAL)
            .build();
    ServerTls tls =
        ServerTls.start(settings, "attributes", Duration.ofSeconds(10), Clock.systemUTC(), engine);
    open.add(tls);
    AtomicReference<io.grpc.Attributes> seen = new AtomicReference<>();
    ServerInterceptor recorder =
        new ServerInterceptor() {
          @Override
          public <Q, R> ServerCall.Listener<Q> interceptCall(
              ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
            seen.set(call.getAttributes());
            return next.startCall(call, headers);
          }
        };
    Server grpc =
        NettyServerBuilder.forAddress(
                new InetSocketAddress("127.0.0.1", 0),
                SharedPortNegotiator.tlsCredentials(
                    routes, AccessControl.ALLOW_ALL, tls::newHandler))
            .addService(
                new CapabilitiesGrpc.CapabilitiesImplBase() {
                  @Override
                  public void getCapabilities(
                      GetCapabilitiesRequest request, StreamObserver<ServerCapabilities> out) {
                    out.onNext(
                        ServerCapabilities.newBuilder()
                            .setLowApiVersion(
                                build.bazel.semver.SemVer.newBuilder().setMajor(2).build())
                            .build());
                    out.onCompleted();
                  }
                })
            .intercept(recorder)
            .build()
            .start();
    open.add(() -> grpc.shutdownNow().awaitTermination(5, TimeUnit.SECONDS));
    Issued client = ca.client("worker-1", KeyType.EC);

    capabilities(tlsChannel(grpc.getPort(), client, null));

    io.grpc.Attributes attributes = seen.get();
    assertThat(attributes.get(io.grpc.internal.GrpcAttributes.ATTR_SECURITY_LEVEL))
        .isEqualTo(SecurityLevel.PRIVACY_AND_INTEGRITY);
    SSLSession session = attributes.get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    assertThat(session).isNotNull();
    Certificate[] peer = session.getPeerCertificates();
    assertThat(((X509Certificate) peer[0]).getSubjectX500Principal().getName())
        .startsWith("CN=worker-1");
    assertThat(attributes.get(Grpc.TRANSPORT_ATTR_REMOTE_ADDR)).isNotNull();

    capabilities(tlsChannel(grpc.getPort(), null, null));
    SSLSession anonymous = seen.get().get(Grpc.TRANSPORT_ATTR_SSL_SESSION);
    assertThat(anonymous).isNotNull();
    assertThat(
            catchThrowableOfType(SSLPeerUnverifiedException.class, anonymous::getPeerCertificates))
        .isNotNull();

    // The rest of what the transport's tests prove with the default engine, with this one.
    assertThat(capabilities(tlsChannel(grpc.getPort(), null, "TLSv1.2")).getProtocol())
        .isEqualTo("TLSv1.2");
    Instant now = Instant.now();
    Issued expired =
        ca.issue(
            "old", KeyType.EC, now.minus(Duration.ofDays(3)), now.minus(Duration.ofDays(1)), false);
    assertThat(refused(tlsChannel(grpc.getPort(), expired, null)).getStatus().getCode())
        .isEqualTo(Status.Code.UNAVAILABLE);
    Run http =
        Run.of(
            curl(),
            "-sS",
            "--cacert",
            caFile.toString(),
            "https://localhost:" + grpc.getPort() + "/healthz");
    assertThat(http.out).as(http.toString()).isEqualTo("ok\n");
    Run alpn =
        Run.of(
            "openssl",
            "s_client",
            "-connect",
            "127.0.0.1:" + grpc.getPort(),
            "-CAfile",
            caFile.toString(),
            "-alpn",
            "h2,http/1.1");
    assertThat(alpn.out).as(alpn.toString()).contains("ALPN protocol: http/1.1");
  }

  // ---- client certificates ----

  @Test
  void requiredClientCertificatesRefuseNoneAnotherCasAndExpiredOnes() throws Exception {
    GrpcTransport transport =
        start(
            serverFiles("server", KeyType.EC)
                .clientCa(caFile)
                .clientCertificates(ClientCertificates.REQUIRED)
                .build());
    int port = transport.port();
    Issued good = ca.client("worker-1", KeyType.EC);
    Issued stranger = TestCertificates.authority("Another CA").client("worker-1", KeyType.EC);
    Instant now = Instant.now();
    Issued expired =
        ca.issue(
            "old-worker",
            KeyType.RSA,
            now.minus(Duration.ofDays(3)),
            now.minus(Duration.ofDays(1)),
            false);

    assertThat(refused(tlsChannel(port, null, null)).getStatus().getCode())
        .isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(refused(tlsChannel(port, stranger, null)).getStatus().getCode())
        .isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(refused(tlsChannel(port, expired, null)).getStatus().getCode())
        .isEqualTo(Status.Code.UNAVAILABLE);
    // The same refusals over TLS 1.2, where the client learns of them during the handshake.
    assertThat(refused(tlsChannel(port, null, "TLSv1.2")).getStatus().getCode())
        .isEqualTo(Status.Code.UNAVAILABLE);

    // ... and the server still serves the next good client.
    assertThat(capabilities(tlsChannel(port, good, null))).isNotNull();
  }

  @Test
  void optionalClientCertificatesLetClientsWithoutOneIn() {
    GrpcTransport transport =
        start(serverFiles("server", KeyType.EC).clientCa(caFile).build()); // optional by default
    int port = transport.port();
    Instant now = Instant.now();
    Issued expired =
        ca.issue(
            "old", KeyType.EC, now.minus(Duration.ofDays(3)), now.minus(Duration.ofDays(1)), false);

    assertThat(capabilities(tlsChannel(port, null, null))).isNotNull();
    assertThat(capabilities(tlsChannel(port, ca.client("worker-1", KeyType.RSA), null)))
        .isNotNull();
    // A certificate that is sent must still verify (for one of another CA, see the openssl test).
    assertThat(refused(tlsChannel(port, expired, null)).getStatus().getCode())
        .isEqualTo(Status.Code.UNAVAILABLE);
  }

  @Test
  void aClientCaBundleOfSeveralAuthoritiesAcceptsEach() {
    Authority second = TestCertificates.authority("Second CA", KeyType.RSA);
    Path bundle =
        TestCertificates.concatenate(
            dir.resolve("bundle.pem"), caFile, second.writeCertificate(dir.resolve("second.pem")));
    GrpcTransport transport =
        start(
            serverFiles("server", KeyType.EC)
                .clientCa(bundle)
                .clientCertificates(ClientCertificates.REQUIRED)
                .build());

    assertThat(capabilities(tlsChannel(transport.port(), ca.client("a", KeyType.EC), null)))
        .isNotNull();
    assertThat(capabilities(tlsChannel(transport.port(), second.client("b", KeyType.EC), null)))
        .isNotNull();
  }

  // ---- rotation ----

  @Test
  void replacedFilesReachNewConnectionsWithoutARestart() throws Exception {
    GrpcTransport transport = start(serverFiles("first", KeyType.EC).build());
    int port = transport.port();
    assertThat(subject(capabilities(tlsChannel(port, null, null)))).startsWith("CN=first");

    Issued second = ca.server("second", KeyType.RSA);
    // A key alone that does not match the certificate yet: the old material stays.
    second.writeKey(dir.resolve("server.key"));
    assertThat(subject(capabilities(tlsChannel(port, null, null)))).startsWith("CN=first");
    second.writeChain(dir.resolve("server.pem"));

    await()
        .atMost(TIMEOUT)
        .untilAsserted(
            () ->
                assertThat(subject(capabilities(tlsChannel(port, null, null))))
                    .startsWith("CN=second"));
  }

  @Test
  void aBrokenReplacementKeepsTheOldCertificate() throws Exception {
    GrpcTransport transport = start(serverFiles("first", KeyType.EC).build());
    int port = transport.port();
    java.nio.file.Files.writeString(dir.resolve("server.pem"), "not a certificate\n");

    // Several polls later the broken file has been seen and refused; new connections still work.
    for (int i = 0; i < 5; i++) {
      assertThat(subject(capabilities(tlsChannel(port, null, null)))).startsWith("CN=first");
      Thread.onSpinWait();
    }
  }

  @Test
  void aRotatedClientCaBundleDecidesNewHandshakes() {
    Path clientCa = ca.writeCertificate(dir.resolve("client-ca.pem"));
    GrpcTransport transport =
        start(
            serverFiles("server", KeyType.EC)
                .clientCa(clientCa)
                .clientCertificates(ClientCertificates.REQUIRED)
                .build());
    int port = transport.port();
    Authority next = TestCertificates.authority("Next CA");
    Issued nextClient = next.client("worker-2", KeyType.EC);
    assertThat(refused(tlsChannel(port, nextClient, null)).getStatus().getCode())
        .isEqualTo(Status.Code.UNAVAILABLE);

    next.writeCertificate(clientCa);

    await()
        .atMost(TIMEOUT)
        .untilAsserted(
            () -> assertThat(capabilities(tlsChannel(port, nextClient, null))).isNotNull());
  }

  // ---- the wrong protocol on each kind of port ----

  @Test
  void aPlaintextClientOnTheTlsPortFailsAndTheServerServesTheNext() {
    GrpcTransport transport = start(serverFiles("server", KeyType.EC).build());

    StatusRuntimeException e = refused(plaintextChannel(transport.port()));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(capabilities(tlsChannel(transport.port(), null, null))).isNotNull();
  }

  @Test
  void aTlsClientOnAPlaintextPortFailsAndTheServerServesTheNext() {
    GrpcTransport transport = start(Optional.empty());

    StatusRuntimeException e = refused(tlsChannel(transport.port(), null, null));

    assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(
            CapabilitiesGrpc.newBlockingStub(plaintextChannel(transport.port()))
                .withDeadlineAfter(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                .getCapabilities(GetCapabilitiesRequest.getDefaultInstance())
                .getLowApiVersion()
                .getMajor())
        .isEqualTo(2);
  }

  // ---- the HTTP routes over TLS, with real curl and openssl ----

  @Test
  void curlReadsHealthAndMetricsOverHttps() throws Exception {
    GrpcTransport transport = start(serverFiles("server", KeyType.RSA).build());
    String base = "https://localhost:" + transport.port();

    Run health = Run.of(curl(), "-sS", "--cacert", caFile.toString(), base + "/healthz");
    Run metrics = Run.of(curl(), "-sS", "--cacert", caFile.toString(), base + "/metrics");
    Run missing =
        Run.of(
            curl(),
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{http_version}",
            "--cacert",
            caFile.toString(),
            base + "/nothing");

    assertThat(health.exit).as(health.toString()).isZero();
    assertThat(health.out).isEqualTo("ok\n");
    assertThat(metrics.out).isEqualTo(METRICS);
    assertThat(missing.out).isEqualTo("404 1.1");
  }

  @Test
  void curlNeedsAClientCertificateWhenTheServerRequiresOne() throws Exception {
    GrpcTransport transport =
        start(
            serverFiles("server", KeyType.EC)
                .clientCa(caFile)
                .clientCertificates(ClientCertificates.REQUIRED)
                .build());
    String url = "https://localhost:" + transport.port() + "/healthz";
    Issued client = ca.client("scraper", KeyType.EC);
    Path cert = client.writeCertificate(dir.resolve("client.pem"));
    Path key = client.writeKey(dir.resolve("client.key"));

    Run without = Run.of(curl(), "-sS", "--cacert", caFile.toString(), url);
    Run with =
        Run.of(
            curl(),
            "-sS",
            "--cacert",
            caFile.toString(),
            "--cert",
            cert.toString(),
            "--key",
            key.toString(),
            url);

    assertThat(without.exit).as(without.toString()).isNotZero();
    assertThat(with.exit).as(with.toString()).isZero();
    assertThat(with.out).isEqualTo("ok\n");
  }

  @Test
  void curlOverPlainHttpOnTheTlsPortIsToldToUseHttps() throws Exception {
    GrpcTransport transport = start(serverFiles("server", KeyType.EC).build());

    Run plain =
        Run.of(
            curl(),
            "-sS",
            "-w",
            "%{http_code}",
            "http://127.0.0.1:" + transport.port() + "/healthz");

    assertThat(plain.out)
        .as(plain.toString())
        .isEqualTo("this port speaks TLS only; use https:// instead of http:// here\n400");
    assertThat(
            Run.of(
                    curl(),
                    "-sS",
                    "--cacert",
                    caFile.toString(),
                    "https://localhost:" + transport.port() + "/healthz")
                .out)
        .isEqualTo("ok\n");
  }

  @Test
  void opensslSeesTheHandshakeRefusedWithoutAClientCertificate() throws Exception {
    GrpcTransport transport =
        start(
            serverFiles("server", KeyType.EC)
                .clientCa(caFile)
                .clientCertificates(ClientCertificates.REQUIRED)
                .build());
    String connect = "127.0.0.1:" + transport.port();

    Run refused =
        Run.of(
            "openssl",
            "s_client",
            "-connect",
            connect,
            "-CAfile",
            caFile.toString(),
            "-verify_return_error",
            "-brief",
            "-tls1_2");
    Issued client = ca.client("admin", KeyType.RSA);
    Run accepted =
        Run.of(
            "openssl",
            "s_client",
            "-connect",
            connect,
            "-CAfile",
            caFile.toString(),
            "-verify_return_error",
            "-alpn",
            "h2",
            "-cert",
            client.writeCertificate(dir.resolve("c.pem")).toString(),
            "-key",
            client.writeKey(dir.resolve("c.key")).toString());

    assertThat(refused.exit).as(refused.toString()).isNotZero();
    assertThat(refused.err).containsIgnoringCase("alert");
    assertThat(accepted.out).as(accepted.toString()).contains("Verify return code: 0 (ok)");
    assertThat(accepted.out).contains("ALPN protocol: h2");
  }

  @Test
  void opensslSeesACertificateOfAnotherCaRefusedWhetherRequiredOrOptional() throws Exception {
    Issued stranger = TestCertificates.authority("Another CA").client("intruder", KeyType.EC);
    Path cert = stranger.writeCertificate(dir.resolve("intruder.pem"));
    Path key = stranger.writeKey(dir.resolve("intruder.key"));
    for (ClientCertificates mode :
        List.of(ClientCertificates.REQUIRED, ClientCertificates.OPTIONAL)) {
      GrpcTransport transport =
          start(
              serverFiles("server", KeyType.EC).clientCa(caFile).clientCertificates(mode).build());

      // openssl sends its certificate even when the server's list of CAs does not name its issuer
      // (grpc-java's client would send none), so the server's verification is what refuses it.
      Run intruder =
          Run.of(
              "openssl",
              "s_client",
              "-connect",
              "127.0.0.1:" + transport.port(),
              "-CAfile",
              caFile.toString(),
              "-tls1_2",
              "-cert",
              cert.toString(),
              "-key",
              key.toString());

      assertThat(intruder.exit).as(mode + ": " + intruder).isNotZero();
      assertThat(intruder.err).as(mode + ": " + intruder).containsIgnoringCase("alert");
    }
  }

  @Test
  void alpnPicksHttp11ForClientsThatOfferIt() throws Exception {
    GrpcTransport transport = start(serverFiles("server", KeyType.EC).build());

    Run both =
        Run.of(
            "openssl",
            "s_client",
            "-connect",
            "127.0.0.1:" + transport.port(),
            "-CAfile",
            caFile.toString(),
            "-alpn",
            "h2,http/1.1");

    assertThat(both.out).as(both.toString()).contains("ALPN protocol: http/1.1");
  }

  private static String curl() {
    String path = System.getenv().getOrDefault("PATH", "/usr/bin:/bin");
    for (String entry : path.split(":")) {
      if (java.nio.file.Files.isExecutable(Path.of(entry, "curl"))) {
        return Path.of(entry, "curl").toString();
      }
    }
    throw new AssertionError("curl is not installed; install it with: apt-get install -y curl");
  }

  /** A finished process: its exit code, standard output and error. */
  private record Run(int exit, String out, String err) {
    static Run of(String... command) throws IOException, InterruptedException {
      ProcessBuilder builder = new ProcessBuilder(command);
      builder.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
      Process process = builder.start();
      // Outputs are small; read them fully before waiting.
      byte[] out = process.getInputStream().readAllBytes();
      byte[] err = process.getErrorStream().readAllBytes();
      if (!process.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
        process.destroyForcibly();
        throw new AssertionError(String.join(" ", command) + " did not finish");
      }
      return new Run(
          process.exitValue(),
          new String(out, StandardCharsets.UTF_8),
          new String(err, StandardCharsets.UTF_8));
    }
  }

  /** Records the TLS session of the call it intercepts, as the client sees it. */
  private static final class SessionCapture implements ClientInterceptor {
    private final AtomicReference<SSLSession> session;

    SessionCapture(AtomicReference<SSLSession> session) {
      this.session = session;
    }

    @Override
    public <Q, R> ClientCall<Q, R> interceptCall(
        MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
      ClientCall<Q, R> call = next.newCall(method, options);
      return new ForwardingClientCall.SimpleForwardingClientCall<>(call) {
        @Override
        public void start(Listener<R> listener, Metadata headers) {
          super.start(
              new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
                @Override
                public void onHeaders(Metadata received) {
                  session.set(call.getAttributes().get(Grpc.TRANSPORT_ATTR_SSL_SESSION));
                  super.onHeaders(received);
                }
              },
              headers);
        }
      };
    }
  }
}
