package build.hearth.core.scheduler;

import java.util.List;

/**
 * The names of the platform properties that a worker's sandbox reads, as every scheduler accepts
 * them without being told: {@value #NETWORK} chooses workers ({@link PropertyType#EXACT}), since a
 * worker offers {@code off} only when its sandbox can cut an action off the network and {@code on}
 * only when it lets actions have it; the limits are {@link PropertyType#IGNORE}d, since the worker
 * that runs the action enforces them. They are the names of {@code core.sandbox.SandboxProperties},
 * repeated here because the sandbox's package sits above the scheduler's.
 */
public final class SandboxPlatformProperties {
  /** {@code on} or {@code off}: whether the action may reach the network. */
  public static final String NETWORK = "network";

  /** The properties only the worker that runs the action reads. */
  public static final List<String> WORKER_ENFORCED = List.of("memoryLimit", "processLimit");

  private SandboxPlatformProperties() {}
}
