package build.hearth.core.sandbox;

import build.bazel.remote.execution.v2.Platform;
import build.hearth.api.HearthException;
import build.hearth.core.config.SandboxConfig;
import build.hearth.core.internal.Sizes;
import build.hearth.spi.storage.StoreSettings;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * What an action asks of its sandbox through {@link SandboxProperties}, checked against the
 * worker's {@link SandboxConfig}: the network, and its memory and process limits (the config's
 * defaults when it names none). Immutable.
 *
 * @param network whether the action may use the host's network
 * @param memoryLimitBytes its memory limit; empty for none
 * @param processLimit its process limit; empty for none
 */
public record ActionLimits(
    boolean network, OptionalLong memoryLimitBytes, OptionalInt processLimit) {

  /**
   * Reads the properties from {@code actionPlatform} when it has any, else from {@code
   * commandPlatform}, as REAPI v2.2 asks.
   *
   * @throws HearthException INVALID_ARGUMENT naming the property, its value and the allowed ones or
   *     the maximum, for a malformed value or one above the worker's maximum; FAILED_PRECONDITION
   *     for {@code network=on} on a worker whose configuration does not allow it
   */
  public static ActionLimits read(Platform platform, SandboxConfig config) {
    boolean network = false;
    OptionalLong memory = config.memoryLimitBytes();
    OptionalInt processes = config.processLimit();
    for (Platform.Property property : platform.getPropertiesList()) {
      String value = property.getValue().trim();
      switch (property.getName()) {
        case SandboxProperties.NETWORK -> network = network(value, config);
        case SandboxProperties.MEMORY_LIMIT -> memory = OptionalLong.of(memory(value, config));
        case SandboxProperties.PROCESS_LIMIT ->
            processes = OptionalInt.of(processes(value, config));
        default -> {}
      }
    }
    return new ActionLimits(network, memory, processes);
  }

  /** The confinement of an action whose exec root is {@code execRoot}. */
  public Confinement confinement(java.nio.file.Path execRoot) {
    return new Confinement(execRoot, java.util.List.of(), network, memoryLimitBytes, processLimit);
  }

  private static boolean network(String value, SandboxConfig config) {
    if (value.equals(SandboxProperties.OFF)) {
      return false;
    }
    if (!value.equals(SandboxProperties.ON)) {
      throw HearthException.invalidArgument(
          "platform property %s must be \"%s\" or \"%s\", not \"%s\"",
          SandboxProperties.NETWORK, SandboxProperties.ON, SandboxProperties.OFF, value);
    }
    if (!config.allowNetwork()) {
      throw HearthException.failedPrecondition(
          "the action asks for the network (platform property %s=%s) but this worker's sandbox"
              + " does not allow it (sandbox.allowNetwork is false)",
          SandboxProperties.NETWORK, SandboxProperties.ON);
    }
    return true;
  }

  private static long memory(String value, SandboxConfig config) {
    OptionalLong bytes = StoreSettings.parseBytes(value);
    if (bytes.isEmpty() || bytes.getAsLong() < 1) {
      throw HearthException.invalidArgument(
          "platform property %s must be a number of bytes or a size such as 512MiB, not \"%s\"",
          SandboxProperties.MEMORY_LIMIT, value);
    }
    OptionalLong max = config.maxMemoryLimitBytes();
    if (max.isPresent() && bytes.getAsLong() > max.getAsLong()) {
      throw HearthException.invalidArgument(
          "platform property %s=%s is above this worker's maximum of %s (sandbox.maxMemoryLimit)",
          SandboxProperties.MEMORY_LIMIT, value, Sizes.binary(max.getAsLong()));
    }
    return bytes.getAsLong();
  }

  private static int processes(String value, SandboxConfig config) {
    int count;
    try {
      count = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      count = 0;
    }
    if (count < 1) {
      throw HearthException.invalidArgument(
          "platform property %s must be a whole number of at least 1, not \"%s\"",
          SandboxProperties.PROCESS_LIMIT, value);
    }
    OptionalInt max = config.maxProcessLimit();
    if (max.isPresent() && count > max.getAsInt()) {
      throw HearthException.invalidArgument(
          "platform property %s=%s is above this worker's maximum of %d (sandbox.maxProcessLimit)",
          SandboxProperties.PROCESS_LIMIT, value, max.getAsInt());
    }
    return count;
  }
}
