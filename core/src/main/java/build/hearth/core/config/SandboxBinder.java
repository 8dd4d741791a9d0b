package build.hearth.core.config;

import build.hearth.core.config.Node.ArrayNode;
import build.hearth.core.config.Node.ValueNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;

/**
 * Binds a worker's {@code sandbox}: a mode alone ({@code "required"}, {@code "optional"}, {@code
 * "off"}) or an object whose fields override {@link SandboxConfig#DEFAULT}. Stateless.
 */
final class SandboxBinder {
  private static final String MODE = "mode";
  private static final String USER = "user";
  private static final String GROUP = "group";
  private static final String ALLOW_NETWORK = "allowNetwork";
  private static final String MEMORY_LIMIT = "memoryLimit";
  private static final String MAX_MEMORY_LIMIT = "maxMemoryLimit";
  private static final String PROCESS_LIMIT = "processLimit";
  private static final String MAX_PROCESS_LIMIT = "maxProcessLimit";
  private static final String READ_ONLY_PATHS = "readOnlyPaths";
  private static final String BUBBLEWRAP = "bubblewrap";

  private static final String MODES =
      "\"required\" (refuse to start without every part), \"optional\" (start with what the"
          + " kernel allows, warning about the rest) or \"off\" (no sandbox)";

  // A smaller memory limit would kill every action before its program even started.
  private static final long MIN_MEMORY_LIMIT_BYTES = 1L << 20;

  private SandboxBinder() {}

  static SandboxConfig bind(Optional<Node> section) {
    if (section.isEmpty()) {
      return SandboxConfig.DEFAULT;
    }
    Node node = section.get();
    if (node instanceof ValueNode v && v.value() instanceof String) {
      SandboxConfig.Mode mode = mode(node);
      return mode == SandboxConfig.Mode.OFF
          ? SandboxConfig.OFF
          : SandboxConfig.DEFAULT.withMode(mode);
    }
    if (!(node instanceof Node.ObjectNode)) {
      throw Fields.wrongType(
          node,
          "\"required\", \"optional\", \"off\" or a sandbox object such as {\"mode\":"
              + " \"required\", \"memoryLimit\": \"4GiB\"}");
    }
    Fields fields =
        Fields.of(
            node,
            "a sandbox object",
            MODE,
            USER,
            GROUP,
            ALLOW_NETWORK,
            MEMORY_LIMIT,
            MAX_MEMORY_LIMIT,
            PROCESS_LIMIT,
            MAX_PROCESS_LIMIT,
            READ_ONLY_PATHS,
            BUBBLEWRAP);
    SandboxConfig defaults = SandboxConfig.DEFAULT;
    SandboxConfig.Mode mode =
        fields.optional(MODE).map(SandboxBinder::mode).orElse(defaults.mode());
    String user = fields.optional(USER).map(SandboxBinder::user).orElse(defaults.user());
    String group = fields.string(GROUP).orElse(defaults.group());
    OptionalLong memoryLimit =
        fields
            .optional(MEMORY_LIMIT)
            .map(n -> OptionalLong.of(memory(n)))
            .orElse(defaults.memoryLimitBytes());
    OptionalLong maxMemoryLimit =
        fields
            .optional(MAX_MEMORY_LIMIT)
            .map(n -> OptionalLong.of(memory(n)))
            .orElse(defaults.maxMemoryLimitBytes());
    OptionalInt processLimit = processes(fields, PROCESS_LIMIT, defaults.processLimit());
    OptionalInt maxProcessLimit = processes(fields, MAX_PROCESS_LIMIT, defaults.maxProcessLimit());
    checkMaximum(
        fields,
        MEMORY_LIMIT,
        MAX_MEMORY_LIMIT,
        memoryLimit.isPresent() ? memoryLimit.getAsLong() : -1,
        maxMemoryLimit.isPresent() ? maxMemoryLimit.getAsLong() : -1,
        "");
    checkMaximum(
        fields,
        PROCESS_LIMIT,
        MAX_PROCESS_LIMIT,
        processLimit.isPresent() ? processLimit.getAsInt() : -1,
        maxProcessLimit.isPresent() ? maxProcessLimit.getAsInt() : -1,
        " processes");
    List<Path> readOnlyPaths =
        fields
            .optional(READ_ONLY_PATHS)
            .map(SandboxBinder::readOnlyPaths)
            .orElse(defaults.readOnlyPaths());
    return new SandboxConfig(
        mode,
        user,
        group,
        fields.bool(ALLOW_NETWORK).orElse(defaults.allowNetwork()),
        memoryLimit,
        maxMemoryLimit,
        processLimit,
        maxProcessLimit,
        readOnlyPaths,
        fields.optional(BUBBLEWRAP).map(ConfigValues::path).orElse(defaults.bubblewrap()));
  }

