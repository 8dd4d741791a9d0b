package build.hearth.grpc.common;

import build.hearth.api.ActionCache;
import build.hearth.api.Execution;
import build.hearth.api.ExecutionService;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.spi.transport.InstanceServices;
import java.util.Map;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Routes a request's {@code instance_name} to that instance's services.
 *
 * <p>An unknown name is INVALID_ARGUMENT, not NOT_FOUND: Bazel reads NOT_FOUND from GetActionResult
 * as a cache miss and from a read as a missing blob, so a misspelt {@code --remote_instance_name}
 * would silently disable the cache. INVALID_ARGUMENT is not retried and stops the build with the
 * message, which lists the names this server knows.
 */
public final class Instances {
  private final Map<String, InstanceServices> byName;
  private final String known;

  public Instances(Map<String, InstanceServices> byName) {
    this.byName = Map.copyOf(byName);
    this.known = describe(byName);
  }

  /** The configured names, quoted, for messages and logs. */
  public String describe() {
    return known;
  }

  /** The services of {@code name}. */
  public InstanceServices require(String name) {
    InstanceServices services = byName.get(name);
    if (services == null) {
      throw HearthException.invalidArgument(
          "unknown instance name \"%s\"; this server serves %s. Set --remote_instance_name to"
              + " one of them",
          abbreviate(name), known);
    }
    return services;
  }

  /** The action cache of {@code services}, which must have one. */
  public static ActionCache actionCache(InstanceServices services) {
    return services
        .actionCache()
        .orElseThrow(
            () ->
                new HearthException(
                    StatusCode.UNIMPLEMENTED,
                    "instance \""
                        + services.name()
                        + "\" has no action cache; configure one for it, or use this server"
                        + " only as a CAS"));
  }

  /** The execution service of {@code services}, which must have one. */
  public static ExecutionService execution(InstanceServices services) {
    return services
        .execution()
        .orElseThrow(
            () ->
                new HearthException(
                    StatusCode.UNIMPLEMENTED,
                    "instance \""
                        + abbreviate(services.name())
                        + "\" does not execute actions; it is a cache only. Configure"
                        + " \"execution\" for it, or drop --remote_executor and keep"
                        + " --remote_cache"));
  }

  /**
   * The execution named {@code operationName}, looked up in every instance that executes. Operation
   * names are unique in a server, so the first instance that knows the name owns it; several
   * instances may also share one execution service.
   */
  public Optional<Execution> findExecution(String operationName) {
    for (InstanceServices services : byName.values()) {
      if (services.execution().isPresent()) {
        Optional<Execution> found = services.execution().get().find(operationName);
        if (found.isPresent()) {
          return found;
        }
      }
    }
    return Optional.empty();
  }

  private static String describe(Map<String, InstanceServices> byName) {
    StringBuilder sb = new StringBuilder();
    for (String name : new TreeSet<>(byName.keySet())) {
      if (sb.length() > 0) {
        sb.append(", ");
      }
      sb.append('"').append(name).append('"');
      if (name.isEmpty()) {
        sb.append(" (the default instance)");
      }
    }
    return sb.toString();
  }

  public static String abbreviate(String text) {
    return text.length() <= 200 ? text : text.substring(0, 197) + "...";
  }
}
