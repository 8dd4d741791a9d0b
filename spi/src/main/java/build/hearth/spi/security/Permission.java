package build.hearth.spi.security;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * What a call needs to be allowed, one per RPC or HTTP route. Each has the word the configuration
 * uses for it ({@link #configName()}). {@link #WORKER}, {@link #ADMIN} and {@link #METRICS} are
 * server-wide: they are never limited to instances.
 */
public enum Permission {
  /**
   * Reading: capabilities, {@code FindMissingBlobs}, blob reads, {@code GetTree}, {@code
   * GetActionResult}.
   */
  READ("read", false),
  /** Uploading blobs to the CAS: {@code BatchUpdateBlobs}, ByteStream {@code Write}. */
  WRITE("write", false),
  /** Writing the action cache: {@code UpdateActionResult}. */
  WRITE_ACTION_CACHE("writeActionCache", false),
  /** Running actions: {@code Execute}, {@code WaitExecution} and the operations API. */
  EXECUTE("execute", false),
  /** Registering as a worker on the worker API. Server-wide. */
  WORKER("worker", true),
  /** The {@code /admin} routes. Server-wide. */
  ADMIN("admin", true),
  /** The {@code /metrics} route. Server-wide. */
  METRICS("metrics", true);

  private final String configName;
  private final boolean serverWide;

  Permission(String configName, boolean serverWide) {
    this.configName = configName;
    this.serverWide = serverWide;
  }

  /**
   * {@return the word for this permission in the configuration, such as {@code "writeActionCache"}}
   */
  public String configName() {
    return configName;
  }

  /**
   * {@return true if this permission applies to the whole server, so that a policy's instance
   * patterns do not limit it}
   */
  public boolean serverWide() {
    return serverWide;
  }

  /**
   * {@return the permission the configuration calls {@code word}, or empty if none} Case matters:
   * {@code "writeActionCache"}, not {@code "WriteActionCache"}.
   *
   * @param word a permission word from a configuration
   */
  public static Optional<Permission> fromConfigName(String word) {
    for (Permission permission : values()) {
      if (permission.configName.equals(word)) {
        return Optional.of(permission);
      }
    }
    return Optional.empty();
  }

  /** {@return every configuration word, in declaration order, for error messages} */
  public static List<String> configNames() {
    return Arrays.stream(values()).map(Permission::configName).toList();
  }
}
