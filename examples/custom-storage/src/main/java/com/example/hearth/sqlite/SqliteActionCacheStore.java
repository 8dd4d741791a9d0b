package com.example.hearth.sqlite;

import static com.example.hearth.sqlite.SqliteBlobStore.exec;
import static com.example.hearth.sqlite.SqliteBlobStore.queryLong;

import build.hearth.api.Digest;
import build.hearth.spi.storage.ActionCacheStore;
import build.hearth.spi.storage.StoreStats;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Action-cache entries in SQLite, one row each. Entries are small, so a row holds a whole entry and
 * a put, with its eviction, is one transaction: readers see the old entry or the new one.
 *
 * <p>Recency for LRU is a counter, collected in memory on {@link #get} and written with the next
 * put (and on close), as in {@link SqliteBlobStore}.
 *
 * <p>Thread-safe; no Java lock at all, SQLite's write lock serializes the puts.
 */
final class SqliteActionCacheStore implements ActionCacheStore {
  private static final String[] SCHEMA = {
    "CREATE TABLE IF NOT EXISTS action_results (hash TEXT NOT NULL, size INTEGER NOT NULL,"
        + " entry BLOB NOT NULL, used INTEGER NOT NULL, PRIMARY KEY (hash, size))",
    "CREATE INDEX IF NOT EXISTS action_results_by_use ON action_results (used)",
    "CREATE TABLE IF NOT EXISTS action_result_totals (id INTEGER PRIMARY KEY CHECK (id = 0),"
        + " entries INTEGER NOT NULL, bytes INTEGER NOT NULL)",
  };

  private final SqliteDatabase db;
  private final long capacity;
  private final AtomicLong useClock;
  private final Map<Digest, Long> pendingUses = new ConcurrentHashMap<>();
  private final AtomicLong evictions = new AtomicLong();
  private final AtomicLong evictedBytes = new AtomicLong();

  private SqliteActionCacheStore(SqliteDatabase db, long capacity, long lastUse) {
    this.db = db;
    this.capacity = capacity;
    this.useClock = new AtomicLong(lastUse);
  }

  /** Opens the store over {@code db}, which it then owns, and evicts down to {@code capacity}. */
  static SqliteActionCacheStore open(SqliteDatabase db, long capacity) {
    try {
      db.execute("creating the action-cache tables", SCHEMA);
      long lastUse =
          db.write(
              "opening the action cache",
              c -> {
                exec(c, "INSERT OR IGNORE INTO action_result_totals VALUES (0, 0, 0)", List.of());
                exec(
                    c,
                    "UPDATE action_result_totals SET entries = (SELECT count(*) FROM action_results),"
                        + " bytes = (SELECT coalesce(sum(length(entry)), 0) FROM action_results)",
                    List.of());
                return queryLong(c, "SELECT coalesce(max(used), 0) FROM action_results");
              });
      SqliteActionCacheStore store = new SqliteActionCacheStore(db, capacity, lastUse);
      store.count(db.write("evicting to the capacity", store::evict));
      return store;
    } catch (RuntimeException e) {
      db.close();
      throw e;
    }
  }

  @Override
  public Optional<byte[]> get(Digest actionDigest) {
    Optional<byte[]> entry =
        db.read(
            "reading an action result",
            c -> {
              try (PreparedStatement s =
                  c.prepareStatement(
                      "SELECT entry FROM action_results WHERE hash = ? AND size = ?")) {
                s.setString(1, actionDigest.hash());
                s.setLong(2, actionDigest.sizeBytes());
                try (ResultSet rs = s.executeQuery()) {
                  if (!rs.next()) {
                    return Optional.<byte[]>empty();
                  }
                  byte[] bytes = rs.getBytes(1);
                  // The driver returns null for a zero-length BLOB.
                  return Optional.of(bytes == null ? new byte[0] : bytes);
                }
              }
            });
    if (entry.isPresent()) {
      pendingUses.put(actionDigest, useClock.incrementAndGet());
    }
    return entry;
  }

  @Override
  public void put(Digest actionDigest, byte[] entry) {
    long use = useClock.incrementAndGet();
    byte[] copy = entry.clone();
    long[] evicted =
        db.write(
            "storing an action result",
            c -> {
              long oldLength = lengthOf(c, actionDigest);
              try (PreparedStatement s =
                  c.prepareStatement(
                      "INSERT OR REPLACE INTO action_results (hash, size, entry, used)"
                          + " VALUES (?, ?, ?, ?)")) {
                s.setString(1, actionDigest.hash());
                s.setLong(2, actionDigest.sizeBytes());
                s.setBytes(3, copy);
                s.setLong(4, use);
                s.executeUpdate();
              }
              adjustTotals(c, oldLength < 0 ? 1 : 0, copy.length - Math.max(oldLength, 0));
              return evict(c);
            });
    count(evicted);
  }

  @Override
  public void remove(Digest actionDigest) {
    db.write(
        "removing an action result",
        c -> {
          long oldLength = lengthOf(c, actionDigest);
          if (oldLength >= 0) {
            exec(
                c,
                "DELETE FROM action_results WHERE hash = ? AND size = ?",
                List.of(actionDigest.hash(), actionDigest.sizeBytes()));
            adjustTotals(c, -1, -oldLength);
          }
          return null;
        });
  }

  @Override
  public StoreStats stats() {
    long[] totals =
        db.read(
            "reading the totals",
            c -> {
              try (PreparedStatement s =
                      c.prepareStatement(
                          "SELECT entries, bytes FROM action_result_totals WHERE id = 0");
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
      db.write("saving the last uses", this::flushUses);
    } finally {
      db.close();
    }
  }

  /** {@return the stored entry's length, or -1 if there is none} */
  private static long lengthOf(Connection c, Digest key) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement(
            "SELECT length(entry) FROM action_results WHERE hash = ? AND size = ?")) {
      s.setString(1, key.hash());
      s.setLong(2, key.sizeBytes());
      try (ResultSet rs = s.executeQuery()) {
        return rs.next() ? rs.getLong(1) : -1;
      }
    }
  }

  private static void adjustTotals(Connection c, long entries, long bytes) throws SQLException {
    exec(
        c,
        "UPDATE action_result_totals SET entries = entries + ?, bytes = bytes + ? WHERE id = 0",
        List.of(entries, bytes));
  }

  private Void flushUses(Connection c) throws SQLException {
    if (pendingUses.isEmpty()) {
      return null;
    }
    try (PreparedStatement s =
        c.prepareStatement(
            "UPDATE action_results SET used = max(used, ?) WHERE hash = ? AND size = ?")) {
      for (Digest key : new ArrayList<>(pendingUses.keySet())) {
        Long use = pendingUses.remove(key);
        if (use != null) {
          s.setLong(1, use);
          s.setString(2, key.hash());
          s.setLong(3, key.sizeBytes());
          s.addBatch();
        }
      }
      s.executeBatch();
    }
    return null;
  }

  /** Evicts least recently used entries down to the capacity; returns {count, bytes}. */
  private long[] evict(Connection c) throws SQLException {
    flushUses(c);
    long bytes = queryLong(c, "SELECT bytes FROM action_result_totals WHERE id = 0");
    if (bytes <= capacity) {
      return new long[2];
    }
    List<Object[]> victims = new ArrayList<>();
    try (PreparedStatement s =
            c.prepareStatement(
                "SELECT hash, size, length(entry) FROM action_results ORDER BY used");
        ResultSet rs = s.executeQuery()) {
      while (bytes > capacity && rs.next()) {
        long length = rs.getLong(3);
        victims.add(new Object[] {rs.getString(1), rs.getLong(2), length});
        bytes -= length;
      }
    }
    long freed = 0;
    try (PreparedStatement s =
        c.prepareStatement("DELETE FROM action_results WHERE hash = ? AND size = ?")) {
      for (Object[] victim : victims) {
        s.setString(1, (String) victim[0]);
        s.setLong(2, (Long) victim[1]);
        s.addBatch();
        freed += (Long) victim[2];
      }
      s.executeBatch();
    }
    adjustTotals(c, -victims.size(), -freed);
    return new long[] {victims.size(), freed};
  }

  private void count(long[] evicted) {
    evictions.addAndGet(evicted[0]);
    evictedBytes.addAndGet(evicted[1]);
  }
}
