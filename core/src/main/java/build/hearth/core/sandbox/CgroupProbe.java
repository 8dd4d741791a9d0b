package build.hearth.core.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Works out, once at a worker's start, which cgroups it can use (see {@link Cgroups}), and makes
 * its parent cgroups: v2 when this process's cgroup in a {@code cgroup2} mount ({@code <mountRoot>}
 * itself or {@code <mountRoot>/unified}) lists {@code memory} and {@code pids} in its {@code
 * cgroup.subtree_control}; else v1, per controller, when {@code <mountRoot>/memory} and {@code
 * <mountRoot>/pids} hold this process's cgroup and a directory can be made in it; else none, with
 * the reason.
 *
 * <p>Used by one thread, once.
 */
final class CgroupProbe {
  private static final Logger log = LoggerFactory.getLogger(CgroupProbe.class);
  private static final List<String> CONTROLLERS = List.of("memory", "pids");

  private final Path mountRoot;
  private final Path selfCgroup;
  private final String prefix;
  private final String name;
  private final CgroupFiles files;
  private final Pattern stale;

  CgroupProbe(Path mountRoot, Path selfCgroup, String workerName, CgroupFiles files) {
    this.mountRoot = mountRoot;
    this.selfCgroup = selfCgroup;
    this.files = files;
    String worker = workerName.replaceAll("[^A-Za-z0-9_.-]", "_");
    if (worker.length() > 64) {
      worker = worker.substring(0, 64);
    }
    this.prefix = "hearth-" + worker + "-";
    this.name =
        String.format(
            "%s%d-%08x",
            prefix, ProcessHandle.current().pid(), ThreadLocalRandom.current().nextInt());
    this.stale = Pattern.compile(Pattern.quote(prefix) + "(\\d+)-[0-9a-f]{8}");
  }

  Cgroups probe() {
    Map<String, String> v1Paths = new HashMap<>();
    String v2Path = null;
    try {
      for (String line : Files.readAllLines(selfCgroup)) {
        String[] fields = line.split(":", 3);
        if (fields.length != 3) {
          continue;
        }
        if (fields[0].equals("0") && fields[1].isEmpty()) {
          v2Path = fields[2];
        } else {
          for (String controller : fields[1].split(",")) {
            v1Paths.put(controller, fields[2]);
          }
        }
      }
    } catch (IOException e) {
      String reason = "cannot read " + selfCgroup + ": " + e;
      return new Cgroups("none", reason, reason, reason, null, null, files);
    }

    String v2Refusal;
    try {
      Path parent = v2(v2Path);
      return new Cgroups("v2", null, null, null, parent, parent, files);
    } catch (Refused e) {
      v2Refusal = e.getMessage();
    }

    String[] refusals = new String[2];
    Path[] parents = new Path[2];
    for (int i = 0; i < 2; i++) {
      try {
        parents[i] = v1(CONTROLLERS.get(i), v1Paths.get(CONTROLLERS.get(i)));
      } catch (Refused e) {
        refusals[i] = e.getMessage();
      }
    }
    if (parents[0] == null && parents[1] == null) {
      return new Cgroups(
          "none",
          "cgroup v2: " + v2Refusal + "; cgroup v1: " + refusals[0],
          "cgroup v2: " + v2Refusal + "; cgroup v1: " + refusals[1],
          v2Refusal,
          null,
          null,
          files);
    }
    return new Cgroups("v1", refusals[0], refusals[1], v2Refusal, parents[0], parents[1], files);
  }

