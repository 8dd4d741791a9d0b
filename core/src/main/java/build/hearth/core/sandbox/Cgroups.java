package build.hearth.core.sandbox;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cgroups a worker puts each action in, for its memory and process limits: version 2 where the
 * unified hierarchy has the {@code memory} and {@code pids} controllers delegated to this process's
 * cgroup, version 1 where those hierarchies are mounted and writable, none otherwise. The worker's
 * cgroups are made under the cgroup this JVM runs in, named after the worker, so two workers (two
 * Hearths in one JVM included) never share one.
 *
 * <p>The worker's parent cgroup is {@code <this process's cgroup>/hearth-<worker>-<pid>-<random>}
 * (one per v1 hierarchy), made by {@link #probe}; each action's is a child of it. The JVM's pid in
 * the name lets a later run of the same worker recognise the parents a crashed run left (their pid
 * is gone) and remove them, without touching those of another live Hearth.
 *
 * <p>Thread-safe, and holds no lock: the directories are fixed at the probe.
 */
final class Cgroups implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Cgroups.class);

  private final String version;
  private final String memoryRefusal;
  private final String pidsRefusal;
  private final String v2Refusal;
  // v2: both the same directory. Null where the controller is not usable.
  private final Path memoryParent;
  private final Path pidsParent;
  private final CgroupFiles files;
  private final AtomicBoolean closed = new AtomicBoolean();

  Cgroups(
      String version,
      String memoryRefusal,
      String pidsRefusal,
      String v2Refusal,
      Path memoryParent,
      Path pidsParent,
      CgroupFiles files) {
    this.version = version;
    this.memoryRefusal = memoryRefusal;
    this.pidsRefusal = pidsRefusal;
    this.v2Refusal = v2Refusal;
    this.memoryParent = memoryParent;
    this.pidsParent = pidsParent;
    this.files = files;
  }

  /**
   * Finds which cgroups this machine lets the worker use, and makes the worker's parent cgroups.
   * Never throws: what cannot be used is reported by {@link #memoryRefusal()}, {@link
   * #pidsRefusal()} and {@link #v2Refusal()}.
   *
   * @param mountRoot where cgroup file systems are mounted, {@code /sys/fs/cgroup}
   * @param selfCgroup this process's {@code /proc/self/cgroup}
   * @param workerName names the worker's parent cgroup ({@code hearth-<name>-<unique>})
   */
  static Cgroups probe(Path mountRoot, Path selfCgroup, String workerName) {
    return probe(mountRoot, selfCgroup, workerName, CgroupFiles.REAL);
  }

  /** {@link #probe(Path, Path, String)} over a file system that {@code kernel} completes. */
  static Cgroups probe(
      Path mountRoot, Path selfCgroup, String workerName, CgroupFiles.Kernel kernel) {
    return new CgroupProbe(mountRoot, selfCgroup, workerName, new CgroupFiles(kernel)).probe();
  }

  /** {@code "v1"}, {@code "v2"} or {@code "none"}. */
  String version() {
    return version;
  }

  /** Why memory limits cannot be enforced; empty when they can. */
  Optional<String> memoryRefusal() {
    return Optional.ofNullable(memoryRefusal);
  }

  /** Why process limits cannot be enforced; empty when they can. */
  Optional<String> pidsRefusal() {
    return Optional.ofNullable(pidsRefusal);
  }

  /**
   * Why cgroup v2 is not used, when it is not (so v1 is, or none); empty under v2. For the start
   * log: a machine with a v2 hierarchy that is not delegated should say why it falls back.
   */
  Optional<String> v2Refusal() {
    return Optional.ofNullable(v2Refusal);
  }

  /**
   * One line for the start log and the worker's report, such as {@code v1 (memory, pids; v2 not
   * used: ...)} or {@code none (memory: ...; pids: ...)}.
   */
  String describe() {
    List<String> parts = new ArrayList<>();
    if (memoryParent != null) {
      parts.add("memory");
    } else {
      parts.add("no memory: " + memoryRefusal);
    }
    if (pidsParent != null) {
      parts.add("pids");
    } else {
      parts.add("no pids: " + pidsRefusal);
    }
    if (!version.equals("v2") && v2Refusal != null && memoryParent != null) {
      parts.add("v2 not used: " + v2Refusal);
    }
    return version + " (" + String.join("; ", parts) + ")";
  }

  /** The worker's parent cgroup directories (one under v2), for tests and messages. */
  List<Path> parents() {
    List<Path> parents = new ArrayList<>(2);
    if (memoryParent != null) {
      parents.add(memoryParent);
    }
    if (pidsParent != null && !pidsParent.equals(memoryParent)) {
      parents.add(pidsParent);
    }
    return parents;
  }

  /**
   * Creates one action's cgroup (one per hierarchy under v1) with these limits; an empty limit is
   * no limit. Limits this machine cannot enforce are left out; with no usable controller at all the
   * result has no {@link ActionCgroup#procsFiles() procs files} and an empty verdict.
   *
   * <p>Under v1: {@code memory.limit_in_bytes}, and {@code memory.memsw.limit_in_bytes} with the
   * same value where the kernel has it (so swapping does not dodge the limit), and {@code
   * pids.max}. Under v2: {@code memory.max}, {@code memory.swap.max} 0 where present, and {@code
   * pids.max}.
   *
   * @param name unique among the worker's running actions; a single path component
   * @throws IOException if the cgroup cannot be made or a limit cannot be written (the message
   *     names the file); nothing is left behind then
   * @throws IllegalArgumentException if {@code name} is not a single path component or a limit is
   *     not positive
   */
  ActionCgroup create(String name, OptionalLong memoryBytes, OptionalInt processes)
      throws IOException {
    if (name.isEmpty() || name.equals(".") || name.equals("..") || name.contains("/")) {
      throw new IllegalArgumentException("not a cgroup name: '" + name + "'");
    }
    if (memoryBytes.isPresent() && memoryBytes.getAsLong() <= 0) {
      throw new IllegalArgumentException("memory limit must be positive: " + memoryBytes);
    }
    if (processes.isPresent() && processes.getAsInt() <= 0) {
      throw new IllegalArgumentException("process limit must be positive: " + processes);
    }
    if (closed.get()) {
      throw new IOException("the worker's cgroups are closed; no action may start");
    }
    boolean v2 = version.equals("v2");
    Path memoryDir = memoryParent == null ? null : memoryParent.resolve(name);
    Path pidsDir = pidsParent == null ? null : pidsParent.resolve(name);
    OptionalLong memoryLimit = memoryDir == null ? OptionalLong.empty() : memoryBytes;
    int processLimit = pidsDir == null || processes.isEmpty() ? 0 : processes.getAsInt();
    KernelActionCgroup cgroup =
        new KernelActionCgroup(v2, memoryDir, pidsDir, memoryLimit, processLimit, files);
    try {
      for (Path dir : cgroup.directories()) {
        makeDirectory(files, dir);
      }
      if (memoryLimit.isPresent()) {
        String bytes = Long.toString(memoryLimit.getAsLong());
        if (v2) {
          CgroupFiles.write(memoryDir.resolve("memory.max"), bytes);
          Path swap = memoryDir.resolve("memory.swap.max");
          if (Files.exists(swap)) {
            CgroupFiles.write(swap, "0");
          }
        } else {
          CgroupFiles.write(memoryDir.resolve("memory.limit_in_bytes"), bytes);
          Path memsw = memoryDir.resolve("memory.memsw.limit_in_bytes");
          if (Files.exists(memsw)) {
            CgroupFiles.write(memsw, bytes);
          }
        }
      }
      if (processLimit > 0) {
        CgroupFiles.write(pidsDir.resolve("pids.max"), Integer.toString(processLimit));
      }
    } catch (IOException | RuntimeException e) {
      cgroup.close();
      throw e;
    }
    return cgroup;
  }

  private static void makeDirectory(CgroupFiles files, Path dir) throws IOException {
    try {
      files.makeCgroup(dir);
    } catch (FileAlreadyExistsException e) {
      throw new IOException(
          "the cgroup " + dir + " exists already: two running actions were given one name", e);
    } catch (IOException e) {
      throw new IOException("cannot create the cgroup " + dir + ": " + e, e);
    }
  }

  /** Removes the worker's parent cgroups, killing anything left in them. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    for (Path parent : parents()) {
      try {
        files.killAndRemove(parent);
      } catch (IOException e) {
        log.warn(
            "Cannot remove the worker's cgroup {}; the next start of this worker removes it: {}",
            parent,
            e.getMessage());
      }
    }
  }

  @Override
  public String toString() {
    return "Cgroups{" + describe() + "}";
  }
}
