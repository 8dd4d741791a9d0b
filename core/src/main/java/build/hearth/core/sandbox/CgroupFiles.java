package build.hearth.core.sandbox;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;

/**
 * Reads and writes the files of a cgroup file system with errors that name the file, and empties
 * and removes cgroup directories. The two actions the kernel does differently from an ordinary
 * directory tree (removing a cgroup, killing a process) go through {@link Kernel}, so that tests
 * can run the same code over a tree that mimics cgroupfs.
 *
 * <p>Thread-safe: it holds no state but the kernel seam.
 */
final class CgroupFiles {
  /** How long {@link #empty} keeps killing before it gives up. */
  static final long EMPTY_TIMEOUT_NANOS = 5_000_000_000L;

  /** What a cgroup file system does that an ordinary one does not. */
  interface Kernel {
    /** Makes a cgroup directory ({@code mkdir}: the kernel fills it with control files). */
    void makeCgroup(Path dir) throws IOException;

    /** Removes an empty cgroup directory ({@code rmdir}: its control files go with it). */
    void removeCgroup(Path dir) throws IOException;

    /** Sends SIGKILL to {@code pid}; a process already gone is not an error. */
    void kill(long pid);
  }

  /** The real kernel: {@code rmdir} and {@code SIGKILL}. */
  static final Kernel REAL =
      new Kernel() {
        @Override
        public void makeCgroup(Path dir) throws IOException {
          Files.createDirectory(dir);
        }

        @Override
        public void removeCgroup(Path dir) throws IOException {
          Files.delete(dir);
        }

        @Override
        public void kill(long pid) {
          if (pid != ProcessHandle.current().pid()) {
            ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
          }
        }
      };

  private final Kernel kernel;

  CgroupFiles(Kernel kernel) {
    this.kernel = kernel;
  }

  /** Makes the cgroup {@code dir}; see {@link Kernel#makeCgroup}. */
  void makeCgroup(Path dir) throws IOException {
    kernel.makeCgroup(dir);
  }

  /** The whole of {@code file}, trimmed. */
  static String read(Path file) throws IOException {
    try {
      return Files.readString(file, StandardCharsets.US_ASCII).trim();
    } catch (IOException e) {
      throw new IOException("cannot read " + file + ": " + e, e);
    }
  }

  /**
   * The number after {@code key} in a flat-keyed file such as {@code memory.events} ({@code
   * oom_kill 2} per line); 0 when the file has no such line.
   */
  static long keyed(Path file, String key) throws IOException {
    for (String line : read(file).split("\n")) {
      String[] words = line.trim().split("\\s+");
      if (words.length == 2 && words[0].equals(key)) {
        return parse(file, words[1]);
      }
    }
    return 0;
  }

  /** The single number in {@code file}, or empty when it is absent. */
  static OptionalLong numberIfPresent(Path file) throws IOException {
    if (!Files.exists(file)) {
      return OptionalLong.empty();
    }
    return OptionalLong.of(parse(file, read(file)));
  }

  private static long parse(Path file, String value) throws IOException {
    try {
      return Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new IOException(file + " holds '" + value + "', not a number", e);
    }
  }

  /** Writes {@code value} to the existing control file {@code file}. */
  static void write(Path file, String value) throws IOException {
    try {
      Files.writeString(
          file,
          value,
          StandardCharsets.US_ASCII,
          StandardOpenOption.WRITE,
          StandardOpenOption.TRUNCATE_EXISTING);
    } catch (IOException e) {
      throw new IOException("cannot write '" + value + "' to " + file + ": " + e, e);
    }
  }

  /** The processes in the cgroup {@code dir} (not its children); none when it is gone. */
  static List<Long> processes(Path dir) throws IOException {
    Path procs = dir.resolve("cgroup.procs");
    String text;
    try {
      text = Files.readString(procs, StandardCharsets.US_ASCII);
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      throw new IOException("cannot read " + procs + ": " + e, e);
    }
    List<Long> pids = new ArrayList<>();
    for (String line : text.split("\n")) {
      if (!line.isBlank()) {
        pids.add(parse(procs, line.trim()));
      }
    }
    return pids;
  }

  /** The child cgroups of {@code dir}. */
  static List<Path> children(Path dir) throws IOException {
    List<Path> children = new ArrayList<>();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, Files::isDirectory)) {
      entries.forEach(children::add);
    } catch (NoSuchFileException e) {
      return List.of();
    } catch (IOException e) {
      throw new IOException("cannot list " + dir + ": " + e, e);
    }
    return children;
  }

  /**
   * Kills every process in the cgroup {@code dir} and its children, then removes them all, children
   * first. Under v2 the kernel kills the whole subtree at once through {@code cgroup.kill} where it
   * has one; otherwise the processes are read from {@code cgroup.procs} and killed one by one,
   * again until none is left (a process may fork while the list is read), for at most {@link
   * #EMPTY_TIMEOUT_NANOS}.
   *
   * @throws IOException naming the cgroup if it cannot be emptied in time or removed
   */
  void killAndRemove(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return;
    }
    Path kill = dir.resolve("cgroup.kill");
    if (Files.exists(kill)) {
      write(kill, "1");
    }
    for (Path child : children(dir)) {
      killAndRemove(child);
    }
    empty(dir);
    kernel.removeCgroup(dir);
  }

  private void empty(Path dir) throws IOException {
    long deadline = System.nanoTime() + EMPTY_TIMEOUT_NANOS;
    List<Long> pids = processes(dir);
    while (!pids.isEmpty()) {
      if (System.nanoTime() - deadline > 0) {
        throw new IOException(
            "the processes " + pids + " of the cgroup " + dir + " survived SIGKILL for 5 s");
      }
      pids.forEach(kernel::kill);
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while emptying the cgroup " + dir, e);
      }
      pids = processes(dir);
    }
  }
}
