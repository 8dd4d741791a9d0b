package build.hearth.grpc.tls;

import build.hearth.api.HearthException;
import io.grpc.ChannelCredentials;
import io.grpc.TlsChannelCredentials;
import java.io.IOException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;

/**
 * The TLS side of a Hearth client ({@code hearth worker}, {@code hearth admin}): which certificate
 * authorities it trusts (a PEM bundle, or the JDK's own when none is given) and, for mutual TLS,
 * which certificate and PKCS#8 key it presents. The files are read once, by {@link #load}, with
 * {@link PemFiles}' checks, so a wrong file is reported by name before any connection is tried.
 *
 * <p>One value serves both protocols: {@link #channelCredentials()} for gRPC and {@link
 * #sslContext()} for HTTPS. Immutable and thread-safe.
 */
public final class ClientTls {
  private final TrustManager[] trustManagers; // null: the JDK's trusted authorities
  private final KeyManager[] keyManagers; // null: no client certificate
  private final String description;

  private ClientTls(TrustManager[] trustManagers, KeyManager[] keyManagers, String description) {
    this.trustManagers = trustManagers;
    this.keyManagers = keyManagers;
    this.description = description;
  }

  /**
   * Reads a client's TLS files.
   *
   * @param caBundle the PEM bundle of the authorities to trust; empty for the JDK's own
   * @param certificate the PEM file of the client's certificate (chain, leaf first); only with
   *     {@code key}
   * @param key the PEM PKCS#8 file of the certificate's key; only with {@code certificate}
   * @return the client's TLS side, with the files read
   * @throws HearthException FAILED_PRECONDITION naming the file at fault, or when only one of
   *     certificate and key is given
   */
  public static ClientTls load(
      Optional<Path> caBundle, Optional<Path> certificate, Optional<Path> key) {
    if (certificate.isPresent() != key.isPresent()) {
      throw HearthException.failedPrecondition(
          "a client certificate needs its key and a key its certificate; give both (%s is"
              + " missing)",
          certificate.isPresent() ? "the key" : "the certificate");
    }
    try {
      TrustManager[] trust = null;
      StringBuilder description = new StringBuilder();
      if (caBundle.isPresent()) {
        List<X509Certificate> authorities = PemFiles.certificates(caBundle.get(), "CA bundle");
        KeyStore store = emptyStore();
        for (int i = 0; i < authorities.size(); i++) {
          store.setCertificateEntry("ca-" + i, authorities.get(i));
        }
        TrustManagerFactory factory =
            TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        trust = factory.getTrustManagers();
        description.append("trusting ").append(caBundle.get());
      } else {
        description.append("trusting the JDK's certificate authorities");
      }
      KeyManager[] keys = null;
      if (certificate.isPresent()) {
        List<X509Certificate> chain =
            PemFiles.certificates(certificate.get(), "client certificate");
        PrivateKey privateKey = PemFiles.privateKey(key.get());
        PemFiles.checkKeyMatches(privateKey, chain.get(0), key.get(), certificate.get());
        KeyStore store = emptyStore();
        char[] password = new char[0];
        store.setKeyEntry("client", privateKey, password, chain.toArray(X509Certificate[]::new));
        KeyManagerFactory factory =
            KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(store, password);
        keys = factory.getKeyManagers();
        description
            .append(", presenting ")
            .append(chain.get(0).getSubjectX500Principal().getName());
      }
      return new ClientTls(trust, keys, description.toString());
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("this JVM cannot hold TLS keys in memory", e);
    }
  }

  /** {@return TLS with the JDK's trusted authorities and no client certificate} */
  public static ClientTls systemDefault() {
    return new ClientTls(null, null, "trusting the JDK's certificate authorities");
  }

  /** {@return whether a client certificate is presented} */
  public boolean hasClientCertificate() {
    return keyManagers != null;
  }

  /** {@return gRPC channel credentials for TLS with these authorities and certificate} */
  public ChannelCredentials channelCredentials() {
    TlsChannelCredentials.Builder builder = TlsChannelCredentials.newBuilder();
    if (trustManagers != null) {
      builder.trustManager(trustManagers);
    }
    if (keyManagers != null) {
      builder.keyManager(keyManagers);
    }
    return builder.build();
  }

  /** {@return an SSL context for HTTPS clients such as {@link java.net.http.HttpClient}} */
  public SSLContext sslContext() {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keyManagers, trustManagers, null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("this JVM cannot make a TLS context", e);
    }
  }

  private static KeyStore emptyStore() throws GeneralSecurityException, IOException {
    KeyStore store = KeyStore.getInstance(KeyStore.getDefaultType());
    store.load(null, null);
    return store;
  }

  @Override
  public String toString() {
    return description;
  }
}
