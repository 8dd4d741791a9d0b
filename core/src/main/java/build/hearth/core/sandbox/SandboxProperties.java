package build.hearth.core.sandbox;

import java.util.List;

/**
 * The platform properties through which an action asks its worker's sandbox for more than the
 * default: the network, a memory limit, a process limit. Every scheduler accepts them without being
 * told. {@link #NETWORK} chooses workers ({@code exact}): a worker offers {@code off} when its
 * sandbox can cut an action off the network, and {@code on} when its configuration lets actions
 * have it. The limits do not choose workers ({@code ignore}); the worker that runs the action
 * enforces them, and refuses a value above its configured maximum.
 */
public final class SandboxProperties {
  /** {@code on} for an action that needs the network; {@code off}, the default, for none. */
  public static final String NETWORK = "network";

  /** The action's memory limit: bytes, or a size with a unit such as {@code 512MiB}. */
  public static final String MEMORY_LIMIT = "memoryLimit";

  /** The action's limit on processes and threads at once: a whole number. */
  public static final String PROCESS_LIMIT = "processLimit";

  /** The values of {@link #NETWORK}. */
  public static final String ON = "on";

  public static final String OFF = "off";

  /** The properties that only the worker reads. */
  public static final List<String> WORKER_ENFORCED = List.of(MEMORY_LIMIT, PROCESS_LIMIT);

  private SandboxProperties() {}
}
