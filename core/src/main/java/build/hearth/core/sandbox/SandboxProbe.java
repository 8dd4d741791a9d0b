package build.hearth.core.sandbox;

import build.hearth.core.config.SandboxConfig;
import build.hearth.core.internal.DirectoryTrees;
import build.hearth.core.sandbox.SandboxCapabilities.Part;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Finds which namespace parts of the sandbox this machine allows: looks for {@code bwrap} (and
 * {@code setpriv} for a root worker), runs the full command once with {@code /bin/true}, and only
 * when that fails tries each part alone on top of a bare bwrap, so the common case costs one trial.
 * The trials run through the JDK directly: they ask the kernel, not the worker's launcher.
 */
final class SandboxProbe {
  /** The namespace parts, in the order they are reported. */
  static final List<Part> NAMESPACE_PARTS =
      List.of(Part.MOUNT, Part.PID, Part.IPC, Part.UTS, Part.NETWORK, Part.USER);

  private static final String TRUE = "/bin/true";

  /**
   * What the probe found.
   *
   * @param available the namespace parts in force
   * @param refused the others, with why
   * @param commandLine builds the confined command lines; empty when bwrap cannot be used at all
   */
  record Result(
      Set<Part> available, Map<Part, String> refused, Optional<BwrapCommandLine> commandLine) {}

  private SandboxProbe() {}

  /**
   * @param root whether this worker runs as root
   * @param user the action's user of a root worker; null otherwise
   */
  static Result probe(SandboxConfig config, boolean root, ActionUser user) {
    Map<Part, String> refused = new LinkedHashMap<>();
    Optional<Path> bwrap = findProgram(config.bubblewrap());
    if (bwrap.isEmpty()) {
      String why =
          "bubblewrap is not installed: no program "
              + config.bubblewrap()
              + (config.bubblewrap().getNameCount() == 1 && !config.bubblewrap().isAbsolute()
                  ? " on the PATH"
                  : "")
              + " (install it: apt-get install bubblewrap, or set sandbox.bubblewrap)";
      NAMESPACE_PARTS.forEach(part -> refused.put(part, why));
      return new Result(Set.of(), refused, Optional.empty());
    }
    String setpriv = "";
    if (root) {
      Optional<Path> found = findProgram(Path.of("setpriv"));
      setpriv = found.map(Path::toString).orElse("");
    }
    Path scratch;
    try {
      scratch = Files.createTempDirectory("hearth-sandbox-probe-");
    } catch (IOException e) {
      String why = "cannot make a directory to try bubblewrap in: " + e.getMessage();
      NAMESPACE_PARTS.forEach(part -> refused.put(part, why));
      return new Result(Set.of(), refused, Optional.empty());
    }
    try {
      Trial trial = new Trial(bwrap.get().toString(), root, setpriv, user, config, scratch);
      EnumSet<Part> wanted = EnumSet.copyOf(NAMESPACE_PARTS);
      if (root && setpriv.isEmpty()) {
        wanted.remove(Part.USER);
        refused.put(
            Part.USER,
            "setpriv is not installed (apt-get install util-linux), so actions would run as root");
      }
      if (trial.run(wanted).isEmpty()) {
        return result(wanted, refused, trial);
      }
      EnumSet<Part> bare = EnumSet.of(Part.MOUNT);
      if (!root) {
        // Unprivileged bwrap needs a user namespace to make any namespace at all.
        bare.add(Part.USER);
      }
      Optional<String> bareFailure = trial.run(bare);
      if (bareFailure.isPresent()) {
        String why = "bubblewrap cannot make a mount namespace here: " + bareFailure.get();
        if (!root) {
          why +=
              "; enable unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1)"
                  + " or run the worker as root";
        }
        for (Part part : NAMESPACE_PARTS) {
          refused.putIfAbsent(part, why);
        }
        return new Result(Set.of(), refused, Optional.empty());
      }
      EnumSet<Part> available = EnumSet.copyOf(bare);
      for (Part part : wanted) {
        if (available.contains(part)) {
          continue;
        }
        EnumSet<Part> one = EnumSet.copyOf(bare);
        one.add(part);
        Optional<String> failure = trial.run(one);
        if (failure.isPresent()) {
          refused.put(part, failure.get());
        } else {
          available.add(part);
        }
      }
      return result(available, refused, trial);
    } finally {
      try {
        DirectoryTrees.delete(scratch);
      } catch (IOException e) {
        // A few empty directories in the temporary directory.
      }
    }
  }

  private static Result result(Set<Part> available, Map<Part, String> refused, Trial trial) {
    return new Result(available, refused, Optional.of(trial.commandLine(available)));
  }

  /** {@code program} as an absolute executable path: as it is, or looked up on this JVM's PATH. */
  static Optional<Path> findProgram(Path program) {
    if (program.isAbsolute() || program.getNameCount() > 1) {
      Path absolute = program.toAbsolutePath();
      return Files.isExecutable(absolute) && !Files.isDirectory(absolute)
          ? Optional.of(absolute)
          : Optional.empty();
    }
    String path = System.getenv("PATH");
    for (String entry : (path == null ? "/usr/bin:/bin" : path).split(File.pathSeparator)) {
      if (entry.isEmpty()) {
        continue;
      }
      Path candidate = Path.of(entry).resolve(program);
      if (Files.isExecutable(candidate) && !Files.isDirectory(candidate)) {
        return Optional.of(candidate.toAbsolutePath());
      }
    }
    return Optional.empty();
  }

  /** Runs {@code /bin/true} in bwrap with a given set of parts. */
  private record Trial(
      String bwrap,
      boolean root,
      String setpriv,
      ActionUser user,
      SandboxConfig config,
      Path scratch) {

    BwrapCommandLine commandLine(Set<Part> parts) {
      return new BwrapCommandLine(
          bwrap,
          parts,
          root,
          setpriv,
          user == null ? 0 : user.uid(),
          user == null ? 0 : user.gid(),
          config.readOnlyPaths());
    }

    /** Why the command failed; empty when it ran. */
    Optional<String> run(Set<Part> parts) {
      List<String> command =
          commandLine(parts).wrap(Confinement.of(scratch), scratch, List.of(TRUE));
      try {
        Process process =
            new ProcessBuilder(command)
                .directory(scratch.toFile())
                .redirectErrorStream(true)
                .start();
        process.getOutputStream().close();
        byte[] output = process.getInputStream().readNBytes(4096);
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          return Optional.of("bwrap did not finish within 10 seconds");
        }
        if (process.exitValue() != 0) {
          String text = new String(output, StandardCharsets.UTF_8).trim();
          return Optional.of("exit " + process.exitValue() + (text.isEmpty() ? "" : ": " + text));
        }
        return Optional.empty();
      } catch (IOException e) {
        return Optional.of(e.getMessage());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Optional.of("interrupted");
      }
    }
  }
}
