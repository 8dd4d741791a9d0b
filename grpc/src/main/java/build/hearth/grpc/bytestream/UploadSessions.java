package build.hearth.grpc.bytestream;

import build.hearth.api.BlobUpload;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.grpc.common.Instances;
import build.hearth.spi.transport.ServerLimits;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
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
 * been idle longer than {@code uploadIdleTimeout} are discarded by {@link #sweep()}, which the
 * transport runs periodically and which also runs when a bound is reached. A stream that is
 * attached but has sent nothing for {@code uploadStallTimeout} is ended by the sweep ({@link
 * Writer#stalled}) and detached, so that the client, or another connection of it, can resume the
 * session; a stream in the middle of a write is never ended, only one waiting for bytes.
 *
 * <p>Two bounds keep one client from holding every session: {@code maxUploadSessions} for the
 * server and {@code maxUploadSessionsPerClient} for each client (the authenticated identity, else
 * the peer's address; see {@link UploadClient}). A session counts against the client that started
 * it until it ends. A new upload beyond either is refused with RESOURCE_EXHAUSTED and a retry hint;
 * resuming an existing session is never refused by a bound.
 *
 * <p>Thread-safe. Session state changes under the session's monitor; the counts under this object's
 * monitor (held for a few map operations only); bytes are written to the upload outside both, by
 * the one attached stream.
 */
public final class UploadSessions implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(UploadSessions.class);

  /** How long a client refused by a bound is told to wait: sessions end at upload speed. */
  static final Duration RETRY_AFTER = Duration.ofSeconds(1);

  private final ConcurrentHashMap<String, Session> sessions = new ConcurrentHashMap<>();
  private final Map<String, Integer> perClient = new HashMap<>();
  private int total;
  private final Clock clock;
  private final Duration idleTimeout;
  private final Duration stallTimeout;
  private final int maxSessions;
  private final int maxPerClient;

  /**
   * Starts with no sessions.
   *
   * @param clock measures how long a session has been idle or its stream silent
   * @param limits the server's limits: {@code maxUploadSessions}, {@code
   *     maxUploadSessionsPerClient}, {@code uploadIdleTimeout} and {@code uploadStallTimeout}
   */
  public UploadSessions(Clock clock, ServerLimits limits) {
    this.clock = clock;
    this.idleTimeout = limits.uploadIdleTimeout();
    this.stallTimeout = limits.uploadStallTimeout();
    this.maxSessions = limits.maxUploadSessions();
    this.maxPerClient = limits.maxUploadSessionsPerClient();
  }

  /**
   * {@return how often {@link #sweep()} should run: half the shorter timeout, between 1 s and 60 s}
   */
  public Duration sweepPeriod() {
    long shorter = Math.min(idleTimeout.toMillis(), stallTimeout.toMillis());
    return Duration.ofMillis(Math.max(1000, Math.min(60_000, shorter / 2)));
  }

  /** The stream attached to a session, which the sweep ends when it stalls. */
  interface Writer {
    /**
     * Ends the stream because it sent nothing for {@code timeout}; called by the sweep after it
     * detached the stream from its session, from the sweep's thread.
     *
     * @param timeout the stall timeout
     */
    void stalled(Duration timeout);
  }

  /** {@return how long a session with no stream is kept before {@link #sweep()} discards it} */
  public Duration idleTimeout() {
    return idleTimeout;
  }

  /** One resumable upload. */
  static final class Session {
    private final String name;
    private final String client;
    private final BlobUpload upload;
    private Writer stream;
    private boolean writing;
    private long lastUsedMillis;
    private boolean discarded;
    private volatile long committed;

    private Session(String name, String client, BlobUpload upload, Writer stream, long now) {
      this.name = name;
      this.client = client;
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

    /**
     * The upload; only the attached stream may use it, between {@link #beginWrite}/{@link
     * #endWrite}.
     */
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
   * start} for {@code client} if there is none.
   *
   * @throws HearthException ABORTED if another stream is writing this name; RESOURCE_EXHAUSTED if a
   *     new upload would exceed {@code maxUploadSessions} or the client's {@code
   *     maxUploadSessionsPerClient}
   */
  Session attach(String name, String client, Writer stream, Supplier<BlobUpload> start) {
    while (true) {
      Session session = sessions.get(name);
      if (session == null) {
        reserve(client);
        BlobUpload upload;
        try {
          upload = start.get();
        } catch (RuntimeException e) {
          unreserve(client);
          throw e;
        }
        Session fresh = new Session(name, client, upload, stream, clock.millis());
        if (sessions.putIfAbsent(name, fresh) == null) {
          return fresh;
        }
        // Another stream created the session first; drop ours and join (or be refused by) it.
        unreserve(client);
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

  /** Counts a new session for {@code client}, sweeping once if a bound is reached. */
  private void reserve(String client) {
    if (tryReserve(client)) {
      return;
    }
    sweep();
    if (tryReserve(client)) {
      return;
    }
    synchronized (this) {
      if (total >= maxSessions) {
        throw HearthException.limitReached(
            "upload_sessions",
            RETRY_AFTER,
            "too many uploads in progress on this server (%d; limits.maxUploadSessions is %d);"
                + " retry when some have finished",
            total,
            maxSessions);
      }
    }
    throw HearthException.limitReached(
        "upload_sessions_per_client",
        RETRY_AFTER,
        "too many uploads in progress for client %s (limits.maxUploadSessionsPerClient is %d);"
            + " finish or abandon some (abandoned ones end after limits.uploadIdleTimeout, %s)"
            + " and retry",
        client,
        maxPerClient,
        idleTimeout);
  }

  private synchronized boolean tryReserve(String client) {
    int mine = perClient.getOrDefault(client, 0);
    if (total >= maxSessions || mine >= maxPerClient) {
      return false;
    }
    total++;
    perClient.put(client, mine + 1);
    return true;
  }

  private synchronized void unreserve(String client) {
    total--;
    perClient.computeIfPresent(client, (k, n) -> n == 1 ? null : n - 1);
  }

  /** The session of {@code name}, if one is in progress. */
  Optional<Session> find(String name) {
    return Optional.ofNullable(sessions.get(name));
  }

  /**
   * Marks the start of a write to the session's upload by {@code stream}, so that the sweep does
   * not end the stream in the middle of it.
   *
   * @return false if {@code stream} is no longer attached (the sweep ended it as stalled, or the
   *     session ended); the stream must then not touch the upload
   */
  boolean beginWrite(Session session, Writer stream) {
    synchronized (session) {
      if (session.stream != stream || session.discarded) {
        return false;
      }
      session.writing = true;
      return true;
    }
  }

  /** Marks the end of a write that {@link #beginWrite} started; the stream was active now. */
  void endWrite(Session session) {
    synchronized (session) {
      session.writing = false;
      session.lastUsedMillis = clock.millis();
    }
  }

  /** Detaches {@code stream}, keeping the session so that a later stream can resume it. */
  void release(Session session, Writer stream) {
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
    remove(session);
  }

  private void remove(Session session) {
    sessions.remove(session.name, session);
    unreserve(session.client);
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
   * Discards the sessions idle for longer than {@code uploadIdleTimeout} and ends the streams
   * silent for longer than {@code uploadStallTimeout} (their sessions stay, to be resumed).
   *
   * @return the number of sessions discarded
   */
  public int sweep() {
    long now = clock.millis();
    long timeout = idleTimeout.toMillis();
    long stall = stallTimeout.toMillis();
    int removed = 0;
    for (Session session : sessions.values()) {
      Writer stalled = null;
      synchronized (session) {
        if (session.discarded) {
          continue;
        }
        if (session.stream != null) {
          if (session.writing || now - session.lastUsedMillis < stall) {
            continue;
          }
          stalled = session.stream;
          session.stream = null;
          session.lastUsedMillis = now;
        } else if (now - session.lastUsedMillis < timeout) {
          continue;
        } else {
          session.discarded = true;
        }
      }
      if (stalled != null) {
        log.debug(
            "Ended the stream of upload '{}' after {} without bytes at {} of {} bytes; the upload"
                + " is kept for resumption",
            session.name,
            stallTimeout,
            session.committed,
            session.digest().sizeBytes());
        stalled.stalled(stallTimeout);
        continue;
      }
      remove(session);
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

  /** How many sessions {@code client} started that have not ended. */
  synchronized int sessionsOf(String client) {
    return perClient.getOrDefault(client, 0);
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
