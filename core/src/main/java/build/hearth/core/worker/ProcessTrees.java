package build.hearth.core.worker;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Kills a process together with every process it started.
 *
 * <p>The JDK offers no process groups, so the tree is found through {@link
 * ProcessHandle#descendants()}: snapshot, kill everything in the snapshot with SIGKILL, and
 * snapshot again under every process of earlier snapshots that still runs (a process whose parent
 * was just killed is no longer the root's descendant) until nothing is left running. A process
 * forked by a parent in the instant between a snapshot and that parent's death escapes; so does one
 * that detached itself from the tree before the kill began. Closing those gaps needs cgroups or
 * process groups, which a Java worker cannot set up by itself.
 *
 * <p>Stateless and thread-safe.
 */
final class ProcessTrees {
  private static final Path PROC = Path.of("/proc");
  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

  private ProcessTrees() {}

  /**
   * Kills {@code root} and its descendants, and waits until none of them runs any more.
   *
   * @param patience how long to keep killing; a process in uninterruptible sleep can outlast it
   * @return true if the whole tree is gone, false if something still ran when patience ran out
   */
  static boolean kill(ProcessHandle root, Duration patience) {
    long deadline = System.nanoTime() + patience.toNanos();
    Map<Long, ProcessHandle> seen = new LinkedHashMap<>();
    seen.put(root.pid(), root);
    while (true) {
      Map<Long, ProcessHandle> running = new LinkedHashMap<>();
      for (ProcessHandle known : List.copyOf(seen.values())) {
        // A process that has ended has no descendants left: they were re-parented when it died.
        // So only running ones are searched, and one search under the root usually finds all.
        if (running.containsKey(known.pid()) || !isRunning(known)) {
          continue;
        }
        running.put(known.pid(), known);
        known
            .descendants()
            .forEach(
                d -> {
                  seen.putIfAbsent(d.pid(), d);
                  if (isRunning(d)) {
                    running.putIfAbsent(d.pid(), d);
                  }
                });
      }
      if (running.isEmpty()) {
        return true;
      }
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      running.values().forEach(ProcessHandle::destroyForcibly);
      // SIGKILL is delivered asynchronously; give the kernel a moment before looking again.
      LockSupport.parkNanos(POLL_NANOS);
    }
  }

  /**
   * Whether {@code process} still runs. A killed process whose parent has not reaped it yet (a
   * zombie) counts as gone, although {@link ProcessHandle#isAlive()} says it lives: it holds no
   * resources but its process table entry, and nothing can kill it further.
   */
  static boolean isRunning(ProcessHandle process) {
    if (!process.isAlive()) {
      return false;
    }
    Path stat = PROC.resolve(Long.toString(process.pid())).resolve("stat");
    String text;
    try {
      text = Files.readString(stat, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return !Files.isDirectory(PROC) && process.isAlive();
    } catch (IOException e) {
      return process.isAlive();
    }
    // "pid (comm) S ...": the state follows the last ')' because comm may contain anything.
    int close = text.lastIndexOf(')');
    if (close < 0 || close + 2 >= text.length()) {
      return process.isAlive();
    }
    char state = text.charAt(close + 2);
    return state != 'Z' && state != 'X' && state != 'x';
  }
}
