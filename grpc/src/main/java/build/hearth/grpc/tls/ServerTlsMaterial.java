package build.hearth.grpc.tls;

import build.hearth.spi.transport.TlsSettings;
import build.hearth.spi.transport.TlsSettings.ClientCertificates;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2SecurityUtil;
import io.grpc.netty.shaded.io.netty.handler.ssl.ApplicationProtocolConfig;
import io.grpc.netty.shaded.io.netty.handler.ssl.ApplicationProtocolNames;
import io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth;
import io.grpc.netty.shaded.io.netty.handler.ssl.OpenSsl;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContext;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import io.grpc.netty.shaded.io.netty.handler.ssl.SupportedCipherSuiteFilter;
import java.nio.file.Path;
import java.security.PrivateKey;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SSLException;

/**
 * One consistent set of a server's TLS files: their bytes as read, the certificates and key parsed
 * and checked from exactly those bytes, and the {@link SslContext} built from them. Reading each
 * file once and parsing those bytes means a file replaced in the middle cannot mix two versions.
 * Immutable.
 */
final class ServerTlsMaterial {
  /**
   * The server's preference, in ALPN order: HTTP/1.1 first, because a client that offers it (a
   * browser, curl) can speak it and the HTTP routes speak only HTTP/1.1, while gRPC clients offer
   * only {@code h2} and get it.
   */
  static final List<String> ALPN =
      List.of(ApplicationProtocolNames.HTTP_1_1, ApplicationProtocolNames.HTTP_2);

  static final String[] PROTOCOLS = {"TLSv1.3", "TLSv1.2"};

  /**
   * The TLS engine: BoringSSL, which grpc-netty-shaded bundles (netty-tcnative, shaded) and
   * grpc-java itself prefers, when its native library loads on this machine; the JDK's engine
   * otherwise. In the CAS load driver the JDK's engine wrote over TLS at 0.50 and 0.56 of the
   * plaintext rate, under the 0.6 target, and BoringSSL at 0.96 and 1.23 in the same alternating
   * runs (see docs/benchmarks.md, "TLS").
   */
  static final SslProvider PROVIDER = OpenSsl.isAvailable() ? SslProvider.OPENSSL : SslProvider.JDK;

  private final Files files;
  private final List<X509Certificate> chain;
  private final SslContext sslContext;

  private ServerTlsMaterial(Files files, List<X509Certificate> chain, SslContext sslContext) {
    this.files = files;
    this.chain = chain;
    this.sslContext = sslContext;
  }

  /** The bytes of the files, compared on each poll to see whether anything changed. */
  record Files(byte[] chain, byte[] key, byte[] clientCa) {
    /** Stands for "a file could not be read" among the broken sets already reported. */
    static final Files EMPTY = new Files(new byte[0], new byte[0], null);

    static Files read(TlsSettings settings) {
      return new Files(
          PemFiles.read(settings.certificateChain(), "certificate chain"),
          PemFiles.read(settings.privateKey(), "private key"),
          settings.clientCa().map(ca -> PemFiles.read(ca, "client CA bundle")).orElse(null));
    }

    boolean sameAs(Files other) {
      return Arrays.equals(chain, other.chain)
          && Arrays.equals(key, other.key)
          && Arrays.equals(clientCa, other.clientCa);
    }
  }

  /**
   * Parses and checks {@code files} and builds the context.
   *
   * @throws build.hearth.api.HearthException FAILED_PRECONDITION naming the file at fault
   */
  static ServerTlsMaterial build(
      TlsSettings settings, Files files, Instant now, SslProvider provider) {
    Path chainFile = settings.certificateChain();
    List<X509Certificate> chain =
        PemFiles.certificates(chainFile, "certificate chain", files.chain);
    PrivateKey key = PemFiles.privateKey(settings.privateKey(), files.key);
    X509Certificate leaf = chain.get(0);
    PemFiles.checkKeyMatches(key, leaf, settings.privateKey(), chainFile);
    checkValidity(leaf, chainFile, now);
    List<X509Certificate> clientCa =
        settings
            .clientCa()
            .map(ca -> PemFiles.certificates(ca, "client CA bundle", files.clientCa))
            .orElse(List.of());
    SslContextBuilder builder =
        SslContextBuilder.forServer(key, chain.toArray(X509Certificate[]::new))
            .sslProvider(provider)
            .protocols(PROTOCOLS)
            .ciphers(Http2SecurityUtil.CIPHERS, SupportedCipherSuiteFilter.INSTANCE)
            .applicationProtocolConfig(
                new ApplicationProtocolConfig(
                    ApplicationProtocolConfig.Protocol.ALPN,
                    // A client offering neither still gets a connection; its first bytes decide.
                    ApplicationProtocolConfig.SelectorFailureBehavior.NO_ADVERTISE,
                    ApplicationProtocolConfig.SelectedListenerFailureBehavior.ACCEPT,
                    ALPN));
    if (settings.clientCertificates() != ClientCertificates.NONE) {
      builder
          .trustManager(clientCa.toArray(X509Certificate[]::new))
          .clientAuth(
              settings.clientCertificates() == ClientCertificates.REQUIRED
                  ? ClientAuth.REQUIRE
                  : ClientAuth.OPTIONAL);
    }
    try {
      return new ServerTlsMaterial(files, chain, builder.build());
    } catch (SSLException | IllegalArgumentException e) {
      throw PemFiles.fail(
          chainFile, "certificate chain", "the TLS engine refused it with the key: " + e);
    }
  }

  /**
   * A server certificate out of its validity period is an error rather than a warning: every client
   * would refuse the handshake, so serving it only moves the failure to where it is harder to read.
   */
  private static void checkValidity(X509Certificate leaf, Path file, Instant now) {
    try {
      leaf.checkValidity(java.util.Date.from(now));
    } catch (CertificateExpiredException e) {
      throw PemFiles.fail(
          file,
          "certificate chain",
          "the server certificate "
              + leaf.getSubjectX500Principal().getName()
              + " expired on "
              + leaf.getNotAfter().toInstant()
              + "; give a current one");
    } catch (CertificateNotYetValidException e) {
      throw PemFiles.fail(
          file,
          "certificate chain",
          "the server certificate "
              + leaf.getSubjectX500Principal().getName()
              + " is not valid before "
              + leaf.getNotBefore().toInstant()
              + " (is this machine's clock right?)");
    }
  }

  Files files() {
    return files;
  }

  SslContext sslContext() {
    return sslContext;
  }

  X509Certificate leaf() {
    return chain.get(0);
  }

  /** The leaf's subject and expiry, for logs. */
  String describe() {
    X509Certificate leaf = leaf();
    return leaf.getSubjectX500Principal().getName()
        + " (valid until "
        + leaf.getNotAfter().toInstant()
        + ")";
  }
}
