package build.hearth.core.config;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * How a standalone worker proves who it is to its scheduler, from its file's {@code tls} block and
 * {@code tokenFile}: the CA bundle that verifies the scheduler, a client certificate and key for
 * mutual TLS, and the file of a bearer token. Only paths are held; the worker reads the files when
 * it starts. The worker's command-line options, when given, take the place of these values one by
 * one.
 *
 * <p>Built only by the reader, which has resolved relative paths against the file's directory and
 * checked that a certificate comes with its key. Immutable and thread-safe.
 */
public final class ClientCredentialsConfig {
  static final ClientCredentialsConfig NONE = new ClientCredentialsConfig(null, null, null, null);

  /** {@return no credentials at all: the JDK's authorities, no certificate, no token file} */
  public static ClientCredentialsConfig none() {
    return NONE;
  }

  private final Path caBundle;
  private final Path clientCertificate;
  private final Path clientKey;
  private final Path tokenFile;

  ClientCredentialsConfig(Path caBundle, Path clientCertificate, Path clientKey, Path tokenFile) {
    this.caBundle = caBundle;
    this.clientCertificate = clientCertificate;
    this.clientKey = clientKey;
    this.tokenFile = tokenFile;
  }

  /**
   * {@return the PEM bundle of the authorities that sign the scheduler's certificate; empty: the
   * JDK's}
   */
  public Optional<Path> caBundle() {
    return Optional.ofNullable(caBundle);
  }

  /**
   * {@return the PEM certificate to present for mutual TLS; present exactly when {@link
   * #clientKey()} is}
   */
  public Optional<Path> clientCertificate() {
    return Optional.ofNullable(clientCertificate);
  }

  /** {@return the PEM PKCS#8 key of {@link #clientCertificate()}} */
  public Optional<Path> clientKey() {
    return Optional.ofNullable(clientKey);
  }

  /** {@return the file whose first line is the bearer token to send; empty: none from the file} */
  public Optional<Path> tokenFile() {
    return Optional.ofNullable(tokenFile);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof ClientCredentialsConfig that
        && Objects.equals(caBundle, that.caBundle)
        && Objects.equals(clientCertificate, that.clientCertificate)
        && Objects.equals(clientKey, that.clientKey)
        && Objects.equals(tokenFile, that.tokenFile);
  }

  @Override
  public int hashCode() {
    return Objects.hash(caBundle, clientCertificate, clientKey, tokenFile);
  }

  @Override
  public String toString() {
    // Paths only; the token itself is never read here.
    return "ClientCredentialsConfig{caBundle="
        + caBundle
        + ", clientCertificate="
        + clientCertificate
        + ", clientKey="
        + clientKey
        + ", tokenFile="
        + tokenFile
        + "}";
  }
}
