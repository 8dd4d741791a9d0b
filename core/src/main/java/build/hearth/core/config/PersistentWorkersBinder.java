package build.hearth.core.config;

import build.hearth.api.HearthException;
import build.hearth.api.PoolLimits;
import build.hearth.api.ToolProtocol;
import build.hearth.core.config.Node.ArrayNode;
import build.hearth.core.config.Node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.Set;

/** Binds a worker's {@code persistentWorkers} object. Stateless. */
final class PersistentWorkersBinder {
  private static final String ENABLED = "enabled";
  private static final String IDLE_TIMEOUT = "idleTimeout";
  private static final String MAX_PER_KEY = "maxProcessesPerKey";
  private static final String MAX_PROCESSES = "maxProcesses";
  private static final String MAX_REQUESTS = "maxRequestsPerProcess";
  private static final String MEMORY_LIMIT = "memoryLimit";
  private static final String AT_CAPACITY = "atCapacity";
  private static final String SHUTDOWN_GRACE = "shutdownGrace";
  private static final String MAX_MULTIPLEX = "maxMultiplexRequests";
  private static final String TOOLS = "tools";
  private static final String ALLOW = "allow";
  private static final String SANDBOX = "sandbox";

  private PersistentWorkersBinder() {}

  static PersistentWorkersConfig bind(Optional<Node> section, int slots) {
    if (section.isEmpty()) {
      return PersistentWorkersConfig.defaults(slots);
    }
    Fields fields =
        Fields.of(
            section.get(),
            "a persistentWorkers object such as {\"idleTimeout\": \"5m\", \"maxProcessesPerKey\":"
                + " 4}",
            ENABLED,
            IDLE_TIMEOUT,
            MAX_PER_KEY,
            MAX_PROCESSES,
            MAX_REQUESTS,
            MEMORY_LIMIT,
            AT_CAPACITY,
            SHUTDOWN_GRACE,
            MAX_MULTIPLEX,
            TOOLS,
            ALLOW,
            SANDBOX);
    fields.optional(SANDBOX).ifPresent(PersistentWorkersBinder::refuseSandbox);
    int perKey =
        fields
            .optional(MAX_PER_KEY)
            .map(n -> ConfigValues.count(n, 1, "a key needs room for at least 1 process"))
            .orElse(PersistentWorkersConfig.DEFAULT_MAX_PROCESSES_PER_KEY);
    int total =
        fields
            .optional(MAX_PROCESSES)
            .map(n -> ConfigValues.count(n, 1, "the pool needs room for at least 1 process"))
            .orElse(Math.max(perKey, PersistentWorkersConfig.defaultMaxProcesses(slots)));
    Optional<Set<String>> allowedTools = Optional.empty();
    Optional<Set<String>> allowedKeys = Optional.empty();
    Optional<Node> allow = fields.optional(ALLOW);
    if (allow.isPresent()) {
      Fields allowFields =
          Fields.of(
              allow.get(),
              "an allow object such as {\"tools\": [\"javac\"], \"keys\": [\"my-key\"]}",
              "tools",
              "keys");
      allowedTools = allowFields.optional("tools").map(PersistentWorkersBinder::names);
      allowedKeys = allowFields.optional("keys").map(PersistentWorkersBinder::names);
      if (allowedTools.isEmpty() && allowedKeys.isEmpty()) {
        throw Fields.invalid(
            allow.get(),
            "an empty allow object allows nothing; list \"tools\" or \"keys\", or set"
                + " \"enabled\": false to run every action as an ordinary process");
      }
    }
    return new PersistentWorkersConfig(
        fields.bool(ENABLED).orElse(true),
        fields
            .optional(IDLE_TIMEOUT)
            .map(ConfigValues::duration)
            .orElse(PersistentWorkersConfig.DEFAULT_IDLE_TIMEOUT),
        perKey,
        total,
        fields
            .optional(MAX_REQUESTS)
            .map(n -> ConfigValues.count(n, 0, "must not be negative (0 means no limit)"))
            .orElse(0),
        fields.optional(MEMORY_LIMIT).map(ConfigValues::bytes).orElse(0L),
        fields
            .optional(AT_CAPACITY)
            .map(PersistentWorkersBinder::atCapacity)
            .orElse(PoolLimits.AtCapacity.WAIT),
        fields
            .optional(SHUTDOWN_GRACE)
            .map(ConfigValues::duration)
            .orElse(PersistentWorkersConfig.DEFAULT_SHUTDOWN_GRACE),
        fields
            .optional(MAX_MULTIPLEX)
            .map(n -> ConfigValues.count(n, 1, "a multiplex process takes at least 1 request"))
            .orElse(PersistentWorkersConfig.DEFAULT_MAX_MULTIPLEX_REQUESTS),
        fields.optional(TOOLS).map(PersistentWorkersBinder::tools).orElse(Map.of()),
        allowedTools,
        allowedKeys);
  }

