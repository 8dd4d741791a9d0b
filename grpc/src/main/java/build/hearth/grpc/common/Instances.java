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

  /**
   * Serves the given instances.
   *
   * @param byName the services of each instance, by instance name
   */
  public Instances(Map<String, InstanceServices> byName) {
    this.byName = Map.copyOf(byName);
    this.known = describe(byName);
  }

  /** {@return the configured names, quoted, for messages and logs} */
  public String describe() {
    return known;
  }

  /**
   * {@return the services of {@code name}}
   *
   * @param name the instance name of a request
   * @throws HearthException INVALID_ARGUMENT for a name this server does not serve, listing those
   *     it does
   */
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

  /**
   * {@return the action cache of {@code services}, which must have one}
   *
   * @param services the services of the request's instance
   * @throws HearthException UNIMPLEMENTED if the instance has no action cache
   */
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

  /**
   * {@return the execution service of {@code services}, which must have one}
   *
   * @param services the services of the request's instance
   * @throws HearthException UNIMPLEMENTED if the instance does not execute actions
   */
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
   * {@return the execution named {@code operationName}, looked up in every instance that executes}
   * Operation names are unique in a server, so the first instance that knows the name owns it;
   * several instances may also share one execution service.
   *
   * @param operationName the operation's name
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

  /**
   * {@return {@code text}, cut to 200 characters with {@code ...} at the end if it is longer}
   *
   * @param text a text from a client, such as an instance name
   */
  public static String abbreviate(String text) {
    return text.length() <= 200 ? text : text.substring(0, 197) + "...";
  }
}
