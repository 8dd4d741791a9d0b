package build.hearth.core.internal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Optional;
import java.util.function.Function;

/**
 * An exclusive claim on a directory that belongs to one Hearth instance at a time (a filesystem
 * store's path, an execution directory): an operating-system lock on a lock file in it, which other
 * processes and other instances in this JVM both see. The holder writes its pid and start time into
 * the file, so the second opener's error can say who holds it. The lock ends with {@link #close()}
 * or with the process, so a crash never leaves a stale claim.
 *
 * <p>Thread-safe.
 */
public final class DirectoryLock implements AutoCloseable {
  private final Path file;
  private final FileChannel channel;
  private final FileLock lock;

  private DirectoryLock(Path file, FileChannel channel, FileLock lock) {
    this.file = file;
    this.channel = channel;
    this.lock = lock;
  }

  /**
   * Takes the lock on {@code file} (created if missing) without waiting.
   *
   * @param file the lock file, inside the directory it guards; the directory must exist
   * @param what the directory's role, for messages, such as {@code "blob store 'cas'"}
   * @param error turns a problem (what went wrong and how to fix it) into the exception to throw
   * @return the held lock; close it to release it
   * @throws RuntimeException from {@code error} if another process or another instance in this
   *     process holds the lock (naming its pid and start time when the file says), or the file
   *     cannot be opened
   */
  public static DirectoryLock acquire(
      Path file, String what, Function<String, RuntimeException> error) {
    FileChannel channel;
    try {
      channel =
          FileChannel.open(
              file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw error.apply("cannot open the lock file " + file + ": " + e);
    }
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      closeQuietly(channel);
      throw error.apply(
          heldBy(file, what, "another Hearth instance in this process")
              + "; give each instance its own directory, or close the other first");
    } catch (IOException e) {
      closeQuietly(channel);
      throw error.apply("cannot lock " + file + ": " + e);
    }
    if (lock == null) {
      String holder = readHolder(file).orElse("another process");
      closeQuietly(channel);
      throw error.apply(
          heldBy(file, what, holder)
              + "; a directory belongs to one Hearth instance at a time: stop that one or give"
              + " this one another directory");
    }
    try {
      byte[] me = describeSelf().getBytes(StandardCharsets.UTF_8);
      channel.truncate(0);
      channel.write(ByteBuffer.wrap(me), 0);
    } catch (IOException e) {
      // The lock holds without the note; only the other opener's message gets vaguer.
    }
    return new DirectoryLock(file, channel, lock);
  }

  /** {@return the lock file} */
  public Path file() {
    return file;
  }

  /** Releases the lock; the file stays, so the next holder just locks it again. */
  @Override
  public void close() {
    try {
      lock.release();
    } catch (IOException e) {
      // Closing the channel below releases it too.
    }
    closeQuietly(channel);
  }

  private static String heldBy(Path file, String what, String holder) {
    return "the directory of " + what + " is in use by " + holder + " (lock file " + file + ")";
  }

  private static Optional<String> readHolder(Path file) {
    try {
      String note = Files.readString(file, StandardCharsets.UTF_8).strip();
      return note.isEmpty() ? Optional.empty() : Optional.of(note);
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }

  private static String describeSelf() {
    ProcessHandle self = ProcessHandle.current();
    String started = self.info().startInstant().map(Instant::toString).orElse("at an unknown time");
    return "process " + self.pid() + " (started " + started + ")\n";
  }

  private static void closeQuietly(FileChannel channel) {
    try {
      channel.close();
    } catch (IOException e) {
      // Nothing was written through it that matters.
    }
  }
}
