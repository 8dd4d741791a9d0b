package com.example.hearth.sqlite;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.spi.storage.BlobStore;
import build.hearth.spi.storage.StoreStats;
import java.io.IOException;
import java.io.InputStream;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Blobs in SQLite: a {@code blobs} row per committed blob and its bytes in {@code blob_chunks} rows
 * of {@link #CHUNK_BYTES}, so blobs of any size stream in and out without being held whole.
 *
 * <p>An upload writes its chunks under a fresh content id that no blob row names yet, so nothing
 * reads them; {@code commit()} makes the blob visible by inserting its row, in one transaction.
 * Eviction removes the blob row at once but keeps the chunks of a content id while a reader has it
 * open ({@link #readers}), deleting them when the last reader closes. Chunks that no row names
 * (uploads cut short by a crash or a close, or blobs evicted while read) are deleted on open.
 *
 * <p>Recency for LRU is a counter, not a clock, so uses within one millisecond still have an order.
 * Uses are collected in memory and written in the next write transaction (and on close): a lookup
 * costs one read, never a write.
 *
 * <p>Thread-safe. No Java lock is held across a database call; SQLite's own write lock serializes
 * the commits.
 */
final class SqliteBlobStore implements BlobStore {
  static final int CHUNK_BYTES = 256 * 1024;

  private static final String[] SCHEMA = {
    "CREATE TABLE IF NOT EXISTS blobs (hash TEXT NOT NULL, size INTEGER NOT NULL,"
        + " content INTEGER NOT NULL, used INTEGER NOT NULL, PRIMARY KEY (hash, size))",
    "CREATE INDEX IF NOT EXISTS blobs_by_use ON blobs (used)",
    "CREATE TABLE IF NOT EXISTS blob_chunks (content INTEGER NOT NULL, idx INTEGER NOT NULL,"
        + " data BLOB NOT NULL, PRIMARY KEY (content, idx))",
    "CREATE TABLE IF NOT EXISTS blob_totals (id INTEGER PRIMARY KEY CHECK (id = 0),"
        + " entries INTEGER NOT NULL, bytes INTEGER NOT NULL)",
  };

  private final SqliteDatabase db;
  private final long capacity;
  private final AtomicLong useClock;
  private final AtomicLong contentIds;
  private final Map<Digest, Long> pendingUses = new ConcurrentHashMap<>();
  // Guarded by itself: open readers per content id, and content ids evicted while read.
  private final Map<Long, Integer> readers = new HashMap<>();
  private final Set<Long> doomed = new HashSet<>();
  private final AtomicLong evictions = new AtomicLong();
  private final AtomicLong evictedBytes = new AtomicLong();

  private SqliteBlobStore(SqliteDatabase db, long capacity, long lastUse, long lastContent) {
    this.db = db;
    this.capacity = capacity;
    this.useClock = new AtomicLong(lastUse);
    this.contentIds = new AtomicLong(lastContent);
  }

  /** Opens the store over {@code db}, which it then owns, and evicts down to {@code capacity}. */
  static SqliteBlobStore open(SqliteDatabase db, long capacity) {
    try {
      db.execute("creating the blob tables", SCHEMA);
      long[] marks =
          db.write(
              "opening the blob store",
              c -> {
                exec(
                    c,
                    "DELETE FROM blob_chunks WHERE content NOT IN (SELECT content FROM blobs)",
                    List.of());
                // Recounted on every open, so the totals can never drift for long.
                exec(c, "INSERT OR IGNORE INTO blob_totals VALUES (0, 0, 0)", List.of());
                exec(
                    c,
                    "UPDATE blob_totals SET entries = (SELECT count(*) FROM blobs),"
                        + " bytes = (SELECT coalesce(sum(size), 0) FROM blobs)",
                    List.of());
                return new long[] {
                  queryLong(c, "SELECT coalesce(max(used), 0) FROM blobs"),
                  queryLong(c, "SELECT coalesce(max(content), 0) FROM blobs")
                };
              });
      SqliteBlobStore store = new SqliteBlobStore(db, capacity, marks[0], marks[1]);
      store.settle(store.db.write("evicting to the capacity", store::evict));
      return store;
    } catch (RuntimeException e) {
      db.close();
      throw e;
    }
  }

  @Override
  public boolean contains(Digest digest) {
    boolean present =
        db.read(
            "looking up a blob",
            c ->
                queryLong(
                        c,
                        "SELECT count(*) FROM blobs WHERE hash = ? AND size = ?",
                        List.of(digest.hash(), digest.sizeBytes()))
                    > 0);
    if (present) {
      touch(digest);
    }
    return present;
  }

  @Override
  public Set<Digest> findMissing(Collection<Digest> digests) {
    Set<Digest> missing = new HashSet<>();
    if (digests.isEmpty()) {
      return missing;
    }
    Set<Digest> present =
        db.read(
            "looking up blobs",
            c -> {
              Set<Digest> found = new HashSet<>();
              try (PreparedStatement s =
                  c.prepareStatement("SELECT 1 FROM blobs WHERE hash = ? AND size = ?")) {
                for (Digest digest : new HashSet<>(digests)) {
                  s.setString(1, digest.hash());
                  s.setLong(2, digest.sizeBytes());
                  try (ResultSet rs = s.executeQuery()) {
                    if (rs.next()) {
                      found.add(digest);
                    }
                  }
                }
              }
              return found;
            });
    for (Digest digest : digests) {
      if (present.contains(digest)) {
        touch(digest);
      } else {
        missing.add(digest);
      }
    }
    return missing;
  }

  @Override
  public Optional<InputStream> read(Digest digest, long offset) {
    Optional<Long> content = contentOf(digest);
    if (content.isEmpty()) {
      return Optional.empty();
    }
    long id = content.get();
    synchronized (readers) {
      readers.merge(id, 1, Integer::sum);
    }
    // Eviction may have removed the row between the lookup and the registration, and deleted the
    // chunks because no reader was registered yet: only a row still naming the id proves they are
    // there. From here on, eviction sees the reader and keeps the chunks.
    boolean stillThere;
    try {
      stillThere = contentOf(digest).equals(content);
    } catch (RuntimeException e) {
      release(id);
      throw e;
    }
    if (!stillThere) {
      release(id);
      return Optional.empty();
    }
    touch(digest);
    return Optional.of(new ChunkStream(id, digest.sizeBytes(), offset));
  }

  @Override
  public Upload startUpload(Digest digest) {
    if (db.isClosed()) {
      // Checked here, not only when the first chunk is written: a small upload would otherwise
      // start on a closed store and fail only at its commit.
      throw new HearthException(
          StatusCode.UNAVAILABLE, "the SQLite store over " + db.file() + " is closed");
    }
    if (digest.sizeBytes() > capacity) {
      throw HearthException.resourceExhausted(
          "blob %s is larger than the SQLite store's maxSize of %d bytes (%s)",
          digest, capacity, db.file());
    }
    return new ChunkUpload(digest, contentIds.incrementAndGet());
  }

  @Override
  public StoreStats stats() {
    long[] totals =
        db.read(
            "reading the totals",
            c -> {
              try (PreparedStatement s =
                      c.prepareStatement("SELECT entries, bytes FROM blob_totals WHERE id = 0");
                  ResultSet rs = s.executeQuery()) {
                return rs.next() ? new long[] {rs.getLong(1), rs.getLong(2)} : new long[2];
              }
            });
    return new StoreStats(totals[0], totals[1], capacity, evictions.get(), evictedBytes.get());
  }

  @Override
  public void close() {
    if (db.isClosed()) {
      return;
    }
    try {
      // Keeps the LRU order of this session's lookups for the next open.
      db.write("saving the last uses", c -> flushUses(c));
    } finally {
      db.close();
    }
  }

  private Optional<Long> contentOf(Digest digest) {
    return db.read(
        "looking up a blob",
        c -> {
          try (PreparedStatement s =
              c.prepareStatement("SELECT content FROM blobs WHERE hash = ? AND size = ?")) {
            s.setString(1, digest.hash());
            s.setLong(2, digest.sizeBytes());
            try (ResultSet rs = s.executeQuery()) {
              return rs.next() ? Optional.of(rs.getLong(1)) : Optional.<Long>empty();
            }
          }
        });
  }

  private void touch(Digest digest) {
    pendingUses.put(digest, useClock.incrementAndGet());
  }

  /** Writes the uses collected since the last write; runs inside a write transaction. */
  private Void flushUses(Connection c) throws SQLException {
    if (pendingUses.isEmpty()) {
      return null;
    }
    try (PreparedStatement s =
        c.prepareStatement("UPDATE blobs SET used = max(used, ?) WHERE hash = ? AND size = ?")) {
      for (Digest digest : new ArrayList<>(pendingUses.keySet())) {
        Long use = pendingUses.remove(digest);
        if (use == null) {
          continue;
        }
        s.setLong(1, use);
        s.setString(2, digest.hash());
        s.setLong(3, digest.sizeBytes());
        s.addBatch();
      }
      s.executeBatch();
    }
    return null;
  }

  /**
   * Removes least recently used blobs until the total fits the capacity; runs inside a write
   * transaction, whose caller passes the result to {@link #settle} after the commit.
   */
  private Eviction evict(Connection c) throws SQLException {
    flushUses(c);
    long bytes = queryLong(c, "SELECT bytes FROM blob_totals WHERE id = 0");
    if (bytes <= capacity) {
      return Eviction.NONE;
    }
    List<Object[]> victims = new ArrayList<>();
    try (PreparedStatement s =
            c.prepareStatement("SELECT hash, size, content FROM blobs ORDER BY used");
        ResultSet rs = s.executeQuery()) {
      while (bytes > capacity && rs.next()) {
        long size = rs.getLong(2);
        victims.add(new Object[] {rs.getString(1), size, rs.getLong(3)});
        bytes -= size;
      }
    }
    long freed = 0;
    try (PreparedStatement s =
        c.prepareStatement("DELETE FROM blobs WHERE hash = ? AND size = ?")) {
      for (Object[] victim : victims) {
        s.setString(1, (String) victim[0]);
        s.setLong(2, (Long) victim[1]);
        s.addBatch();
        freed += (Long) victim[1];
      }
      s.executeBatch();
    }
    exec(
        c,
        "UPDATE blob_totals SET entries = entries - ?, bytes = bytes - ? WHERE id = 0",
        List.of((long) victims.size(), freed));
    List<Long> contents = new ArrayList<>();
    for (Object[] victim : victims) {
      contents.add((Long) victim[2]);
    }
    return new Eviction(victims.size(), freed, contents);
  }

  /**
   * Counts a committed eviction and deletes the evicted chunks, except those of blobs being read,
   * which the last reader deletes.
   */
  private void settle(Eviction eviction) {
    if (eviction.count() == 0) {
      return;
    }
    evictions.addAndGet(eviction.count());
    evictedBytes.addAndGet(eviction.bytes());
    List<Long> deletable = new ArrayList<>();
    synchronized (readers) {
      for (Long id : eviction.contents()) {
        if (readers.containsKey(id)) {
          doomed.add(id);
        } else {
          deletable.add(id);
        }
      }
    }
    deleteChunks(deletable);
  }

  private void deleteChunks(List<Long> ids) {
    if (ids.isEmpty() || db.isClosed()) {
      return;
    }
    db.write(
        "deleting evicted chunks",
        c -> {
          try (PreparedStatement s =
              c.prepareStatement("DELETE FROM blob_chunks WHERE content = ?")) {
            for (Long id : ids) {
              s.setLong(1, id);
              s.addBatch();
            }
            s.executeBatch();
          }
          return null;
        });
  }

  private void release(long id) {
    boolean delete;
    synchronized (readers) {
      int left = readers.merge(id, -1, Integer::sum);
      if (left > 0) {
        return;
      }
      readers.remove(id);
      delete = doomed.remove(id);
    }
    if (delete) {
      deleteChunks(List.of(id));
    }
  }

  static long queryLong(Connection c, String sql) throws SQLException {
    return queryLong(c, sql, List.of());
  }

  static long queryLong(Connection c, String sql, List<Object> args) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(sql)) {
      bind(s, args);
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? rs.getLong(1) : 0;
      }
    }
  }

  static int exec(Connection c, String sql, List<Object> args) throws SQLException {
    try (PreparedStatement s = c.prepareStatement(sql)) {
      bind(s, args);
      return s.executeUpdate();
    }
  }

  private static void bind(PreparedStatement s, List<Object> args) throws SQLException {
    for (int i = 0; i < args.size(); i++) {
      s.setObject(i + 1, args.get(i));
    }
  }

  /** What one eviction removed: blob rows, their bytes, and the content ids of their chunks. */
  private record Eviction(long count, long bytes, List<Long> contents) {
    static final Eviction NONE = new Eviction(0, 0, List.of());
  }

  private record Committed(boolean inserted, Eviction eviction) {}

  /** Streams a blob's chunks one at a time, each read with a short query of its own. */
  private final class ChunkStream extends InputStream {
    private final long content;
    private final long size;
    private long position;
    private byte[] chunk;
    private int chunkOffset;
    private boolean closed;

    ChunkStream(long content, long size, long offset) {
      this.content = content;
      this.size = size;
      this.position = offset;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (closed) {
        throw new IOException("stream closed");
      }
      if (len == 0) {
        return 0;
      }
      if (position >= size) {
        return -1;
      }
      if (chunk == null || chunkOffset >= chunk.length) {
        loadChunk();
      }
      int n = Math.min(len, chunk.length - chunkOffset);
      System.arraycopy(chunk, chunkOffset, b, off, n);
      chunkOffset += n;
      position += n;
      return n;
    }

    @Override
    public int available() {
      return chunk == null ? 0 : chunk.length - chunkOffset;
    }

    private void loadChunk() throws IOException {
      long index = position / CHUNK_BYTES;
      byte[] data;
      try {
        data =
            db.read(
                "reading a chunk",
                c -> {
                  try (PreparedStatement s =
                      c.prepareStatement(
                          "SELECT data FROM blob_chunks WHERE content = ? AND idx = ?")) {
                    s.setLong(1, content);
                    s.setLong(2, index);
                    try (ResultSet rs = s.executeQuery()) {
                      return rs.next() ? rs.getBytes(1) : null;
                    }
                  }
                });
      } catch (HearthException e) {
        throw new IOException(e.getMessage(), e);
      }
      int skip = (int) (position - index * CHUNK_BYTES);
      if (data == null || data.length <= skip) {
        throw new IOException(
            "SQLite store "
                + db.file()
                + ": chunk "
                + index
                + " of content "
                + content
                + " is missing or short; the database was changed behind the store's back");
      }
      chunk = data;
      chunkOffset = skip;
    }

    @Override
    public void close() {
      if (!closed) {
        closed = true;
        chunk = null;
        release(content);
      }
    }
  }

  /**
   * Buffers writes into whole chunks and inserts each under the upload's content id, which no blob
   * row names until {@link #commit()}.
   */
  private final class ChunkUpload implements Upload {
    private final Digest digest;
    private final long content;
    private final byte[] buffer;
    private int buffered;
    private long written;
    private long nextIndex;
    private boolean done;

    ChunkUpload(Digest digest, long content) {
      this.digest = digest;
      this.content = content;
      this.buffer = new byte[(int) Math.min(CHUNK_BYTES, Math.max(digest.sizeBytes(), 1))];
    }

    @Override
    public void write(byte[] data, int offset, int length) {
      if (done) {
        throw new IllegalStateException("the upload of " + digest + " is finished");
      }
      written += length;
      // Bytes past the digest's size are only counted: commit() refuses the upload anyway.
      int room = (int) Math.max(0, Math.min(length, digest.sizeBytes() - (written - length)));
      int from = offset;
      while (room > 0) {
        int n = Math.min(room, buffer.length - buffered);
        System.arraycopy(data, from, buffer, buffered, n);
        buffered += n;
        from += n;
        room -= n;
        if (buffered == buffer.length) {
          flushChunk();
        }
      }
    }

    @Override
    public long written() {
      return written;
    }

    @Override
    public void commit() {
      if (done) {
        throw new IllegalStateException("the upload of " + digest + " is finished");
      }
      if (written != digest.sizeBytes()) {
        close();
        throw HearthException.invalidArgument(
            "upload of %s wrote %d bytes, but the digest says %d",
            digest, written, digest.sizeBytes());
      }
      if (buffered > 0) {
        flushChunk();
      }
      done = true;
      long use = useClock.incrementAndGet();
      Committed committed;
      try {
        committed =
            db.write(
                "committing a blob",
                c -> {
                  int rows =
                      exec(
                          c,
                          "INSERT OR IGNORE INTO blobs (hash, size, content, used) VALUES (?, ?, ?, ?)",
                          List.of(digest.hash(), digest.sizeBytes(), content, use));
                  if (rows == 1) {
                    exec(
                        c,
                        "UPDATE blob_totals SET entries = entries + 1, bytes = bytes + ? WHERE id = 0",
                        List.of(digest.sizeBytes()));
                  } else {
                    exec(
                        c,
                        "UPDATE blobs SET used = max(used, ?) WHERE hash = ? AND size = ?",
                        List.of(use, digest.hash(), digest.sizeBytes()));
                  }
                  return new Committed(rows == 1, evict(c));
                });
      } catch (RuntimeException e) {
        discardChunks();
        throw e;
      }
      settle(committed.eviction());
      if (!committed.inserted()) {
        // Another upload of the same blob committed first; ours is a spare copy.
        discardChunks();
      }
    }

    @Override
    public void close() {
      if (!done) {
        done = true;
        discardChunks();
      }
    }

    private void flushChunk() {
      long index = nextIndex++;
      db.read(
          "writing a chunk",
          c -> {
            try (PreparedStatement s =
                c.prepareStatement(
                    "INSERT INTO blob_chunks (content, idx, data) VALUES (?, ?, ?)")) {
              s.setLong(1, content);
              s.setLong(2, index);
              s.setBytes(3, buffered == buffer.length ? buffer : Arrays.copyOf(buffer, buffered));
              return s.executeUpdate();
            }
          });
      buffered = 0;
    }

    private void discardChunks() {
      if (nextIndex == 0 || db.isClosed()) {
        // Nothing written, or the store is gone: the next open deletes chunks no blob names.
        return;
      }
      try {
        deleteChunks(List.of(content));
      } catch (HearthException e) {
        // Left for the cleanup on the next open.
      }
    }
  }
}
