package build.hearth.core.persistent;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

/**
 * A tool process together with the processes it started: their memory, and ending them all.
 *
 * <p>The JDK offers no process groups, so the tree is what {@link ProcessHandle#descendants()}
 * shows at the moment of asking. A process whose parent has already died is no longer anyone's
 * descendant, so callers take snapshots while the root still runs and pass them back in.
 *
 * <p>Stateless and thread-safe.
 */
final class ToolProcessTree {
  private static final Path PROC = Path.of("/proc");

  private ToolProcessTree() {}

  /**
   * The summed {@code VmRSS} of {@code root} and its running descendants, or empty when the root's
   * cannot be read (not Linux, or the root has ended). Descendants that end while being read are
   * left out.
   */
  static OptionalLong residentBytes(ProcessHandle root) {
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

  /** The running descendants of {@code root} now, added to {@code into} (keyed by pid). */
  static void snapshot(ProcessHandle root, Map<Long, ProcessHandle> into) {
    root.descendants().forEach(d -> into.putIfAbsent(d.pid(), d));
  }

  /**
   * Sends SIGKILL to {@code root}, its current descendants and every process in {@code known} that
   * still runs. Does not wait.
   */
  static void kill(ProcessHandle root, Collection<ProcessHandle> known) {
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
}
