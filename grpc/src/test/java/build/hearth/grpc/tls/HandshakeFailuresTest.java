package build.hearth.grpc.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.netty.shaded.io.netty.handler.codec.DecoderException;
import io.grpc.netty.shaded.io.netty.handler.ssl.NotSslRecordException;
import java.nio.channels.ClosedChannelException;
import java.security.cert.CertificateExpiredException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;

/**
 * The reasons a failed handshake is logged with, as the JDK's and BoringSSL's engines word them.
 */
class HandshakeFailuresTest {

  private static SSLHandshakeException handshake(String message, Throwable cause) {
    SSLHandshakeException e = new SSLHandshakeException(message);
    e.initCause(cause);
    return e;
  }

  @Test
  void aPlaintextClientIsNamedAsSuch() {
    assertThat(
            HandshakeFailures.reason(
                new DecoderException(new NotSslRecordException("not an SSL/TLS record: 505249"))))
        .startsWith("the client does not speak TLS");
  }

  @Test
  void aMissingClientCertificateInEitherEngine() {
    assertThat(HandshakeFailures.reason(handshake("Empty client certificate chain", null)))
        .isEqualTo("the client sent no certificate, and this server requires one");
    assertThat(
            HandshakeFailures.reason(
                handshake(
                    "error:10000418:SSL routines:OPENSSL_internal:"
                        + "PEER_DID_NOT_RETURN_A_CERTIFICATE",
                    null)))
        .isEqualTo("the client sent no certificate, and this server requires one");
  }

  @Test
  void anExpiredOrForeignCertificateIsNamedFromTheCauseChain() {
    assertThat(
            HandshakeFailures.reason(
                handshake(
                    "General OpenSslEngine problem",
                    new CertificateExpiredException("NotAfter: Sat Dec 05 2026"))))
        .startsWith("the client's certificate is out of its validity period");
    assertThat(
            HandshakeFailures.reason(
                handshake(
                    "General OpenSslEngine problem",
                    new IllegalStateException("PKIX path building failed"))))
        .startsWith("the client's certificate is not signed by the server's clientCa");
  }

  @Test
  void aClientThatHangsUpMayDistrustTheServer() {
    assertThat(HandshakeFailures.reason(new ClosedChannelException()))
        .contains("does it trust the server's certificate?");
  }
}