  /**
   * Refuses the field that chose namespaces for tool processes alone: tool processes now run in the
   * worker's sandbox, like every other process the worker starts.
   */
  private static void refuseSandbox(Node node) {
    throw Fields.invalid(
        node,
        "tool processes now run in the worker's own sandbox, with every other process it starts;"
            + " remove persistentWorkers.sandbox and set the worker's \"sandbox\" instead"
            + " (\"required\", \"optional\" or \"off\"; see docs/sandbox.md)");
  }

  private static PoolLimits.AtCapacity atCapacity(Node node) {
    return switch (Fields.string(node)) {
      case "wait" -> PoolLimits.AtCapacity.WAIT;
      case "one-shot" -> PoolLimits.AtCapacity.ONE_SHOT;
      default ->
          throw Fields.invalid(
              node,
              "expected \"wait\" (wait for a process of the key) or \"one-shot\" (run the action"
                  + " as an ordinary process), found "
                  + node.describe());
    };
  }

  private static Set<String> names(Node node) {
    ArrayNode array = Fields.array(node, "an array of strings");
    Set<String> names = new LinkedHashSet<>();
    for (Node element : array.elements()) {
      String name = Fields.string(element);
      if (name.isEmpty() || !names.add(name)) {
        throw Fields.invalid(element, "names must be non-empty and listed once");
      }
    }
    return names;
  }

  private static Map<String, PersistentWorkersConfig.Tool> tools(Node node) {
    ObjectNode object =
        Fields.object(
            node,
            "an object mapping tool names to tools, such as {\"javac\": {\"multiplex\": true}}");
    Map<String, PersistentWorkersConfig.Tool> tools = new LinkedHashMap<>();
    for (Map.Entry<String, Node> member : object.members().entrySet()) {
      if (member.getKey().isEmpty()) {
        throw Fields.invalid(member.getValue(), "a tool needs a name");
      }
      tools.put(member.getKey(), tool(member.getKey(), member.getValue()));
    }
    return tools;
  }

  private static PersistentWorkersConfig.Tool tool(String name, Node node) {
    Fields fields =
        Fields.of(
            node,
            "a tool object such as {\"command\": [\"/opt/javac-worker/bin/javac-worker\"]}",
            "command",
            "protocol",
            "multiplex",
            "cancellable",
            MAX_PER_KEY,
            MAX_REQUESTS,
            MEMORY_LIMIT,
            IDLE_TIMEOUT);
    List<String> command = new ArrayList<>();
    Optional<Node> commandNode = fields.optional("command");
    if (commandNode.isPresent()) {
      ArrayNode array =
          Fields.array(commandNode.get(), "an array of strings: the program and its arguments");
      for (Node element : array.elements()) {
        command.add(Fields.string(element));
      }
      if (command.isEmpty() || command.get(0).isEmpty()) {
        throw Fields.invalid(
            commandNode.get(),
            "a command needs at least a program; leave it out to use the action's");
      }
    }
    Optional<ToolProtocol> protocol =
        fields
            .optional("protocol")
            .map(
                n -> {
                  try {
                    return ToolProtocol.fromProperty(Fields.string(n));
                  } catch (HearthException e) {
                    throw Fields.invalid(
                        n, "expected \"proto\" or \"json\", found " + n.describe());
                  }
                });
    return new PersistentWorkersConfig.Tool(
        name,
        command,
        protocol,
        fields.bool("multiplex"),
        fields.bool("cancellable").orElse(false),
        fields
            .optional(MAX_PER_KEY)
            .map(n -> OptionalInt.of(ConfigValues.count(n, 1, "a key needs room for 1 process")))
            .orElse(OptionalInt.empty()),
        fields
            .optional(MAX_REQUESTS)
            .map(n -> OptionalInt.of(ConfigValues.count(n, 0, "must not be negative")))
            .orElse(OptionalInt.empty()),
        fields
            .optional(MEMORY_LIMIT)
            .map(n -> OptionalLong.of(ConfigValues.bytes(n)))
            .orElse(OptionalLong.empty()),
        fields.optional(IDLE_TIMEOUT).map(ConfigValues::duration));
  }
}
