package build.hearth.core.process;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A process together with every process it started: whether they run, their memory, and ending them
 * all.
 *
 * <p>The JDK offers no process groups, so the tree is what {@link ProcessHandle#descendants()}
 * shows at the moment of asking. A process whose parent has already died is no longer anyone's
 * descendant: {@link #killAndWait} therefore snapshots again under every process of earlier
 * snapshots that still runs, and callers of {@link #kill} take {@link #snapshot}s while the root
 * still runs and pass them back in. A process forked by a parent in the instant between a snapshot
 * and that parent's death escapes; so does one that detached itself from the tree before the kill
 * began. Closing those gaps needs cgroups or process groups, which a Java process cannot set up by
 * itself. Reading memory and telling zombies apart use {@code /proc}, so Linux.
 *
 * <p>Internal to Hearth's engine, not part of its API. Stateless and thread-safe.
 */
public final class ProcessTrees {
  private static final Path PROC = Path.of("/proc");
  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

  private ProcessTrees() {}

  /**
   * Kills {@code root} and its descendants with SIGKILL, and waits until none of them runs any
   * more: snapshot, kill everything in the snapshot, and snapshot again under every process of
   * earlier snapshots that still runs, until nothing is left running.
   *
   * @param patience how long to keep killing; a process in uninterruptible sleep can outlast it
   * @return true if the whole tree is gone, false if something still ran when patience ran out
   */
  public static boolean killAndWait(ProcessHandle root, Duration patience) {
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
   * Sends SIGKILL to {@code root}, its current descendants and every process in {@code known} that
   * still runs, with their current descendants. Does not wait.
   */
  public static void kill(ProcessHandle root, Collection<ProcessHandle> known) {
    Map<Long, ProcessHandle> all = new LinkedHashMap<>();
    for (ProcessHandle handle : new ArrayList<>(known)) {
      all.putIfAbsent(handle.pid(), handle);
      if (handle.isAlive()) {
        snapshot(handle, all);
      }
    }
    snapshot(root, all);
    // The root first, so that it cannot start anything new while its children are being killed.
    root.destroyForcibly();
    all.values().forEach(ProcessHandle::destroyForcibly);
  }

  /** The running descendants of {@code root} now, added to {@code into} (keyed by pid). */
  public static void snapshot(ProcessHandle root, Map<Long, ProcessHandle> into) {
    root.descendants().forEach(d -> into.putIfAbsent(d.pid(), d));
  }

  /**
   * Whether {@code process} still runs. A killed process whose parent has not reaped it yet (a
   * zombie) counts as gone, although {@link ProcessHandle#isAlive()} says it lives: it holds no
   * resources but its process table entry, and nothing can kill it further.
   */
  public static boolean isRunning(ProcessHandle process) {
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

  /**
   * The summed {@code VmRSS} of {@code root} and its running descendants, or empty when the root's
   * cannot be read (not Linux, or the root has ended). Descendants that end while being read are
   * left out.
   */
  public static OptionalLong residentBytes(ProcessHandle root) {
    OptionalLong own = residentBytes(root.pid());
    if (own.isEmpty()) {
      return own;
    }
    long total = own.getAsLong();
    for (ProcessHandle descendant : (Iterable<ProcessHandle>) root.descendants()::iterator) {
      total += residentBytes(descendant.pid()).orElse(0);
    }
    return OptionalLong.of(total);
  }

  private static OptionalLong residentBytes(long pid) {
    List<String> lines;
    try {
      lines =
          Files.readAllLines(
              PROC.resolve(Long.toString(pid)).resolve("status"), StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      return OptionalLong.empty();
    }
    for (String line : lines) {
      // "VmRSS:	   12345 kB"; kernel threads and zombies have no such line.
      if (line.startsWith("VmRSS:")) {
        String[] parts = line.substring("VmRSS:".length()).trim().split("\\s+");
        try {
          long value = Long.parseLong(parts[0]);
          return OptionalLong.of(
              parts.length > 1 && parts[1].equalsIgnoreCase("kB") ? value * 1024 : value);
        } catch (NumberFormatException e) {
          return OptionalLong.empty();
        }
      }
    }
    return OptionalLong.empty();
  }
}
