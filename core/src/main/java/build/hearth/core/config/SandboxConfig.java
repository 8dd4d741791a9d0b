package build.hearth.core.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * How a worker confines the processes it starts: actions' own processes and persistent tool
 * processes alike. The {@code sandbox} object of a worker in the configuration file; see
 * docs/sandbox.md for what each part keeps an action from doing.
 *
 * @param mode whether the worker may start when the kernel refuses part of the sandbox
 * @param user the user actions run as when the worker runs as root; a name or a number
 * @param group the group actions run as when the worker runs as root; empty for the user's own
 *     primary group
 * @param allowNetwork whether actions that ask for the network ({@code network=on}) may have it;
 *     all others see only a loopback interface of their own
 * @param memoryLimitBytes the memory limit of an action that names none; empty for no limit
 * @param maxMemoryLimitBytes the largest memory limit an action may ask for; empty for no cap
 * @param processLimit the process (and thread) limit of an action that names none; empty for none
 * @param maxProcessLimit the largest process limit an action may ask for; empty for no cap
 * @param readOnlyPaths the host directories an action sees, read-only, besides its exec root (the
 *     system's programs and libraries); those missing on this machine are left out
 * @param bubblewrap the {@code bwrap} program; a bare name is looked up on the worker's {@code
 *     PATH}
 */
public record SandboxConfig(
    Mode mode,
    String user,
    String group,
    boolean allowNetwork,
    OptionalLong memoryLimitBytes,
    OptionalLong maxMemoryLimitBytes,
    OptionalInt processLimit,
    OptionalInt maxProcessLimit,
    List<Path> readOnlyPaths,
    Path bubblewrap) {

  /** What to do when the kernel refuses a part of the sandbox. */
  public enum Mode {
    /** Refuse to start, naming the part and why. */
    REQUIRED,
    /** Start with what the kernel allows, warning loudly about what it refused. The default. */
    OPTIONAL,
    /** Run processes unconfined, as the worker's own user. */
    OFF
  }

  /** The directories of the system's programs and libraries that actions see by default. */
  public static final List<Path> DEFAULT_READ_ONLY_PATHS =
      List.of(
          Path.of("/usr"),
          Path.of("/bin"),
          Path.of("/sbin"),
          Path.of("/lib"),
          Path.of("/lib32"),
          Path.of("/lib64"),
          Path.of("/libx32"),
          Path.of("/etc"),
          Path.of("/opt"));

  /** The process limit of an action that names none, by default: 4096 processes and threads. */
  public static final int DEFAULT_PROCESS_LIMIT = 4096;

  /** Optional mode, actions as {@code nobody}, no network, no memory limit, 4096 processes. */
  public static final SandboxConfig DEFAULT =
      new SandboxConfig(
          Mode.OPTIONAL,
          "nobody",
          "",
          false,
          OptionalLong.empty(),
          OptionalLong.empty(),
          OptionalInt.of(DEFAULT_PROCESS_LIMIT),
          OptionalInt.empty(),
          DEFAULT_READ_ONLY_PATHS,
          Path.of("bwrap"));

  /** No sandbox: processes run as the worker's own user, with everything it can reach. */
  public static final SandboxConfig OFF =
      new SandboxConfig(
          Mode.OFF,
          "nobody",
          "",
          true,
          OptionalLong.empty(),
          OptionalLong.empty(),
          OptionalInt.empty(),
          OptionalInt.empty(),
          List.of(),
          Path.of("bwrap"));

  /**
   * Checks that nothing is null and copies the paths.
   *
   * @param mode as above
   * @param user as above
   * @param group as above
   * @param allowNetwork as above
   * @param memoryLimitBytes as above
   * @param maxMemoryLimitBytes as above
   * @param processLimit as above
   * @param maxProcessLimit as above
   * @param readOnlyPaths as above
   * @param bubblewrap as above
   * @throws IllegalArgumentException if the user is blank
   */
  public SandboxConfig {
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(user, "user");
    Objects.requireNonNull(group, "group");
    Objects.requireNonNull(memoryLimitBytes, "memoryLimitBytes");
    Objects.requireNonNull(maxMemoryLimitBytes, "maxMemoryLimitBytes");
    Objects.requireNonNull(processLimit, "processLimit");
    Objects.requireNonNull(maxProcessLimit, "maxProcessLimit");
    readOnlyPaths = List.copyOf(readOnlyPaths);
    Objects.requireNonNull(bubblewrap, "bubblewrap");
    if (user.isBlank()) {
      throw new IllegalArgumentException("sandbox.user must name a user");
    }
  }

  /**
   * {@return this configuration with {@code mode} instead of its own}
   *
   * @param mode the mode of the copy
   */
  public SandboxConfig withMode(Mode mode) {
    return new SandboxConfig(
        mode,
        user,
        group,
        allowNetwork,
        memoryLimitBytes,
        maxMemoryLimitBytes,
        processLimit,
        maxProcessLimit,
        readOnlyPaths,
        bubblewrap);
  }
}
