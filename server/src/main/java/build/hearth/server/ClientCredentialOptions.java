package build.hearth.server;

import build.hearth.core.config.ClientCredentialsConfig;
import build.hearth.grpc.common.BearerToken;
import build.hearth.grpc.tls.ClientTls;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import picocli.CommandLine.Option;

/**
 * The options with which {@code hearth worker} and {@code hearth admin} prove who they are to a
 * server: the CA bundle that verifies the server over TLS, a client certificate and key for mutual
 * TLS, and a bearer token. The token is read from a file or from {@code HEARTH_TOKEN}, never taken
 * as an argument, since arguments show in {@code ps} to every user of the machine.
 */
final class ClientCredentialOptions {
  @Option(
      names = "--tls-ca-bundle",
      paramLabel = "FILE",
      description =
          "PEM certificates of the authorities that sign the server's certificate (https:// and"
              + " grpcs:// endpoints); default: the JDK's trusted authorities.")
  Path caBundle;

  @Option(
      names = "--tls-client-certificate",
      paramLabel = "FILE",
      description = "PEM certificate (chain) to present for mutual TLS; needs --tls-client-key.")
  Path clientCertificate;

  @Option(
      names = "--tls-client-key",
      paramLabel = "FILE",
      description = "PEM PKCS#8 private key of --tls-client-certificate.")
  Path clientKey;

  @Option(
      names = "--token-file",
      paramLabel = "FILE",
      description =
          "A file whose first line is a bearer token, sent as 'authorization: Bearer ...';"
              + " without it, the token in $HEARTH_TOKEN, if set.")
  Path tokenFile;

  /** {@return the TLS files, read and checked; empty when none was given} */
  Optional<ClientTls> tls() {
    return tls(ClientCredentialsConfig.none());
  }

  /**
   * {@return the TLS files of the options, each in place of the worker file's own, read and
   * checked; empty when neither gives any}
   */
  Optional<ClientTls> tls(ClientCredentialsConfig file) {
    Optional<Path> ca = Optional.ofNullable(caBundle).or(file::caBundle);
    Optional<Path> certificate =
        clientCertificate != null || clientKey != null
            ? Optional.ofNullable(clientCertificate)
            : file.clientCertificate();
    Optional<Path> key =
        clientCertificate != null || clientKey != null
            ? Optional.ofNullable(clientKey)
            : file.clientKey();
    if (ca.isEmpty() && certificate.isEmpty() && key.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(ClientTls.load(ca, certificate, key));
  }

  /** {@return the token from --token-file or {@code environment}'s HEARTH_TOKEN, if any} */
  Optional<BearerToken> token(Map<String, String> environment) {
    return BearerToken.find(Optional.ofNullable(tokenFile), environment);
  }

  /**
   * {@return the token from --token-file, else the worker file's {@code tokenFile}, else {@code
   * environment}'s HEARTH_TOKEN, if any}
   */
  Optional<BearerToken> token(ClientCredentialsConfig file, Map<String, String> environment) {
    return BearerToken.find(Optional.ofNullable(tokenFile).or(file::tokenFile), environment);
  }
}
