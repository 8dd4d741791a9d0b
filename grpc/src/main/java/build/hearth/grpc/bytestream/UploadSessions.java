package build.hearth.grpc.bytestream;

import build.hearth.api.BlobUpload;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.grpc.common.Instances;
import java.time.Clock;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ByteStream uploads in progress, keyed by resource name, so that a write whose stream broke
 * can be resumed from its committed size by a later stream with the same name.
 *
 * <p>A session is attached to at most one stream at a time: a second stream for the same name gets
 * ABORTED (which clients retry) rather than interleaving bytes. Sessions with no stream that have
 * been idle longer than the timeout are discarded by {@link #sweep()}, which the transport runs
 * periodically and which also runs when the table is full. The number of sessions is bounded; past
 * the bound a new upload gets RESOURCE_EXHAUSTED.
 *
 * <p>Thread-safe. Session state changes under the session's monitor; bytes are written to the
 * upload outside it, by the one attached stream.
 */
public final class UploadSessions implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(UploadSessions.class);

  private final ConcurrentHashMap<String, Session> sessions = new ConcurrentHashMap<>();
  private final Clock clock;
  private final Duration idleTimeout;
  private final int maxSessions;

  /**
   * Starts with no sessions.
   *
   * @param clock measures how long a session has been idle
   * @param idleTimeout how long a session with no stream is kept before {@link #sweep()} discards
   *     it
   * @param maxSessions how many sessions may exist at once
   */
  public UploadSessions(Clock clock, Duration idleTimeout, int maxSessions) {
    this.clock = clock;
    this.idleTimeout = idleTimeout;
    this.maxSessions = maxSessions;
  }

  /** {@return how long a session with no stream is kept before {@link #sweep()} discards it} */
  public Duration idleTimeout() {
    return idleTimeout;
  }

  /** One resumable upload. */
  static final class Session {
    private final String name;
    private final BlobUpload upload;
    private Object stream;
    private long lastUsedMillis;
    private boolean discarded;
    private volatile long committed;

    private Session(String name, BlobUpload upload, Object stream, long now) {
      this.name = name;
      this.upload = upload;
      this.stream = stream;
      this.lastUsedMillis = now;
      this.committed = upload.committedSize();
    }

    String name() {
      return name;
    }

    Digest digest() {
      return upload.digest();
    }

    /** The upload; only the attached stream may use it. */
    BlobUpload upload() {
      return upload;
    }

    /** Bytes received so far; readable from any thread. */
    long committedSize() {
      return committed;
    }

    /** Records progress after the attached stream wrote to the upload. */
    void wrote() {
      committed = upload.committedSize();
    }
  }

  /**
   * Attaches {@code stream} to the session of {@code name}, starting a new upload with {@code
   * start} if there is none.
   *
   * @throws HearthException ABORTED if another stream is writing this name; RESOURCE_EXHAUSTED if
   *     too many uploads are in progress
   */
  Session attach(String name, Object stream, Supplier<BlobUpload> start) {
    while (true) {
      Session session = sessions.get(name);
      if (session == null) {
        if (sessions.size() >= maxSessions && sweep() == 0 && sessions.size() >= maxSessions) {
          throw HearthException.resourceExhausted(
              "too many uploads in progress (%d); retry when some have finished", maxSessions);
        }
        BlobUpload upload = start.get();
        Session fresh = new Session(name, upload, stream, clock.millis());
        if (sessions.putIfAbsent(name, fresh) == null) {
          return fresh;
        }
        // Another stream created the session first; drop ours and join (or be refused by) it.
        upload.close();
        continue;
      }
      synchronized (session) {
        if (session.discarded) {
          continue;
        }
        if (session.stream != null) {
          throw new HearthException(
              StatusCode.ABORTED,
              "another stream is already writing '"
                  + Instances.abbreviate(name)
                  + "'; retry once it has ended");
        }
        session.stream = stream;
        session.lastUsedMillis = clock.millis();
        return session;
      }
    }
  }

  /** The session of {@code name}, if one is in progress. */
  Optional<Session> find(String name) {
    return Optional.ofNullable(sessions.get(name));
  }

  /** Detaches {@code stream}, keeping the session so that a later stream can resume it. */
  void release(Session session, Object stream) {
    synchronized (session) {
      if (session.stream == stream) {
        session.stream = null;
        session.lastUsedMillis = clock.millis();
      }
    }
  }

  /** Ends the session and discards its upload (a no-op for a committed one). */
  void discard(Session session) {
    synchronized (session) {
      if (session.discarded) {
        return;
      }
      session.discarded = true;
    }
    sessions.remove(session.name, session);
    session.upload.close();
  }

  /** Discards the session of {@code name} unless a stream is writing it. */
  void discardIfIdle(String name) {
    Session session = sessions.get(name);
    if (session == null) {
      return;
    }
    synchronized (session) {
      if (session.stream != null) {
        return;
      }
    }
    discard(session);
  }

  /**
   * Discards the sessions idle for longer than the timeout; returns how many.
   *
   * @return the number of sessions discarded
   */
  public int sweep() {
    long now = clock.millis();
    long timeout = idleTimeout.toMillis();
    int removed = 0;
    for (Session session : sessions.values()) {
      synchronized (session) {
        if (session.discarded || session.stream != null || now - session.lastUsedMillis < timeout) {
          continue;
        }
        session.discarded = true;
      }
      sessions.remove(session.name, session);
      session.upload.close();
      removed++;
      log.debug(
          "Discarded upload '{}' after {} idle with {} of {} bytes",
          session.name,
          idleTimeout,
          session.committed,
          session.digest().sizeBytes());
    }
    return removed;
  }

  /** How many sessions exist. */
  int size() {
    return sessions.size();
  }

  /** Whether a session for {@code name} exists and no stream is attached to it. */
  boolean isIdle(String name) {
    Session session = sessions.get(name);
    if (session == null) {
      return false;
    }
    synchronized (session) {
      return session.stream == null;
    }
  }

  /** Discards every session. Call after the server has stopped, so no stream is writing. */
  @Override
  public void close() {
    for (Session session : sessions.values()) {
      discard(session);
    }
  }
}
