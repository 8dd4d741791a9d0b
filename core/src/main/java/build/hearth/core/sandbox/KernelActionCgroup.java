package build.hearth.core.sandbox;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An action's cgroup in a real (or mimicked) cgroup file system: one directory under v2, a {@code
 * memory} and a {@code pids} directory under v1 (either may be missing when its controller is not
 * usable). Made by {@link Cgroups#create}, which has written the limits already.
 *
 * <p>Thread-safe: its state is fixed but for the closed flag.
 */
final class KernelActionCgroup implements ActionCgroup {
  private static final Logger log = LoggerFactory.getLogger(KernelActionCgroup.class);

  private final boolean v2;
  private final Path memoryDir;
  private final Path pidsDir;
  private final OptionalLong memoryLimit;
  private final int processLimit;
  private final CgroupFiles files;
  private final AtomicBoolean closed = new AtomicBoolean();

  /**
   * @param v2 whether the directories are in the unified hierarchy (then both are the same one)
   * @param memoryDir the cgroup with the memory controller, or null for none
   * @param pidsDir the cgroup with the pids controller, or null for none
   * @param processLimit the process limit written, 0 for none
   */
  KernelActionCgroup(
      boolean v2,
      Path memoryDir,
      Path pidsDir,
      OptionalLong memoryLimit,
      int processLimit,
      CgroupFiles files) {
    this.v2 = v2;
    this.memoryDir = memoryDir;
    this.pidsDir = pidsDir;
    this.memoryLimit = memoryLimit;
    this.processLimit = processLimit;
    this.files = files;
  }

  @Override
  public List<Path> procsFiles() {
    return directories().stream().map(d -> d.resolve("cgroup.procs")).toList();
  }

  /** The cgroup directories, each once. */
  List<Path> directories() {
    List<Path> dirs = new ArrayList<>(2);
    if (memoryDir != null) {
      dirs.add(memoryDir);
    }
    if (pidsDir != null && !pidsDir.equals(memoryDir)) {
      dirs.add(pidsDir);
    }
    return dirs;
  }

  /**
   * Reads the controllers' counters: under v1 {@code memory.oom_control}'s {@code oom_kill}, {@code
   * memory.max_usage_in_bytes} and {@code pids.events}' {@code max}; under v2 {@code
   * memory.events}' {@code oom_kill}, {@code memory.peak} where the kernel has it, and {@code
   * pids.events}' {@code max}. A counter that cannot be read is logged and counts as nothing
   * happened, so a verdict never hides the action's own result.
   */
  @Override
  public CgroupVerdict verdict() {
    boolean oomKilled = false;
    OptionalLong peak = OptionalLong.empty();
    long forksRefused = 0;
    try {
      if (memoryDir != null) {
        oomKilled =
            v2
                ? CgroupFiles.keyed(memoryDir.resolve("memory.events"), "oom_kill") > 0
                : CgroupFiles.keyed(memoryDir.resolve("memory.oom_control"), "oom_kill") > 0;
        peak =
            CgroupFiles.numberIfPresent(
                memoryDir.resolve(v2 ? "memory.peak" : "memory.max_usage_in_bytes"));
      }
      if (pidsDir != null) {
        forksRefused = CgroupFiles.keyed(pidsDir.resolve("pids.events"), "max");
      }
    } catch (IOException e) {
      log.warn("Cannot read what the cgroup limits did to an action: {}", e.getMessage());
    }
    return new CgroupVerdict(
        memoryDir == null ? OptionalLong.empty() : memoryLimit,
        oomKilled,
        pidsDir == null ? 0 : processLimit,
        forksRefused,
        peak);
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    for (Path dir : directories()) {
      try {
        files.killAndRemove(dir);
      } catch (IOException e) {
        log.warn(
            "Cannot empty and remove the action's cgroup {}; it goes when the worker stops: {}",
            dir,
            e.getMessage());
      }
    }
  }

  @Override
  public String toString() {
    return "ActionCgroup" + directories();
  }
}
