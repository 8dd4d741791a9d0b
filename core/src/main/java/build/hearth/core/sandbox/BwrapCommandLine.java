package build.hearth.core.sandbox;

import build.hearth.core.sandbox.SandboxCapabilities.Part;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Builds the command line that starts one process in bubblewrap with the parts of the sandbox in
 * force: {@code bwrap}'s namespace flags, a fresh root holding only the read-only system
 * directories, {@code /proc}, {@code /dev}, a private {@code /tmp} and the process's writable
 * directory at its own path, then (for a root worker) {@code setpriv} to become the action's user
 * with no capabilities. The system directories are statted once, here; the rest is per process.
 * Immutable and thread-safe.
 */
final class BwrapCommandLine {
  /** The shell that joins an action's cgroups before it becomes bwrap: no extra process. */
  static final String JOIN_CGROUPS =
      "for f; do [ \"$f\" = -- ] && break; echo $$ > \"$f\" || exit 125; shift; done; shift;"
          + " exec \"$@\"";

  private static final Path TMP = Path.of("/tmp");
  private static final Path PROC = Path.of("/proc");
  private static final Path DEV = Path.of("/dev");

  private final String bwrap;
  private final Set<Part> parts;
  private final boolean root;
  private final List<String> userSwitch;
  private final List<String> systemMounts = new ArrayList<>();
  private final List<Path> systemPaths = new ArrayList<>();

  /**
   * @param bwrap the bwrap program, an absolute path
   * @param parts the namespace parts to use (MOUNT is implied)
   * @param root whether the worker runs as root: USER then means {@code setpriv} to {@code uid} and
   *     {@code gid}, otherwise a user namespace
   * @param setpriv the setpriv program, an absolute path; used only for a root worker's USER
   * @param readOnlyPaths the system directories; those missing on this machine are left out, and a
   *     symlink (such as {@code /lib -> usr/lib}) is recreated rather than bound
   */
  BwrapCommandLine(
      String bwrap,
      Set<Part> parts,
      boolean root,
      String setpriv,
      int uid,
      int gid,
      List<Path> readOnlyPaths) {
    this.bwrap = bwrap;
    this.parts = parts.isEmpty() ? EnumSet.noneOf(Part.class) : EnumSet.copyOf(parts);
    this.root = root;
    this.userSwitch =
        root && parts.contains(Part.USER)
            ? List.of(
                setpriv,
                "--reuid=" + uid,
                "--regid=" + gid,
                "--clear-groups",
                "--bounding-set=-all",
                "--inh-caps=-all",
                "--no-new-privs",
                "--")
            : List.of();
    for (Path path : readOnlyPaths) {
      Path absolute = path.toAbsolutePath().normalize();
      if (Files.isSymbolicLink(absolute)) {
        try {
          systemMounts.addAll(
              List.of(
                  "--symlink", Files.readSymbolicLink(absolute).toString(), absolute.toString()));
          systemPaths.add(absolute);
        } catch (IOException e) {
          // Unreadable link: left out like a missing path.
        }
      } else if (Files.exists(absolute)) {
        systemMounts.addAll(List.of("--ro-bind", absolute.toString(), absolute.toString()));
        systemPaths.add(absolute);
      }
    }
  }

  /** The prefix that puts the process in the cgroups whose {@code cgroup.procs} files these are. */
  static List<String> joinCgroups(List<Path> procsFiles) {
    List<String> prefix = new ArrayList<>(List.of("/bin/sh", "-c", JOIN_CGROUPS, "hearth-cgroup"));
    procsFiles.forEach(file -> prefix.add(file.toString()));
    prefix.add("--");
    return prefix;
  }

  /**
   * The command line that runs {@code argv} confined by {@code confinement}, in {@code
   * workingDirectory} (inside the writable directory).
   */
  List<String> wrap(Confinement confinement, Path workingDirectory, List<String> argv) {
    List<String> command = new ArrayList<>(64);
    command.add(bwrap);
    if (parts.contains(Part.IPC)) {
      command.add("--unshare-ipc");
    }
    if (parts.contains(Part.PID)) {
      command.add("--unshare-pid");
    }
    if (parts.contains(Part.UTS)) {
      command.add("--unshare-uts");
    }
    if (parts.contains(Part.NETWORK) && !confinement.network()) {
      command.add("--unshare-net");
    }
    if (!root && parts.contains(Part.USER)) {
      command.add("--unshare-user");
    }
    command.addAll(List.of("--unshare-cgroup-try", "--die-with-parent", "--new-session"));
    if (parts.contains(Part.UTS)) {
      command.addAll(List.of("--hostname", "hearth"));
    }
    command.addAll(systemMounts);
    command.addAll(
        List.of("--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"));
    Path writable = confinement.writable();
    Set<Path> made = new HashSet<>();
    addAncestors(writable, made, command);
    command.addAll(List.of("--bind", writable.toString(), writable.toString()));
    for (Path path : confinement.readOnly()) {
      Path absolute = path.normalize();
      // Inside the writable directory it is there already; over an ancestor it would hide it.
      if (!absolute.startsWith(writable)
          && !writable.startsWith(absolute)
          && !present(absolute)
          && Files.exists(absolute, LinkOption.NOFOLLOW_LINKS)) {
        addAncestors(absolute, made, command);
        command.addAll(List.of("--ro-bind", absolute.toString(), absolute.toString()));
      }
    }
    command.addAll(List.of("--chdir", workingDirectory.toString(), "--"));
    command.addAll(userSwitch);
    command.addAll(argv);
    return command;
  }

  /**
   * Makes each missing ancestor of a bind's target an empty 0755 directory: bwrap would make them
   * 0700, which the action's user could not pass.
   */
  private void addAncestors(Path target, Set<Path> made, List<String> command) {
    List<Path> ancestors = new ArrayList<>();
    for (Path p = target.getParent(); p != null && p.getParent() != null; p = p.getParent()) {
      ancestors.add(0, p);
    }
    for (Path ancestor : ancestors) {
      if (!present(ancestor) && made.add(ancestor)) {
        command.addAll(List.of("--perms", "0755", "--dir", ancestor.toString()));
      }
    }
  }

  /** Whether {@code path} is already in the sandbox's tree without a mount of its own. */
  private boolean present(Path path) {
    if (path.equals(TMP) || path.startsWith(PROC) || path.startsWith(DEV)) {
      return true;
    }
    for (Path system : systemPaths) {
      if (path.startsWith(system)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public String toString() {
    return "BwrapCommandLine" + parts;
  }
}
