package build.hearth.spi.transport;

import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * How a transport secures its port with TLS: the server's certificate chain and private key, and
 * whether (and against which certificate authorities) it verifies clients' certificates. Only file
 * paths travel here, not key material, so a transport can read the files again when they change
 * (certificate rotation without a restart) and report a broken file by its path.
 *
 * <p>The files are PEM: the chain leaf first, the key PKCS#8 ({@code BEGIN PRIVATE KEY}), the
 * client CA bundle one or more certificates. This type does not read them; the transport does, when
 * it starts, and fails to start with a message naming the file when one is unusable.
 *
 * <pre>{@code
 * TlsSettings tls =
 *     TlsSettings.newBuilder(Path.of("/etc/hearth/server.pem"), Path.of("/etc/hearth/server.key"))
 *         .clientCa(Path.of("/etc/hearth/ca.pem"))
 *         .clientCertificates(TlsSettings.ClientCertificates.REQUIRED)
 *         .build();
 * }</pre>
 *
 * <p>Immutable and thread-safe; new settings arrive with defaults, so transports keep compiling.
 */
public final class TlsSettings {
  /** Whether a transport asks clients for a certificate during the handshake. */
  public enum ClientCertificates {
    /** Clients are not asked for a certificate; the default without a client CA bundle. */
    NONE("none"),
    /**
     * Clients are asked; one that sends a certificate must present one the client CA bundle
     * verifies, one that sends none is let in without. The default with a client CA bundle.
     */
    OPTIONAL("optional"),
    /** Clients must present a certificate the client CA bundle verifies; others are refused. */
    REQUIRED("required");

    private final String configName;

    ClientCertificates(String configName) {
      this.configName = configName;
    }

    /** {@return the word that names this mode in a configuration file: none, optional, required} */
    public String configName() {
      return configName;
    }
  }

  private final Path certificateChain;
  private final Path privateKey;
  private final Optional<Path> clientCa;
  private final ClientCertificates clientCertificates;

  private TlsSettings(Builder builder) {
    this.certificateChain = builder.certificateChain;
    this.privateKey = builder.privateKey;
    this.clientCa = Optional.ofNullable(builder.clientCa);
    this.clientCertificates =
        builder.clientCertificates != null
            ? builder.clientCertificates
            : builder.clientCa != null ? ClientCertificates.OPTIONAL : ClientCertificates.NONE;
  }

  /** {@return the PEM file of the server's certificate chain, leaf first} */
  public Path certificateChain() {
    return certificateChain;
  }

  /** {@return the PEM file of the server's private key (PKCS#8, RSA or EC)} */
  public Path privateKey() {
    return privateKey;
  }

  /**
   * {@return the PEM bundle of the certificate authorities that client certificates must chain to;
   * present whenever {@link #clientCertificates()} is not {@link ClientCertificates#NONE}}
   */
  public Optional<Path> clientCa() {
    return clientCa;
  }

  /**
   * {@return whether clients are asked for a certificate: {@link ClientCertificates#OPTIONAL} by
   * default with a client CA bundle, {@link ClientCertificates#NONE} without}
   */
  public ClientCertificates clientCertificates() {
    return clientCertificates;
  }

  /**
   * Starts settings for a server certificate chain and its key.
   *
   * @param certificateChain the PEM file of the chain, leaf first
   * @param privateKey the PEM file of the leaf's private key
   * @return a builder, used by one thread
   * @throws NullPointerException if a path is null
   */
  public static Builder newBuilder(Path certificateChain, Path privateKey) {
    return new Builder(certificateChain, privateKey);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TlsSettings that
        && certificateChain.equals(that.certificateChain)
        && privateKey.equals(that.privateKey)
        && clientCa.equals(that.clientCa)
        && clientCertificates == that.clientCertificates;
  }

  @Override
  public int hashCode() {
    return Objects.hash(certificateChain, privateKey, clientCa, clientCertificates);
  }

  @Override
  public String toString() {
    return "TlsSettings{certificateChain="
        + certificateChain
        + ", privateKey="
        + privateKey
        + clientCa.map(ca -> ", clientCa=" + ca).orElse("")
        + ", clientCertificates="
        + clientCertificates.configName()
        + "}";
  }

  /** Builds {@link TlsSettings}. Not thread-safe; each setter returns the builder. */
  public static final class Builder {
    private final Path certificateChain;
    private final Path privateKey;
    private Path clientCa;
    private ClientCertificates clientCertificates;

    private Builder(Path certificateChain, Path privateKey) {
      this.certificateChain = Objects.requireNonNull(certificateChain, "certificateChain");
      this.privateKey = Objects.requireNonNull(privateKey, "privateKey");
    }

    /**
     * Sets the PEM bundle of the certificate authorities that client certificates must chain to.
     *
     * @param bundle the bundle's path
     * @return this builder
     * @throws NullPointerException if {@code bundle} is null
     */
    public Builder clientCa(Path bundle) {
      this.clientCa = Objects.requireNonNull(bundle, "bundle");
      return this;
    }

    /**
     * Sets whether clients are asked for a certificate.
     *
     * @param mode the mode; when never set, {@link ClientCertificates#OPTIONAL} with a client CA
     *     bundle and {@link ClientCertificates#NONE} without
     * @return this builder
     * @throws NullPointerException if {@code mode} is null
     */
    public Builder clientCertificates(ClientCertificates mode) {
      this.clientCertificates = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /**
     * {@return settings with the values set so far}
     *
     * @throws IllegalStateException if client certificates are optional or required but no client
     *     CA bundle was set, since nothing could verify them
     */
    public TlsSettings build() {
      if (clientCertificates != null
          && clientCertificates != ClientCertificates.NONE
          && clientCa == null) {
        throw new IllegalStateException(
            "client certificates "
                + clientCertificates.configName()
                + " need a client CA bundle to verify them against");
      }
      return new TlsSettings(this);
    }
  }
}
