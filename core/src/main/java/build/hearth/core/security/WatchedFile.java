package build.hearth.core.security;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.function.Function;

/**
 * A value read from a file and read again when the file changes (its modification time or size),
 * looked at no more often than once per {@code checkEvery}, so that rotating a secret needs no
 * restart and costs one {@code stat} per interval. A file that becomes unreadable or invalid keeps
 * the last good value, and the failure is reported to {@code onReloadFailure}.
 *
 * <p>Thread-safe: a check holds the lock only to claim the check; the read happens outside it.
 */
final class WatchedFile<T> {
  /** Tokens and key sets are small; a larger file is a mistake, not something to read. */
  static final long MAX_BYTES = 1 << 20;

  private final Path path;
  private final Function<String, T> parse;
  private final Clock clock;
  private final Duration checkEvery;
  private final java.util.function.Consumer<RuntimeException> onReloadFailure;
  private final Object lock = new Object();
  private volatile T value;
  private FileTime modified;
  private long size;
  private Instant nextCheck;
  private boolean failing; // the last reload failed; report the next failure only after a success

  /**
   * Reads the file now.
   *
   * @throws IOException if it cannot be read
   * @throws RuntimeException whatever {@code parse} throws for bad content
   */
  WatchedFile(
      Path path,
      Function<String, T> parse,
      Clock clock,
      Duration checkEvery,
      java.util.function.Consumer<RuntimeException> onReloadFailure)
      throws IOException {
    this.path = Objects.requireNonNull(path, "path");
    this.parse = parse;
    this.clock = clock;
    this.checkEvery = checkEvery;
    this.onReloadFailure = onReloadFailure;
    BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
    this.value = parse.apply(read(path, attributes));
    this.modified = attributes.lastModifiedTime();
    this.size = attributes.size();
    this.nextCheck = clock.instant().plus(checkEvery);
  }

  Path path() {
    return path;
  }

  /** The current value, re-read first if the file changed since the last check. */
  T get() {
    Instant now = clock.instant();
    FileTime seenModified;
    long seenSize;
    synchronized (lock) {
      if (now.isBefore(nextCheck)) {
        return value;
      }
      nextCheck = now.plus(checkEvery);
      seenModified = modified;
      seenSize = size;
    }
    BasicFileAttributes attributes = null;
    try {
      attributes = Files.readAttributes(path, BasicFileAttributes.class);
      if (attributes.lastModifiedTime().equals(seenModified) && attributes.size() == seenSize) {
        return value;
      }
      T reread = parse.apply(read(path, attributes));
      synchronized (lock) {
        value = reread;
        modified = attributes.lastModifiedTime();
        size = attributes.size();
        failing = false;
      }
    } catch (IOException | RuntimeException e) {
      boolean report;
      synchronized (lock) {
        report = !failing;
        failing = true;
        if (attributes != null) {
          // Bad content: not read again until the file changes once more.
          modified = attributes.lastModifiedTime();
          size = attributes.size();
        }
      }
      if (report) {
        onReloadFailure.accept(
            e instanceof IOException io
                ? new java.io.UncheckedIOException(io)
                : (RuntimeException) e);
      }
    }
    return value;
  }

  private static String read(Path path, BasicFileAttributes attributes) throws IOException {
    if (!attributes.isRegularFile()) {
      throw new IllegalArgumentException("it is not a regular file");
    }
    if (attributes.size() > MAX_BYTES) {
      throw new IllegalArgumentException(
          "it holds " + attributes.size() + " bytes, more than the 1 MiB such a file can need");
    }
    try {
      return Files.readString(path);
    } catch (java.nio.charset.MalformedInputException e) {
      throw new IllegalArgumentException("it is not UTF-8 text");
    }
  }
}
