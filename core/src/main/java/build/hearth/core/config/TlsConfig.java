package build.hearth.core.config;

import build.hearth.spi.transport.TlsSettings;
import build.hearth.spi.transport.TlsSettings.ClientCertificates;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * A server's {@code tls} block: the PEM files of its certificate chain and private key, and whether
 * it verifies clients' certificates against a CA bundle. Relative paths in the file are resolved
 * against the directory of the configuration file, so a configuration and its {@code certs/}
 * directory can move together; the paths here are resolved already.
 *
 * <p>Built only by {@link HearthConfig}'s readers, which have checked that {@code optional} and
 * {@code required} come with a client CA bundle. The files themselves are read by the transport
 * when it starts. Immutable and thread-safe.
 */
public final class TlsConfig {
  private final TlsSettings settings;

  TlsConfig(
      Path certificateChain,
      Path privateKey,
      Path clientCa,
      ClientCertificates clientCertificates) {
    TlsSettings.Builder builder = TlsSettings.newBuilder(certificateChain, privateKey);
    if (clientCa != null) {
      builder.clientCa(clientCa);
    }
    this.settings = builder.clientCertificates(clientCertificates).build();
  }

  /** {@return the PEM file of the server's certificate chain, leaf first} */
  public Path certificateChain() {
    return settings.certificateChain();
  }

  /** {@return the PEM file of the server's private key: PKCS#8, RSA or EC} */
  public Path privateKey() {
    return settings.privateKey();
  }

  /**
   * {@return the PEM bundle of the authorities client certificates must chain to; empty without
   * one}
   */
  public Optional<Path> clientCa() {
    return settings.clientCa();
  }

  /** {@return whether clients are asked for a certificate, and must present one} */
  public ClientCertificates clientCertificates() {
    return settings.clientCertificates();
  }

  /** {@return these settings as a transport receives them} */
  public TlsSettings settings() {
    return settings;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TlsConfig that && settings.equals(that.settings);
  }

  @Override
  public int hashCode() {
    return Objects.hash(settings);
  }

  @Override
  public String toString() {
    return settings.toString();
  }
}
