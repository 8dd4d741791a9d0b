package build.hearth.spi.security;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;

/**
 * What a caller presented, as the transport saw it: its remote address, the certificate chain the
 * TLS layer verified (leaf first), and the bearer token of its {@code authorization} header.
 *
 * <p>Immutable and thread-safe. The token is a secret: {@link #toString()} never shows it, and
 * neither may anything that logs credentials.
 *
 * <pre>{@code
 * Credentials credentials =
 *     Credentials.newBuilder()
 *         .remoteAddress(peer)
 *         .authorization(headers.get("authorization"))
 *         .build();
 * }</pre>
 */
public final class Credentials {
  private static final String BEARER = "bearer ";

  private final SocketAddress remoteAddress;
  private final List<X509Certificate> peerCertificates;
  private final String bearerToken;
  private final boolean malformedAuthorization;
  private final boolean sameProcess;

  private Credentials(Builder builder) {
    this.remoteAddress = builder.remoteAddress;
    this.peerCertificates = builder.peerCertificates;
    this.bearerToken = builder.bearerToken;
    this.malformedAuthorization = builder.malformedAuthorization;
    this.sameProcess = builder.sameProcess;
  }

  /** {@return the caller's address, or empty when the transport has none (in-process)} */
  public Optional<SocketAddress> remoteAddress() {
    return Optional.ofNullable(remoteAddress);
  }

  /**
   * {@return true if the caller is on this machine: its address is a loopback address (127.0.0.0/8
   * or ::1), or it called through an in-process transport ({@link Builder#sameProcess()}); false
   * when there is no address or it is another IP address}
   */
  public boolean fromLoopback() {
    return sameProcess
        || remoteAddress instanceof InetSocketAddress inet
            && inet.getAddress() != null
            && inet.getAddress().isLoopbackAddress();
  }

  /**
   * {@return the client certificate chain the TLS layer verified, leaf first; empty without TLS or
   * without a client certificate}
   */
  public List<X509Certificate> peerCertificates() {
    return peerCertificates;
  }

  /** {@return the bearer token of the {@code authorization} header, or empty; a secret} */
  public Optional<String> bearerToken() {
    return Optional.ofNullable(bearerToken);
  }

  /**
   * {@return true if an {@code authorization} header was present but was not {@code Bearer
   * <token>}}
   */
  public boolean malformedAuthorization() {
    return malformedAuthorization;
  }

  /** {@return true if the caller presented nothing: no token, no certificate, no header} */
  public boolean isEmpty() {
    return bearerToken == null && peerCertificates.isEmpty() && !malformedAuthorization;
  }

  /** {@return the address and what was presented, without the token itself} */
  @Override
  public String toString() {
    return "Credentials{remoteAddress="
        + remoteAddress
        + ", peerCertificates="
        + peerCertificates.size()
        + (bearerToken == null ? "" : ", bearerToken=<redacted>")
        + (malformedAuthorization ? ", malformedAuthorization" : "")
        + "}";
  }

  /** {@return a builder with nothing presented} */
  public static Builder newBuilder() {
    return new Builder();
  }

  /** Builds {@link Credentials}. Not thread-safe; each setter returns the builder. */
  public static final class Builder {
    private SocketAddress remoteAddress;
    private List<X509Certificate> peerCertificates = List.of();
    private String bearerToken;
    private boolean malformedAuthorization;
    private boolean sameProcess;

    private Builder() {}

    /**
     * Marks the caller as one in the same process (an in-process transport), which is as local as
     * loopback.
     *
     * @return this builder
     */
    public Builder sameProcess() {
      this.sameProcess = true;
      return this;
    }

    /**
     * Sets the caller's address.
     *
     * @param address the address, or null if unknown
     * @return this builder
     */
    public Builder remoteAddress(SocketAddress address) {
      this.remoteAddress = address;
      return this;
    }

    /**
     * Sets the verified client certificate chain.
     *
     * @param chain leaf first; copied
     * @return this builder
     * @throws NullPointerException if the chain or an element is null
     */
    public Builder peerCertificates(List<X509Certificate> chain) {
      this.peerCertificates = List.copyOf(chain);
      return this;
    }

    /**
     * Sets the client certificate chain that a TLS session verified: what a transport calls with
     * the session of the connection, whatever its protocol.
     *
     * @param session the connection's TLS session, or null for a plaintext connection
     * @return this builder; without certificates when the session is null or the client sent none
     */
    public Builder tlsSession(SSLSession session) {
      if (session == null) {
        return peerCertificates(List.of());
      }
      Certificate[] chain;
      try {
        chain = session.getPeerCertificates();
      } catch (SSLPeerUnverifiedException e) {
        return peerCertificates(List.of()); // the client sent none
      }
      List<X509Certificate> certificates = new ArrayList<>(chain.length);
      for (Certificate certificate : chain) {
        if (certificate instanceof X509Certificate x509) {
          certificates.add(x509);
        }
      }
      return peerCertificates(certificates);
    }

    /**
     * Reads an {@code authorization} header: {@code Bearer <token>} (the scheme in any case) sets
     * the token; any other non-null value marks the header as malformed.
     *
     * @param header the header's value, or null if absent
     * @return this builder
     */
    public Builder authorization(String header) {
      if (header == null) {
        return this;
      }
      String trimmed = header.strip();
      if (trimmed.length() > BEARER.length()
          && trimmed.substring(0, BEARER.length()).toLowerCase(Locale.ROOT).equals(BEARER)) {
        String token = trimmed.substring(BEARER.length()).strip();
        if (!token.isEmpty()) {
          this.bearerToken = token;
          return this;
        }
      }
      this.malformedAuthorization = true;
      return this;
    }

    /**
     * Sets the bearer token directly.
     *
     * @param token the token, a secret
     * @return this builder
     * @throws NullPointerException if {@code token} is null
     */
    public Builder bearerToken(String token) {
      this.bearerToken = Objects.requireNonNull(token, "token");
      return this;
    }

    /** {@return the credentials set so far} */
    public Credentials build() {
      return new Credentials(this);
    }
  }
}