  private static SandboxConfig.Mode mode(Node node) {
    return switch (Fields.string(node)) {
      case "required" -> SandboxConfig.Mode.REQUIRED;
      case "optional" -> SandboxConfig.Mode.OPTIONAL;
      case "off" -> SandboxConfig.Mode.OFF;
      default -> throw Fields.invalid(node, "expected " + MODES + ", found " + node.describe());
    };
  }

  private static String user(Node node) {
    String user = Fields.string(node);
    if (user.isBlank()) {
      throw Fields.invalid(
          node,
          "must name the user actions run as when the worker runs as root, such as \"nobody\" or"
              + " \"65534\"; found "
              + node.describe());
    }
    return user;
  }

  private static long memory(Node node) {
    long bytes = ConfigValues.bytes(node);
    if (bytes < MIN_MEMORY_LIMIT_BYTES) {
      throw Fields.invalid(
          node,
          "must be at least 1MiB (1048576 bytes), found " + node.describe() + " (" + bytes + ")");
    }
    return bytes;
  }

  /**
   * Refuses a maximum below the default an action gets when it names no limit: that action could
   * never run. The error names the maximum's field when it was written, else the default's.
   *
   * @param value the default limit, or -1 for none
   * @param max the maximum, or -1 for none
   */
  private static void checkMaximum(
      Fields fields, String field, String maxField, long value, long max, String unit) {
    if (max < 0) {
      return;
    }
    Node maxNode = fields.optional(maxField).orElseThrow();
    Optional<Node> valueNode = fields.optional(field);
    if (value < 0) {
      throw Fields.invalid(
          maxNode,
          "an action that names no "
              + field
              + " would have none, more than this maximum allows; set \""
              + field
              + "\" too");
    }
    if (value > max) {
      throw Fields.invalid(
          maxNode,
          "is "
              + max
              + unit
              + ", below "
              + (valueNode.isPresent()
                  ? "\"" + field + "\" (" + value + unit + ")"
                  : "the default " + field + " of " + value + unit)
              + ", which actions that name none get; raise it or lower \""
              + field
              + "\"");
    }
  }

  private static List<Path> readOnlyPaths(Node node) {
    ArrayNode array =
        Fields.array(node, "an array of absolute paths, such as [\"/usr\", \"/bin\", \"/lib\"]");
    List<Path> paths = new ArrayList<>();
    Map<Path, Node> seen = new HashMap<>();
    for (Node element : array.elements()) {
      Path path = ConfigValues.path(element);
      if (!path.isAbsolute()) {
        throw Fields.invalid(
            element,
            "must be an absolute path, since the action sees it at the same place; found "
                + element.describe());
      }
      if (path.getParent() == null) {
        throw Fields.invalid(
            element,
            "the root directory would show the action the whole machine; list the directories it"
                + " needs, such as \"/usr\"");
      }
      Node earlier = seen.putIfAbsent(path, element);
      if (earlier != null) {
        throw Fields.invalid(element, path + " is listed twice (also at " + earlier.path() + ")");
      }
      paths.add(path);
    }
    return paths;
  }

  /** A process count of at least 1 in field {@code name}, or {@code otherwise} when absent. */
  private static OptionalInt processes(Fields fields, String name, OptionalInt otherwise) {
    return fields
        .optional(name)
        .map(n -> OptionalInt.of(ConfigValues.count(n, 1, "an action needs 1 process at least")))
        .orElse(otherwise);
  }
}
