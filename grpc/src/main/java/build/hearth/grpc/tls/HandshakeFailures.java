package build.hearth.grpc.tls;

import io.grpc.netty.shaded.io.netty.handler.codec.DecoderException;
import io.grpc.netty.shaded.io.netty.handler.ssl.NotSslRecordException;
import java.net.SocketAddress;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLHandshakeException;
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
    if (t instanceof SSLHandshakeException && t.getMessage() != null) {
      String message = t.getMessage();
      if (message.contains("Empty client certificate chain")) {
        return "the client sent no certificate, and this server requires one";
      }
      if (message.contains("PKIX path") || message.contains("certificate_unknown")) {
        return "the client's certificate is not signed by the server's clientCa: " + message;
      }
      if (message.contains("validity")
          || message.contains("expired")
          || message.contains("NotAfter")) {
        return "the client's certificate is out of its validity period: " + message;
      }
      return message;
    }
    return String.valueOf(t);
  }
}
