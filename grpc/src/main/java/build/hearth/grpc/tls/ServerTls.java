package build.hearth.grpc.tls;

import build.hearth.api.HearthException;
import build.hearth.core.internal.Threads;
import build.hearth.spi.transport.TlsSettings;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.handler.ssl.SslProvider;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A server port's TLS: the current certificate chain, key and client CA bundle, read again whenever
 * one of their files changes, and the handler that runs the handshake of each new connection with
 * the material current at that moment. Connections already open keep the material they started
 * with.
 *
 * <p>{@link #start} reads and checks the files, so a broken one stops the server before it listens,
 * with a message naming the file. After that a thread polls the files' contents every {@code
 * pollInterval}; a changed set is checked as at start and, if it is broken (a key that does not
 * match a new certificate, say, because only one of the two has been replaced yet), logged as an
 * error naming the file while the server keeps the material it has. Each broken set is logged once.
 *
 * <p>Thread-safe. {@link #close} stops the polling; it does not affect open connections.
 */
public final class ServerTls implements AutoCloseable {
  /** Which TLS engine a server runs. */
  public enum Engine {
    /** BoringSSL (bundled in grpc-netty-shaded) when its native library loads, else the JDK's. */
    DEFAULT,
    /** The JDK's own engine, whatever else is available. */
    JDK;

    SslProvider provider() {
      return this == JDK ? SslProvider.JDK : ServerTlsMaterial.PROVIDER;
    }
  }

  private static final Logger log = LoggerFactory.getLogger(ServerTls.class);

  private final TlsSettings settings;
  private final String serverName;
  private final Clock clock;
  private final SslProvider provider;
  private final ScheduledExecutorService poller;
  private final HandshakeFailures failures;
  private volatile ServerTlsMaterial current;
  private ServerTlsMaterial.Files lastBroken; // poller thread only

  private ServerTls(
      TlsSettings settings,
      String serverName,
      Clock clock,
      SslProvider provider,
      ServerTlsMaterial initial) {
    this.settings = settings;
    this.provider = provider;
    this.serverName = serverName;
    this.clock = clock;
    this.current = initial;
    this.failures = new HandshakeFailures(serverName);
    ScheduledThreadPoolExecutor executor =
        new ScheduledThreadPoolExecutor(1, Threads.daemon("hearth-tls-" + serverName + "-"));
    executor.setRemoveOnCancelPolicy(true);
    this.poller = executor;
  }

  /**
   * Reads and checks the files of {@code settings} and starts watching them.
   *
   * @param settings the server's TLS files and client-certificate mode
   * @param serverName the server's name, for logs and thread names
   * @param pollInterval how often the files are read again to see whether they changed
   * @param clock what "now" is when a certificate's validity is checked
   * @return the server's TLS, watching the files until {@link #close}
   * @throws HearthException FAILED_PRECONDITION naming the file, when one is missing, unreadable or
   *     unusable
   */
  public static ServerTls start(
      TlsSettings settings, String serverName, Duration pollInterval, Clock clock) {
    return start(settings, serverName, pollInterval, clock, Engine.DEFAULT);
  }

  /**
   * Like {@link #start(TlsSettings, String, Duration, Clock)}, with the given engine; tests run
   * both.
   *
   * @param settings the server's TLS files and client-certificate mode
   * @param serverName the server's name, for logs and thread names
   * @param pollInterval how often the files are read again to see whether they changed
   * @param clock what "now" is when a certificate's validity is checked
   * @param engine the TLS engine to run
   * @return the server's TLS, watching the files until {@link #close}
   */
  public static ServerTls start(
      TlsSettings settings, String serverName, Duration pollInterval, Clock clock, Engine engine) {
    Objects.requireNonNull(settings, "settings");
    SslProvider provider = engine.provider();
    if (pollInterval.toMillis() <= 0) {
      throw new IllegalArgumentException("pollInterval must be at least 1 ms");
    }
    ServerTlsMaterial initial =
        ServerTlsMaterial.build(
            settings, ServerTlsMaterial.Files.read(settings), clock.instant(), provider);
    ServerTls tls = new ServerTls(settings, serverName, clock, provider, initial);
    long period = pollInterval.toMillis();
    tls.poller.scheduleWithFixedDelay(tls::poll, period, period, TimeUnit.MILLISECONDS);
    log.info(
        "Server {} serves TLS with {}; client certificates {}; engine {}",
        serverName,
        initial.describe(),
        settings.clientCertificates().configName(),
        provider == SslProvider.OPENSSL ? "BoringSSL" : "the JDK's");
    return tls;
  }

  /**
   * {@return a handler that runs a new connection's TLS handshake with the current material and
   * then replaces itself with {@code next}} It fires grpc-netty's negotiation event onwards with
   * the {@link javax.net.ssl.SSLSession} in {@code Grpc.TRANSPORT_ATTR_SSL_SESSION} and security
   * level {@code PRIVACY_AND_INTEGRITY}, as grpc-java's own server TLS does.
   *
   * @param next the handler that takes over the decrypted connection
   */
  public ChannelHandler newHandler(ChannelHandler next) {
    return new ServerTlsHandler(next, current.sslContext(), failures);
  }

  /** Reads the files again and switches to them if they changed and are usable. */
  void poll() {
    ServerTlsMaterial.Files files;
    try {
      files = ServerTlsMaterial.Files.read(settings);
    } catch (HearthException e) {
      // Between a delete and a rename a file may be missing for a moment; only report it once.
      if (lastBroken == null || !lastBroken.sameAs(ServerTlsMaterial.Files.EMPTY)) {
        lastBroken = ServerTlsMaterial.Files.EMPTY;
        log.error("Server {} keeps its TLS certificate: {}", serverName, e.getMessage());
      }
      return;
    } catch (RuntimeException e) {
      log.error("Server {}: reading its TLS files failed; it keeps its certificate", serverName, e);
      return;
    }
    if (files.sameAs(current.files()) || (lastBroken != null && files.sameAs(lastBroken))) {
      return;
    }
    try {
      ServerTlsMaterial next = ServerTlsMaterial.build(settings, files, clock.instant(), provider);
      current = next;
      lastBroken = null;
      log.info(
          "Server {} reloaded its TLS files; new connections use {}", serverName, next.describe());
    } catch (HearthException e) {
      lastBroken = files;
      log.error(
          "Server {} keeps its TLS certificate {}: {}",
          serverName,
          current.describe(),
          e.getMessage());
    } catch (RuntimeException e) {
      lastBroken = files;
      log.error(
          "Server {}: reloading its TLS files failed; it keeps its certificate", serverName, e);
    }
  }

  /** {@return the subject and expiry of the certificate new connections get, for logs and tests} */
  public String describe() {
    return current.describe();
  }

  @Override
  public void close() {
    poller.shutdownNow();
  }
}
