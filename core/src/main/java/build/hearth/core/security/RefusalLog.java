package build.hearth.core.security;

import build.hearth.spi.security.Permission;
import build.hearth.spi.security.Refusal;
import build.hearth.spi.security.RefusalReason;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs refusals at WARN, at most one line per reason, peer host, identity and permission per
 * interval: a client retrying with a wrong token in a loop writes one line per interval, and the
 * next line says how many were left out. Remembers a bounded number of peers (the oldest are
 * forgotten first), so a flood from many addresses cannot fill the memory. Lines carry the peer,
 * the identity and the message the caller was sent, which never holds a secret. Thread-safe;
 * nothing is logged under the lock.
 */
final class RefusalLog {
  private static final Logger log = LoggerFactory.getLogger(RefusalLog.class);

  static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(30);
  private static final int MAX_KEYS = 4096;

  /** Identity and permission too, so that one client's different refusals each get a line. */
  private record Key(RefusalReason reason, String peer, String identity, Permission permission) {}

  private static final class Window {
    Instant start;
    long suppressed;

    Window(Instant start) {
      this.start = start;
    }
  }

  private final String serverName;
  private final Clock clock;
  private final Duration interval;
  private final Map<Key, Window> windows = new LinkedHashMap<>();

  RefusalLog(String serverName, Clock clock, Duration interval) {
    this.serverName = serverName;
    this.clock = clock;
    this.interval = interval;
  }

  /**
   * Logs {@code refusal} unless one of its reason and peer was logged within the interval.
   *
   * @return whether a line was written
   */
  boolean record(Refusal refusal) {
    String peer = host(refusal.remoteAddress());
    Key key = new Key(refusal.reason(), peer, refusal.identity(), refusal.permission());
    Instant now = clock.instant();
    long suppressedBefore;
    synchronized (windows) {
      Window window = windows.get(key);
      if (window != null && now.isBefore(window.start.plus(interval))) {
        window.suppressed++;
        return false;
      }
      suppressedBefore = window == null ? 0 : window.suppressed;
      if (window == null) {
        if (windows.size() >= MAX_KEYS) {
          Iterator<Window> oldest = windows.values().iterator();
          oldest.next();
          oldest.remove();
        }
        windows.put(key, new Window(now));
      } else {
        window.start = now;
        window.suppressed = 0;
      }
    }
    log.warn(
        "Refused a call on server '{}' from {} ({}): {}: {}{}",
        serverName,
        refusal.remoteAddress() == null ? "an unknown peer" : refusal.remoteAddress(),
        refusal.identity() == null ? "not authenticated" : refusal.identity(),
        refusal.reason().label(),
        refusal.message(),
        suppressedBefore == 0
            ? ""
            : " (" + suppressedBefore + " more like it from " + peer + " not logged)");
    return true;
  }

  private static String host(SocketAddress address) {
    if (address instanceof InetSocketAddress inet) {
      return inet.getAddress() != null ? inet.getAddress().getHostAddress() : inet.getHostString();
    }
    return String.valueOf(address);
  }
}
