package build.hearth.core.sandbox;

import build.hearth.api.HearthException;
import build.hearth.core.config.SandboxConfig;
import build.hearth.core.process.ProcessLauncher;
import build.hearth.core.sandbox.SandboxCapabilities.Part;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's sandbox: found once when the worker starts ({@link #start}), then used for every
 * process it starts. Each process runs in a bubblewrap of its own (namespaces, a fresh root with
 * only the system directories read-only, its one writable directory, a private {@code /tmp}), as
 * the configured unprivileged user on a root worker, in a cgroup of its own when it has limits and
 * the machine has cgroups.
 *
 * <pre>{@code
 * try (Sandbox sandbox = Sandbox.start(SandboxConfig.DEFAULT, "local");
 *     ConfinedProcess confined = sandbox.launch(launcher, request, Confinement.of(execRoot))) {
 *   confined.process().waitFor();
 *   confined.limitMessage().ifPresent(log::info);
 * }
 * }</pre>
 *
 * <p>Modes: {@code REQUIRED} refuses to start when any part is refused; {@code OPTIONAL} warns once
 * per refused part and uses the rest; {@code OFF} probes nothing and starts processes as they are.
 *
 * <p>Thread-safe.
 */
public final class Sandbox implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Sandbox.class);

  private final String workerName;
  private final SandboxConfig config;
  private final SandboxCapabilities capabilities;
  private final Optional<BwrapCommandLine> commandLine;
  private final Optional<ActionUser> actionUser;
  private final Cgroups cgroups;
  private final AtomicLong processes = new AtomicLong();

  private Sandbox(
      String workerName,
      SandboxConfig config,
      SandboxCapabilities capabilities,
      Optional<BwrapCommandLine> commandLine,
      Optional<ActionUser> actionUser,
      Cgroups cgroups) {
    this.workerName = workerName;
    this.config = config;
    this.capabilities = capabilities;
    this.commandLine = commandLine;
    this.actionUser = actionUser;
    this.cgroups = cgroups;
  }

  /**
   * Finds what this machine allows of {@code config}'s sandbox and logs it: one INFO line, and one
   * WARN line per refused part in {@code OPTIONAL} mode.
   *
   * @param workerName names the worker's cgroups and log lines
   * @throws HearthException FAILED_PRECONDITION in {@code REQUIRED} mode when the kernel or a
   *     missing program refuses a part, naming each and how to fix it; and, on a root worker, when
   *     {@code sandbox.user} or {@code sandbox.group} does not exist
   */
  public static Sandbox start(SandboxConfig config, String workerName) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(workerName, "workerName");
    boolean root = isRoot();
    if (config.mode() == SandboxConfig.Mode.OFF) {
      Sandbox off =
          new Sandbox(
              workerName,
              config,
              SandboxCapabilities.off(ownUser()),
              Optional.empty(),
              Optional.empty(),
              null);
      log.info("Worker {}: sandbox off; actions run as {}", workerName, ownUser());
      return off;
    }
    ActionUser user = root ? ActionUser.resolve(config.user(), config.group()) : null;
    SandboxProbe.Result probed = SandboxProbe.probe(config, root, user);
    Map<Part, String> refused = new LinkedHashMap<>(probed.refused());
    EnumSet<Part> available =
        probed.available().isEmpty()
            ? EnumSet.noneOf(Part.class)
            : EnumSet.copyOf(probed.available());
    Cgroups cgroups =
        Cgroups.probe(Path.of("/sys/fs/cgroup"), Path.of("/proc/self/cgroup"), workerName);
    cgroups
        .memoryRefusal()
        .ifPresentOrElse(why -> refused.put(Part.MEMORY, why), () -> available.add(Part.MEMORY));
    cgroups
        .pidsRefusal()
        .ifPresentOrElse(why -> refused.put(Part.PIDS, why), () -> available.add(Part.PIDS));
    boolean switchesUser = root && available.contains(Part.USER);
    String actionUser =
        switchesUser
            ? user.toString()
            : !root && available.contains(Part.USER)
                ? "a user namespace, as the worker's own user ("
                    + System.getProperty("user.name", "?")
                    + ")"
                : ownUser();
    SandboxCapabilities capabilities =
        new SandboxCapabilities(config.mode(), available, refused, cgroups.version(), actionUser);
    if (config.mode() == SandboxConfig.Mode.REQUIRED && !refused.isEmpty()) {
      cgroups.close();
      throw HearthException.failedPrecondition(
          "worker %s: the sandbox is required but this machine refuses part of it: %s; fix"
              + " those, or set \"sandbox\": \"optional\" to run with what the machine allows",
          workerName,
          refused.entrySet().stream()
              .map(e -> e.getKey().label() + " (" + e.getValue() + ")")
              .collect(Collectors.joining("; ")));
    }
    refused.forEach(
        (part, why) ->
            log.warn(
                "Worker {}: SANDBOX PART REFUSED, actions run without it: {}: {}",
                workerName,
                part.label(),
                why));
    log.info(
        "Worker {}: sandbox {} with {}; cgroups {}; actions run as {}{}",
        workerName,
        config.mode().name().toLowerCase(java.util.Locale.ROOT),
        available.isEmpty()
            ? "nothing"
            : available.stream().map(Part::label).collect(Collectors.joining(", ")),
        cgroups.version(),
        actionUser,
        root
            ? ""
            : " (actions own their input files' links here; the cache is guarded by the check"
                + " when each exec root is closed)");
    return new Sandbox(
        workerName,
        config,
        capabilities,
        probed.commandLine(),
        switchesUser ? Optional.of(user) : Optional.empty(),
        cgroups);
  }

  /**
   * Warns when {@code workDirectory} lies under one of the read-only system directories: actions
   * would then see, read-only, the other actions' exec roots and whatever else is there.
   *
   * @return whether it does
   */
  public boolean warnIfVisible(Path workDirectory) {
    if (commandLine.isEmpty()) {
      return false;
    }
    for (Path system : config.readOnlyPaths()) {
      Path absolute = system.toAbsolutePath().normalize();
      if (workDirectory.startsWith(absolute)) {
        log.warn(
            "Worker {}: the work directory {} lies under {}, which actions see read-only"
                + " (sandbox.readOnlyPaths): they can read each other's exec roots; move the work"
                + " directory or leave {} out of sandbox.readOnlyPaths",
            workerName,
            workDirectory,
            absolute,
            absolute);
        return true;
      }
    }
    return false;
  }

  /** What this sandbox does on this machine. */
  public SandboxCapabilities capabilities() {
    return capabilities;
  }

  /** The configuration it was started with. */
  public SandboxConfig config() {
    return config;
  }

  /**
   * The user actions run as when it is another than the worker's (a root worker's); the worker
   * hands each exec root's directories over to it before the process starts.
   */
  public Optional<ActionUser> actionUser() {
    return actionUser;
  }

  /**
   * Starts {@code request} confined by {@code confinement}, through {@code launcher}: in a new
   * cgroup with the confinement's limits (when this machine has cgroups), in bubblewrap (when it
   * may be used), as the action's user (on a root worker).
   *
   * @throws IOException if the process cannot be started
   * @throws HearthException INTERNAL if its cgroup cannot be made
   */
  public ConfinedProcess launch(
      ProcessLauncher launcher, ProcessLauncher.Request request, Confinement confinement)
      throws IOException {
    ActionCgroup cgroup = null;
    List<String> command = new ArrayList<>();
    OptionalLong memory =
        capabilities.has(Part.MEMORY) ? confinement.memoryLimitBytes() : OptionalLong.empty();
    OptionalInt pids =
        capabilities.has(Part.PIDS) ? confinement.processLimit() : OptionalInt.empty();
    // A process without limits needs no cgroup: its pid namespace already ends everything it
    // started. Tool processes are such, and nothing would close a cgroup made for them.
    if (cgroups != null
        && !cgroups.version().equals("none")
        && (memory.isPresent() || pids.isPresent())) {
      String name = "action-" + processes.incrementAndGet();
      try {
        cgroup = cgroups.create(name, memory, pids);
      } catch (IOException e) {
        throw HearthException.internal(
            "worker " + workerName + ": cannot make the cgroup " + name + ": " + e.getMessage(), e);
      }
      command.addAll(BwrapCommandLine.joinCgroups(cgroup.procsFiles()));
    }
    if (commandLine.isPresent()) {
      command.addAll(
          commandLine.get().wrap(confinement, request.workingDirectory(), request.arguments()));
    } else {
      command.addAll(request.arguments());
    }
    try {
      Process process = launcher.launch(request.withArguments(command));
      return new ConfinedProcess(
          process, cgroup, config, cgroups == null ? "none" : cgroups.version());
    } catch (IOException | RuntimeException e) {
      if (cgroup != null) {
        cgroup.close();
      }
      throw e;
    }
  }

  /**
   * A launcher that confines every process it starts to its own working directory (read-write), the
   * absolute paths its command line names (read-only: a tool's program, jars and class path
   * entries) and this JVM's {@code java.home} (read-only), without the network or limits: the
   * launcher of persistent tool processes.
   *
   * <p>A command line comes from an action, so it must not open what the sandbox hides: a path is
   * bound only when every user could read it on the host (each directory leading to it is
   * searchable by others, and it is readable by others) and it neither lies in {@code
   * workDirectory}, where the other actions' directories are, nor holds it.
   */
  public ProcessLauncher toolLauncher(ProcessLauncher launcher, Path workDirectory) {
    Objects.requireNonNull(launcher, "launcher");
    Objects.requireNonNull(workDirectory, "workDirectory");
    return new ProcessLauncher() {
      @Override
      public Process launch(Request request) throws IOException {
        Confinement confinement =
            Confinement.of(request.workingDirectory())
                .withReadOnly(
                    toolPaths(request.arguments()).stream()
                        .filter(path -> bindable(path, workDirectory))
                        .toList());
        ConfinedProcess confined = Sandbox.this.launch(launcher, request, confinement);
        // No limits, so no cgroup to close: the process is all there is.
        return confined.process();
      }

      @Override
      public String toString() {
        return "sandboxed " + launcher;
      }
    };
  }

  /**
   * Whether a path named on a tool's command line may be bound into its sandbox: every user could
   * read it on the host, and it neither lies in the work directory nor holds it (binding {@code /}
   * or an ancestor of the work directory would show the other keys' directories, which belong to
   * the same action user).
   */
  static boolean bindable(Path path, Path workDirectory) {
    return !path.startsWith(workDirectory)
        && !workDirectory.startsWith(path)
        && publiclyReadable(path);
  }

  /** The absolute paths on a command line, a class path's entries included, and java.home. */
  static List<Path> toolPaths(List<String> arguments) {
    List<Path> paths = new ArrayList<>();
    for (String argument : arguments) {
      for (String part : argument.split("[:=,]")) {
        if (part.startsWith("/")) {
          Path path = Path.of(part).normalize();
          if (Files.exists(path)) {
            paths.add(path);
          }
        }
      }
    }
    paths.add(Path.of(System.getProperty("java.home")));
    return paths;
  }

  /** Whether every user may read {@code path} on the host: the directories to it and itself. */
  static boolean publiclyReadable(Path path) {
    try {
      if (!Files.getPosixFilePermissions(path).contains(PosixFilePermission.OTHERS_READ)) {
        return false;
      }
      for (Path p = path.getParent(); p != null; p = p.getParent()) {
        if (!Files.getPosixFilePermissions(p).contains(PosixFilePermission.OTHERS_EXECUTE)) {
          return false;
        }
      }
      return true;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  /** Removes the worker's cgroups. Idempotent. */
  @Override
  public void close() {
    if (cgroups != null) {
      cgroups.close();
    }
  }

  private static boolean isRoot() {
    try {
      return ((Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid")) == 0;
    } catch (IOException | RuntimeException e) {
      return "root".equals(System.getProperty("user.name"));
    }
  }

  private static String ownUser() {
    return "the worker's own user (" + System.getProperty("user.name", "?") + ")";
  }

  @Override
  public String toString() {
    return "Sandbox{" + workerName + ", " + capabilities + "}";
  }
}
