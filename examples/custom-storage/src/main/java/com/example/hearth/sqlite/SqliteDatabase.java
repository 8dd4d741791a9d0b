package com.example.hearth.sqlite;

import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.spi.storage.StoreSettings;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import org.sqlite.SQLiteConfig;

/**
 * One SQLite database file and a small pool of connections to it.
 *
 * <p>SQLite connections are not meant to be shared between threads, so each operation borrows one
 * for its duration and gives it back. The pool grows to the number of threads using the store at
 * once and never shrinks until {@link #close()}. Write transactions begin IMMEDIATE: a deferred
 * transaction that reads before it writes could fail at once with SQLITE_BUSY when another
 * connection writes, instead of waiting its turn.
 *
 * <p>Thread-safe.
 */
final class SqliteDatabase implements AutoCloseable {
  /** How long a connection waits for another one's write lock before reporting UNAVAILABLE. */
  private static final int BUSY_TIMEOUT_MILLIS = 30_000;

  private final Path file;
  private final String url;
  private final ConcurrentLinkedDeque<Connection> idle = new ConcurrentLinkedDeque<>();
  private final AtomicBoolean closed = new AtomicBoolean();

  private SqliteDatabase(Path file) {
    this.file = file;
    this.url = "jdbc:sqlite:" + file.toAbsolutePath();
  }

  /**
   * Opens the database in {@code settings}' {@code path}, creating the file and its directory if
   * needed, in WAL mode (readers never wait for the writer).
   *
   * @throws build.hearth.api.ConfigException naming {@code path} if the file cannot be opened
   */
  static SqliteDatabase open(StoreSettings settings, String key) {
    Path file = settings.requirePath(key);
    try {
      Path parent = file.toAbsolutePath().getParent();
      if (parent != null) {
        Files.createDirectories(parent);
      }
    } catch (IOException e) {
      throw settings.error(key, "cannot create the directory of " + file + ": " + e);
    }
    SqliteDatabase database = new SqliteDatabase(file);
    try (Connection connection = database.connect();
        Statement statement = connection.createStatement()) {
      // WAL is a property of the file, kept across opens; setting it needs no transaction.
      statement.execute("PRAGMA journal_mode=WAL");
    } catch (SQLException e) {
      throw settings.error(key, "cannot open " + file + " as a SQLite database: " + e.getMessage());
    }
    return database;
  }

  /** {@return the database file, for messages} */
  Path file() {
    return file;
  }

  /** Runs {@code work} on a pooled connection in autocommit mode. */
  <T> T read(String what, Work<T> work) {
    Connection connection = borrow();
    boolean healthy = false;
    try {
      T result = work.run(connection);
      healthy = true;
      return result;
    } catch (SQLException e) {
      throw failure(what, e);
    } finally {
      giveBack(connection, healthy);
    }
  }

  /** Runs {@code work} in one IMMEDIATE transaction, committed if it returns, else rolled back. */
  <T> T write(String what, Work<T> work) {
    Connection connection = borrow();
    boolean healthy = false;
    try {
      connection.setAutoCommit(false);
      try {
        T result = work.run(connection);
        connection.commit();
        healthy = true;
        return result;
      } catch (SQLException | RuntimeException e) {
        rollbackQuietly(connection, e);
        throw e;
      } finally {
        connection.setAutoCommit(true);
      }
    } catch (SQLException e) {
      throw failure(what, e);
    } finally {
      giveBack(connection, healthy);
    }
  }

  /** Runs several statements, such as a schema, in one transaction. */
  void execute(String what, String... statements) {
    write(
        what,
        connection -> {
          try (Statement statement = connection.createStatement()) {
            for (String sql : statements) {
              statement.execute(sql);
            }
          }
          return null;
        });
  }

  /** Closes every idle connection; connections in use close when they are given back. */
  @Override
  public void close() {
    if (closed.compareAndSet(false, true)) {
      List<SQLException> failures = new ArrayList<>();
      for (Connection c; (c = idle.poll()) != null; ) {
        try {
          c.close();
        } catch (SQLException e) {
          failures.add(e);
        }
      }
      if (!failures.isEmpty()) {
        throw failure("closing the database", failures.get(0));
      }
    }
  }

  boolean isClosed() {
    return closed.get();
  }

  private Connection borrow() {
    if (closed.get()) {
      throw new HearthException(
          StatusCode.UNAVAILABLE, "the SQLite store over " + file + " is closed");
    }
    Connection connection = idle.poll();
    if (connection != null) {
      return connection;
    }
    try {
      return connect();
    } catch (SQLException e) {
      throw failure("opening a connection", e);
    }
  }

  private void giveBack(Connection connection, boolean healthy) {
    if (healthy && !closed.get()) {
      idle.push(connection);
      // close() may have drained the pool between the check and the push.
      if (!closed.get() || !idle.remove(connection)) {
        return;
      }
    }
    try {
      connection.close();
    } catch (SQLException e) {
      // The connection is discarded either way; the failure that led here matters more.
    }
  }

  private Connection connect() throws SQLException {
    SQLiteConfig config = new SQLiteConfig();
    config.setBusyTimeout(BUSY_TIMEOUT_MILLIS);
    config.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
    // In WAL mode NORMAL loses no data on a process crash, only perhaps the last commits on a power
    // loss, which a cache can afford.
    config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
    return config.createConnection(url);
  }

  private static void rollbackQuietly(Connection connection, Exception cause) {
    try {
      connection.rollback();
    } catch (SQLException e) {
      cause.addSuppressed(e);
    }
  }

  private HearthException failure(String what, SQLException e) {
    // SQLITE_BUSY (5) and SQLITE_LOCKED (6): another process holds the file for too long; a retry
    // may succeed. Anything else is a damaged or unusable database.
    int code = e.getErrorCode() & 0xff;
    StatusCode status = code == 5 || code == 6 ? StatusCode.UNAVAILABLE : StatusCode.INTERNAL;
    return new HearthException(
        status, "SQLite store " + file + ": " + what + " failed: " + e.getMessage(), e);
  }

  /** A unit of work on one connection. */
  @FunctionalInterface
  interface Work<T> {
    T run(Connection connection) throws SQLException;
  }
}