  /** The v2 parent cgroup, made and with both controllers enabled for its children. */
  private Path v2(String v2Path) throws Refused {
    Path mount = null;
    for (Path candidate : List.of(mountRoot, mountRoot.resolve("unified"))) {
      if (Files.isRegularFile(candidate.resolve("cgroup.controllers"))) {
        mount = candidate;
        break;
      }
    }
    if (mount == null) {
      throw new Refused(
          "no cgroup v2 hierarchy is mounted at " + mountRoot + " or " + mountRoot + "/unified");
    }
    if (v2Path == null) {
      throw new Refused(selfCgroup + " names no cgroup v2 ('0::' line) for this process");
    }
    Path own = below(mount, v2Path);
    if (!Files.isDirectory(own)) {
      throw new Refused("this process's cgroup " + v2Path + " is not at " + own);
    }
    Set<String> delegated;
    String available;
    try {
      delegated = Set.of(CgroupFiles.read(own.resolve("cgroup.subtree_control")).split("\\s+"));
      available = CgroupFiles.read(own.resolve("cgroup.controllers"));
    } catch (IOException e) {
      throw new Refused(e.getMessage());
    }
    List<String> missing = CONTROLLERS.stream().filter(c -> !delegated.contains(c)).toList();
    if (!missing.isEmpty()) {
      throw new Refused(
          String.format(
              "the cgroup v2 hierarchy at %s does not delegate %s to this process's cgroup %s"
                  + " (its cgroup.subtree_control holds '%s', its cgroup.controllers '%s')",
              mount,
              String.join(" and ", missing),
              v2Path,
              String.join(" ", delegated).trim(),
              available));
    }
    Path parent = makeParent(own);
    try {
      CgroupFiles.write(parent.resolve("cgroup.subtree_control"), "+memory +pids");
    } catch (IOException e) {
      removeQuietly(parent);
      throw new Refused(e.getMessage());
    }
    return parent;
  }

  /** The v1 parent cgroup of {@code controller}, made. */
  private Path v1(String controller, String ownPath) throws Refused {
    Path hierarchy = mountRoot.resolve(controller);
    if (ownPath == null) {
      throw new Refused("no cgroup v1 " + controller + " hierarchy is listed in " + selfCgroup);
    }
    if (!Files.isDirectory(hierarchy)) {
      throw new Refused(
          "the cgroup v1 " + controller + " hierarchy is not mounted at " + hierarchy);
    }
    Path own = below(hierarchy, ownPath);
    if (!Files.isDirectory(own)) {
      throw new Refused(
          "this process's " + controller + " cgroup " + ownPath + " is not at " + own);
    }
    Path parent = makeParent(own);
    String marker = controller.equals("memory") ? "memory.limit_in_bytes" : "pids.max";
    if (!Files.exists(parent.resolve(marker))) {
      removeQuietly(parent);
      throw new Refused(
          hierarchy
              + " is not a cgroup v1 "
              + controller
              + " hierarchy: a new cgroup has no "
              + marker);
    }
    return parent;
  }

  /**
   * Removes parents a crashed earlier run of this worker left in {@code own}: their pid is gone.
   */
  private void removeStale(Path own) {
    List<Path> children;
    try {
      children = CgroupFiles.children(own);
    } catch (IOException e) {
      return;
    }
    for (Path child : children) {
      Matcher m = stale.matcher(child.getFileName().toString());
      if (m.matches() && ProcessHandle.of(Long.parseLong(m.group(1))).isEmpty()) {
        try {
          files.killAndRemove(child);
          log.info("Removed the cgroup {} that an earlier run of this worker left", child);
        } catch (IOException e) {
          log.warn("Cannot remove the cgroup {} an earlier run left: {}", child, e.getMessage());
        }
      }
    }
  }

  private void removeQuietly(Path dir) {
    try {
      files.killAndRemove(dir);
    } catch (IOException e) {
      log.warn("Cannot remove the cgroup {} made to probe: {}", dir, e.getMessage());
    }
  }

  /**
   * Where the cgroup {@code cgroupPath} of {@code /proc/self/cgroup} lies under {@code mount}. A
   * path that leads above the mount (a cgroup namespace shows {@code /../..} for cgroups outside
   * it) yields one that does not exist under the mount's parent, so the caller refuses it.
   */
  private static Path below(Path mount, String cgroupPath) {
    String relative = cgroupPath.replaceFirst("^/+", "");
    Path resolved = relative.isEmpty() ? mount : mount.resolve(relative).normalize();
    return resolved.startsWith(mount) ? resolved : mount.resolve("..outside-this-mount..");
  }

  /** A reason a cgroup version or controller cannot be used. */
  private static final class Refused extends Exception {
    private static final long serialVersionUID = 1;

    Refused(String reason) {
      super(reason, null, false, false);
    }
  }

  /** Removes what crashed runs left under {@code own}, then makes this worker's parent there. */
  private Path makeParent(Path own) throws Refused {
    removeStale(own);
    Path parent = own.resolve(name);
    try {
      files.makeCgroup(parent);
    } catch (IOException e) {
      throw new Refused("cannot create a cgroup under " + own + ": " + e);
    }
    return parent;
  }
}
