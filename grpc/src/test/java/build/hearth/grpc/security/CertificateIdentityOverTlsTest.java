package build.hearth.grpc.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.ServerCapabilities;
import build.hearth.core.config.HearthConfig;
import build.hearth.core.security.ConfiguredAccessControl;
import build.hearth.spi.security.Identity;
import io.grpc.ChannelCredentials;
import io.grpc.Grpc;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.TlsChannelCredentials;
import io.grpc.TlsServerCredentials;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Certificate identities through grpc-java's own TLS (which puts the {@code SSLSession} in the
 * call's attributes, as Hearth's TLS negotiation does): the verified client certificate's subject
 * and SANs are the identity policies match. Certificates are made by the JDK's {@code keytool}.
 */
class CertificateIdentityOverTlsTest {
  @TempDir Path dir;

  private KeyStore keyStore(String alias, String dname, String san) throws Exception {
    Path store = dir.resolve(alias + ".p12");
    Process process =
        new ProcessBuilder(
                Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair",
                "-alias",
                alias,
                "-keyalg",
                "EC",
                "-dname",
                dname,
                "-ext",
                "SAN=" + san,
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                store.toString(),
                "-storepass",
                "changeit")
            .redirectErrorStream(true)
            .start();
    String output = new String(process.getInputStream().readAllBytes());
    if (!process.waitFor(60, TimeUnit.SECONDS) || process.exitValue() != 0) {
      throw new IOException("keytool failed: " + output);
    }
    KeyStore keyStore = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      keyStore.load(in, "changeit".toCharArray());
    }
    return keyStore;
  }

  private static KeyManagerFactory keys(KeyStore store) throws Exception {
    KeyManagerFactory factory =
        KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    factory.init(store, "changeit".toCharArray());
    return factory;
  }

  private static TrustManagerFactory trusting(X509Certificate certificate) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    trust.setCertificateEntry("trusted", certificate);
    TrustManagerFactory factory =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trust);
    return factory;
  }

  @Test
  void clientCertificateSubjectAndSansAreTheIdentity() throws Exception {
    KeyStore server = keyStore("server", "CN=localhost", "dns:localhost,ip:127.0.0.1");
    KeyStore worker = keyStore("worker", "CN=worker-3,O=Example", "dns:worker-3.build.example");
    KeyStore stranger = keyStore("stranger", "CN=stranger", "dns:stranger.example");
    X509Certificate serverCertificate = (X509Certificate) server.getCertificate("server");
    KeyStore clientTrust = KeyStore.getInstance("PKCS12");
    clientTrust.load(null, null);
    clientTrust.setCertificateEntry("worker", worker.getCertificate("worker"));
    clientTrust.setCertificateEntry("stranger", stranger.getCertificate("stranger"));
    TrustManagerFactory serverTrust =
        TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    serverTrust.init(clientTrust);

    var access =
        HearthConfig.parse(
                """
                {"blobStores": {"cas": {"type": "memory"}},
                 "servers": [{"listen": "127.0.0.1:0", "instances": {"": {"cas": "cas"}},
                   "authentication": {"trustLoopback": false},
                   "permissions": [
                     {"identities": ["certificate:CN=worker-*,O=Example"], "grant": ["worker"]},
                     {"identities": ["san:*.build.example"], "grant": ["read"]}
                   ]}]}
                """,
                "test.json")
            .servers()
            .get(0)
            .access();
    AtomicReference<Identity> seen = new AtomicReference<>();
    Server grpc =
        Grpc.newServerBuilderForPort(
                0,
                TlsServerCredentials.newBuilder()
                    .keyManager(keys(server).getKeyManagers())
                    .trustManager(serverTrust.getTrustManagers())
                    .clientAuth(TlsServerCredentials.ClientAuth.REQUIRE)
                    .build())
            .intercept(
                new AccessInterceptor(ConfiguredAccessControl.newBuilder("tls", access).build()))
            .addService(
                new CapabilitiesGrpc.CapabilitiesImplBase() {
                  @Override
                  public void getCapabilities(
                      GetCapabilitiesRequest request, StreamObserver<ServerCapabilities> out) {
                    seen.set(CallIdentity.current().orElse(null));
                    out.onNext(ServerCapabilities.getDefaultInstance());
                    out.onCompleted();
                  }
                })
            .build()
            .start();
    try {
      Status workerStatus = call(grpc.getPort(), worker, "worker", serverCertificate);
      Status strangerStatus = call(grpc.getPort(), stranger, "stranger", serverCertificate);

      assertThat(workerStatus.getCode()).isEqualTo(Status.Code.OK);
      assertThat(seen.get().name()).isEqualTo("certificate:CN=worker-3,O=Example");
      assertThat(seen.get().alternativeNames()).containsExactly("san:worker-3.build.example");
      assertThat(strangerStatus.getCode()).isEqualTo(Status.Code.PERMISSION_DENIED);
      assertThat(strangerStatus.getDescription())
          .startsWith("certificate:CN=stranger lacks \"read\" on instance \"\"");
    } finally {
      grpc.shutdownNow();
      grpc.awaitTermination(5, TimeUnit.SECONDS);
    }
  }

  private Status call(int port, KeyStore client, String alias, X509Certificate serverCertificate)
      throws Exception {
    ChannelCredentials credentials =
        TlsChannelCredentials.newBuilder()
            .keyManager(keys(client).getKeyManagers())
            .trustManager(trusting(serverCertificate).getTrustManagers())
            .build();
    ManagedChannel channel =
        Grpc.newChannelBuilderForAddress("localhost", port, credentials).build();
    try {
      StatusRuntimeException failure =
          catchThrowableOfType(
              StatusRuntimeException.class,
              () ->
                  CapabilitiesGrpc.newBlockingStub(channel)
                      .withDeadlineAfter(20, TimeUnit.SECONDS)
                      .getCapabilities(GetCapabilitiesRequest.getDefaultInstance()));
      return failure == null ? Status.OK : failure.getStatus();
    } finally {
      channel.shutdownNow();
      channel.awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
