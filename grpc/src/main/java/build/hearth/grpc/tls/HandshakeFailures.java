package build.hearth.grpc.tls;

import io.grpc.netty.shaded.io.netty.handler.codec.DecoderException;
import io.grpc.netty.shaded.io.netty.handler.ssl.NotSslRecordException;
import java.net.SocketAddress;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs failed TLS handshakes of one server in words an operator acts on, at most one line at INFO
 * every {@link #INTERVAL_NANOS} (the rest at DEBUG, counted in the next INFO line), so a scanner or
 * a misconfigured client in a retry loop cannot flood the log. Thread-safe.
 */
final class HandshakeFailures {
  private static final Logger log = LoggerFactory.getLogger(HandshakeFailures.class);
  private static final long INTERVAL_NANOS = TimeUnit.SECONDS.toNanos(10);

  private final String serverName;
  private final AtomicLong nextInfo = new AtomicLong(System.nanoTime());
  private final AtomicLong suppressed = new AtomicLong();

  HandshakeFailures(String serverName) {
    this.serverName = serverName;
  }

  void failed(SocketAddress peer, Throwable cause) {
    String reason = reason(cause);
    long now = System.nanoTime();
    long next = nextInfo.get();
    if (now - next >= 0 && nextInfo.compareAndSet(next, now + INTERVAL_NANOS)) {
      long others = suppressed.getAndSet(0);
      log.info(
          "TLS handshake of {} with server {} failed: {}{}",
          peer,
          serverName,
          reason,
          others == 0 ? "" : " (and " + others + " more failed handshakes since the last report)");
    } else {
      suppressed.incrementAndGet();
      log.debug("TLS handshake of {} with server {} failed: {}", peer, serverName, reason, cause);
    }
  }

  /** A plaintext HTTP request on the TLS port, answered with a 400 that says to use https://. */
  void plaintextHttp(SocketAddress peer) {
    failed(
        peer, new NotSslRecordException("a plaintext HTTP request; it was told to use https://"));
  }

  static String reason(Throwable cause) {
    Throwable t = cause;
    while (t instanceof DecoderException && t.getCause() != null) {
      t = t.getCause();
    }
    if (t instanceof NotSslRecordException) {
      return "the client does not speak TLS (a plaintext grpc:// or http:// client on this TLS"
          + " port?)";
    }
    if (t instanceof ClosedChannelException) {
      return "the client closed the connection during the handshake (does it trust the server's"
          + " certificate?)";
    }
    String message = describe(t);
    if (message.contains("Empty client certificate chain")
        || message.contains("PEER_DID_NOT_RETURN_A_CERTIFICATE")) {
      return "the client sent no certificate, and this server requires one";
    }
    if (message.contains("validity")
        || message.contains("expired")
        || message.contains("NotAfter")
        || message.contains("CERTIFICATE_EXPIRED")) {
      return "the client's certificate is out of its validity period: " + message;
    }
    if (message.contains("PKIX path")
        || message.contains("certificate_unknown")
        || message.contains("CERTIFICATE_VERIFY_FAILED")) {
      return "the client's certificate is not signed by the server's clientCa: " + message;
    }
    return message;
  }

  /** The messages of the cause chain, which the JDK's and BoringSSL's engines word differently. */
  private static String describe(Throwable t) {
    StringBuilder text = new StringBuilder(String.valueOf(t.getMessage()));
    for (Throwable c = t.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
      if (c.getMessage() != null && !text.toString().contains(c.getMessage())) {
        text.append(": ").append(c.getMessage());
      }
    }
    return (t instanceof SSLException ? "" : t.getClass().getSimpleName() + ": ") + text;
  }
}
