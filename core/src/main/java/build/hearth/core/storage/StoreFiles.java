package build.hearth.core.storage;

import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.internal.DirectoryLock;
import build.hearth.core.internal.DiskErrors;
import build.hearth.core.storage.LruIndex.Found;
import build.hearth.spi.storage.StoreSettings;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * File handling shared by the filesystem stores: their directory layout ({@code <dir>/<first two
 * hex characters>/<name>}), the temporary directory, the scan on open, and the translation of
 * {@link IOException}s into {@link HearthException}s that name the file.
 */
final class StoreFiles {
  private static final Logger log = LoggerFactory.getLogger(StoreFiles.class);
  private static final String HEX = "0123456789abcdef";

  private StoreFiles() {}

  /** Creates {@code dir} and its parents; a failure is a configuration error on {@code key}. */
  static void createDirectory(StoreSettings settings, String key, Path dir) {
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw settings.error(
          key, "cannot create the directory " + dir + ": " + describe(e) + "; check the path");
    }
  }

  /**
   * Creates {@code root} and takes its lock file {@code lockFile}; a directory that another store
   * holds is a configuration error on {@code path} naming the holder.
   */
  static DirectoryLock lock(StoreSettings settings, Path root, String lockFile, String what) {
    createDirectory(settings, "path", root);
    return DirectoryLock.acquire(
        root.resolve(lockFile), what, problem -> settings.error("path", problem));
  }

  /** The file of {@code name} (which starts with a hash) under {@code dir}. */
  static Path shardedFile(Path dir, String hash, String name) {
    return dir.resolve(hash.substring(0, 2)).resolve(name);
  }

  /**
   * Deletes the files in {@code tmp} whose names start with one of {@code prefixes}, in one pass:
   * what a crash left, which the log calls {@code what}.
   */
  static void deleteLeftovers(Path tmp, String what, String... prefixes) {
    int deleted = 0;
    String glob = "{" + String.join(",", prefixes) + "}*";
    try (DirectoryStream<Path> files = Files.newDirectoryStream(tmp, glob)) {
      for (Path file : files) {
        Files.deleteIfExists(file);
        deleted++;
      }
    } catch (IOException e) {
      throw failure(StatusCode.UNAVAILABLE, "clean the temporary directory", tmp, e);
    }
    if (deleted > 0) {
      log.info("Deleted {} {} in {}", deleted, what, tmp);
    }
  }

  /**
   * Lists the files under the shard directories of {@code dir}. {@code parse} turns a shard and a
   * file name into a key, or null for a file that does not belong there, which is left alone.
   */
  static <K> List<Found<K>> scan(Path dir, BiFunction<String, String, K> parse) {
    List<Found<K>> found = new ArrayList<>();
    try (DirectoryStream<Path> shards = Files.newDirectoryStream(dir)) {
      for (Path shardDir : shards) {
        String shard = shardDir.getFileName().toString();
        if (!isShard(shard) || !Files.isDirectory(shardDir)) {
          log.warn("Ignoring {}: not a store directory", shardDir);
          continue;
        }
        scanShard(shardDir, shard, parse, found);
      }
    } catch (IOException e) {
      throw failure(StatusCode.UNAVAILABLE, "list", dir, e);
    }
    return found;
  }

  private static <K> void scanShard(
      Path shardDir, String shard, BiFunction<String, String, K> parse, List<Found<K>> found)
      throws IOException {
    try (DirectoryStream<Path> files = Files.newDirectoryStream(shardDir)) {
      for (Path file : files) {
        K key = parse.apply(shard, file.getFileName().toString());
        BasicFileAttributes attributes;
        try {
          attributes = Files.readAttributes(file, BasicFileAttributes.class);
        } catch (NoSuchFileException e) {
          continue;
        }
        if (key == null || !attributes.isRegularFile()) {
          log.warn("Ignoring {}: not a file this store wrote", file);
          continue;
        }
        found.add(new Found<>(key, attributes.size(), attributes.lastModifiedTime().toMillis()));
      }
    }
  }

  /** Sets the file's modification time, which orders eviction after a restart; best effort. */
  static void touch(Path file, long millis) {
    try {
      Files.setLastModifiedTime(file, FileTime.fromMillis(millis));
    } catch (NoSuchFileException e) {
      // Evicted in the meantime: nothing to keep in order.
    } catch (IOException e) {
      log.debug("Cannot set the modification time of {}: {}", file, e.toString());
    }
  }

  /** Deletes {@code file} if it exists; a failure is logged, as the file is no longer indexed. */
  static void deleteQuietly(Path file) {
    try {
      Files.deleteIfExists(file);
    } catch (IOException e) {
      log.warn("Cannot delete {}; it takes space until the store reopens: {}", file, e.toString());
    }
  }

  /**
   * Renames {@code temp} to {@code target} atomically, replacing an existing file. Shard
   * directories are made on first use, which keeps opening a new store cheap.
   */
  static void moveIntoPlace(Path temp, Path target) throws IOException {
    try {
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (NoSuchFileException e) {
      if (!Files.exists(temp)) {
        throw e;
      }
      Files.createDirectories(target.getParent());
      Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
    }
  }

  /** Flushes {@code directory}'s entries (a rename into it, say) to the disk. */
  static void syncDirectory(Path directory) throws IOException {
    try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
      channel.force(true);
    }
  }

  static void writeFully(FileChannel channel, ByteBuffer buffer) throws IOException {
    while (buffer.hasRemaining()) {
      channel.write(buffer);
    }
  }

  static void writeFully(FileChannel channel, ByteBuffer[] buffers, long length)
      throws IOException {
    for (long left = length; left > 0; ) {
      left -= channel.write(buffers);
    }
  }

  /**
   * How long a client should wait before retrying a write that found the disk full: long enough for
   * eviction or an operator to free space, short enough that a build does not stall.
   */
  static final Duration DISK_FULL_RETRY = Duration.ofSeconds(5);

  /**
   * As {@link #failure(String, StatusCode, String, Path, IOException)} for no store in particular.
   */
  static HearthException failure(StatusCode code, String action, Path file, IOException e) {
    return failure("store", code, action, file, e);
  }

  /**
   * A failure of {@code store} to {@code action} {@code file}: when the disk is full or the quota
   * spent (ENOSPC, EDQUOT), the {@code disk_full} limit, RESOURCE_EXHAUSTED with a retry hint,
   * since eviction or an operator may free space; else {@code code}.
   */
  static HearthException failure(
      String store, StatusCode code, String action, Path file, IOException e) {
    String detail = describe(e);
    if (DiskErrors.isDiskFull(e)) {
      return HearthException.limitReached(
          "disk_full",
          DISK_FULL_RETRY,
          "%s cannot %s %s: %s; the file system is full, so nothing was stored: retry once space"
              + " is freed, and keep the store's maxSize below the free space of its disk",
          store,
          action,
          file,
          detail);
    }
    return new HearthException(code, store + " cannot " + action + " " + file + ": " + detail, e);
  }

  private static String describe(IOException e) {
    String message = e.getMessage();
    String kind = e.getClass().getSimpleName();
    return message == null ? kind : kind + ": " + message;
  }

  private static boolean isShard(String name) {
    return name.length() == 2
        && HEX.indexOf(name.charAt(0)) >= 0
        && HEX.indexOf(name.charAt(1)) >= 0;
  }
}
