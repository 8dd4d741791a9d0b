package build.hearth.core.config;

import build.hearth.api.ConfigException;
import build.hearth.core.config.Node.ArrayNode;
import build.hearth.core.config.Node.ObjectNode;
import build.hearth.core.config.Node.ValueNode;
import build.hearth.spi.storage.StoreSettings;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeSet;

/**
 * Binds a document tree to {@link HearthConfig}, by hand rather than with data binding, so that
 * every rule can report its own precise message with the path and line of the field at fault.
 *
 * <p>Each section of the file has its own method that declares the section's fields up front (see
 * {@link Fields}); a new top-level section, such as the scheduler's or the workers', is one more
 * known name in {@link #bind} and one more method here. Not thread-safe; one instance binds one
 * document.
 */
final class ConfigBinder {
  private static final String BLOB_STORES = "blobStores";
  private static final String ACTION_CACHE_STORES = "actionCacheStores";
  private static final String SERVERS = "servers";

  /**
   * Segments that REAPI resource names use as keywords ({@code {instance}/blobs/...}, {@code
   * {instance}/uploads/...}); an instance name containing one could not be told apart from them.
   */
  private static final Set<String> RESERVED_SEGMENTS =
      Collections.unmodifiableSet(
          new TreeSet<>(
              List.of(
                  "blobs",
                  "uploads",
                  "actions",
                  "actionResults",
                  "operations",
                  "capabilities",
                  "compressed-blobs")));

  private final Map<String, StoreConfig> blobStores;
  private final Map<String, StoreConfig> actionCacheStores;
  // Which server claimed a name or an address first, to name it when a later one repeats it.
  private final Map<String, String> serverNames = new HashMap<>();
  private final Map<String, String> listenAddresses = new HashMap<>();

  private ConfigBinder(
      Map<String, StoreConfig> blobStores, Map<String, StoreConfig> actionCacheStores) {
    this.blobStores = blobStores;
    this.actionCacheStores = actionCacheStores;
  }

  static HearthConfig bind(ObjectNode root) {
    Fields fields = Fields.of(root, "a JSON object", BLOB_STORES, ACTION_CACHE_STORES, SERVERS);
    Map<String, StoreConfig> blobStores = stores(fields.optional(BLOB_STORES), "blob store");
    Map<String, StoreConfig> actionCacheStores =
        stores(fields.optional(ACTION_CACHE_STORES), "action-cache store");
    Node serversNode =
        fields.required(
            SERVERS,
            "a configuration needs at least one server, such as "
                + "{\"listen\": \"127.0.0.1:50052\", \"instances\": {\"\": {\"cas\": \"cas\"}}}");
    List<ServerConfig> servers =
        new ConfigBinder(blobStores, actionCacheStores).servers(serversNode);
    return new HearthConfig(blobStores, actionCacheStores, servers);
  }

  // ---- stores ----

  private static Map<String, StoreConfig> stores(Optional<Node> section, String what) {
    if (section.isEmpty()) {
      return Map.of();
    }
    ObjectNode object =
        Fields.object(section.get(), "an object mapping " + what + " names to their settings");
    Map<String, StoreConfig> stores = new LinkedHashMap<>();
    for (Map.Entry<String, Node> member : object.members().entrySet()) {
      String name = member.getKey();
      if (name.isEmpty()) {
        throw Fields.invalid(member.getValue(), "store names must not be empty");
      }
      stores.put(name, store(name, member.getValue()));
    }
    return stores;
  }

  private static StoreConfig store(String name, Node node) {
    ObjectNode object = Fields.object(node, "a store object such as {\"type\": \"memory\"}");
    Node typeNode = object.members().get("type");
    if (typeNode == null) {
      throw new ConfigException(
          ConfigPaths.member(object.path(), "type"),
          object.line(),
          "missing required field 'type'; it names the store's provider, "
              + "such as \"filesystem\" or \"memory\"");
    }
    String type = Fields.string(typeNode);
    if (type.isEmpty()) {
      throw Fields.invalid(
          typeNode, "the type must not be empty; built-in types are \"filesystem\" and \"memory\"");
    }
    Map<String, Object> values = new LinkedHashMap<>();
    Map<String, Integer> lines = new HashMap<>();
    for (Map.Entry<String, Node> member : object.members().entrySet()) {
      if (member.getValue() != typeNode) {
        values.put(member.getKey(), plain(member.getValue()));
        lines.put(member.getKey(), member.getValue().line());
      }
    }
    return new StoreConfig(name, type, object.path(), typeNode.line(), values, lines);
  }

  /** The node as the plain Java value that {@link StoreSettings} holds. */
  private static Object plain(Node node) {
    if (node instanceof ObjectNode object) {
      Map<String, Object> map = new LinkedHashMap<>();
      object.members().forEach((key, value) -> map.put(key, plain(value)));
      return Collections.unmodifiableMap(map);
    }
    if (node instanceof ArrayNode array) {
      List<Object> list = new ArrayList<>();
      array.elements().forEach(element -> list.add(plain(element)));
      return List.copyOf(list);
    }
    Object value = ((ValueNode) node).value();
    if (value == null) {
      throw Fields.invalid(node, "null is not allowed; leave the field out to use its default");
    }
    return value;
  }

  // ---- servers ----

  private List<ServerConfig> servers(Node node) {
    ArrayNode array = Fields.array(node, "an array of server objects");
    if (array.elements().isEmpty()) {
      throw Fields.invalid(
          array, "at least one server is required; an empty list would serve nothing");
    }
    List<ServerConfig> servers = new ArrayList<>();
    for (int i = 0; i < array.elements().size(); i++) {
      servers.add(server(array.elements().get(i), i));
    }
    return servers;
  }

  private ServerConfig server(Node node, int index) {
    Fields fields =
        Fields.of(node, "a server object", "name", "listen", "maxBatchSize", "instances");
    String where = fields.path() + " (line " + fields.line() + ")";

    Optional<Node> nameNode = fields.optional("name");
    String name = nameNode.map(Fields::string).orElse("server-" + index);
    Node nameAt = nameNode.orElse(node);
    if (name.isEmpty()) {
      throw Fields.invalid(
          nameAt, "a server name must not be empty; leave it out to use \"server-" + index + "\"");
    }
    String sameName = serverNames.putIfAbsent(name, where);
    if (sameName != null) {
      throw Fields.invalid(
          nameAt,
          "the server name '"
              + name
              + "' is already used by "
              + sameName
              + "; names must be unique");
    }

    Node listenNode =
        fields.required(
            "listen",
            "it is the address to listen on, such as \"127.0.0.1:50052\" "
                + "(or \"0.0.0.0:50052\" for every interface)");
    HostPort listen = HostPort.parse(listenNode, Fields.string(listenNode));
    if (listen.port() != 0) {
      String key = listen.host().toLowerCase(Locale.ROOT) + " port " + listen.port();
      String sameAddress = listenAddresses.putIfAbsent(key, where);
      if (sameAddress != null) {
        throw Fields.invalid(
            listenNode,
            sameAddress
                + " already listens on "
                + Fields.string(listenNode)
                + "; give each server its own port, or port 0 for any free one");
      }
    }

    long maxBatchSize =
        fields
            .optional("maxBatchSize")
            .map(ConfigBinder::maxBatchSize)
            .orElse(ServerConfig.DEFAULT_MAX_BATCH_SIZE_BYTES);

    Node instancesNode =
        fields.required(
            "instances",
            "it maps REAPI instance names to what they serve; \"\" is the default instance, "
                + "as in {\"\": {\"cas\": \"cas\"}}");
    ObjectNode instancesObject =
        Fields.object(instancesNode, "an object mapping instance names to instance objects");
    if (instancesObject.members().isEmpty()) {
      throw Fields.invalid(
          instancesObject,
          "a server needs at least one instance; \"\" is the default instance, "
              + "as in {\"\": {\"cas\": \"cas\"}}");
    }
    Map<String, InstanceConfig> instances = new LinkedHashMap<>();
    for (Map.Entry<String, Node> member : instancesObject.members().entrySet()) {
      instances.put(member.getKey(), instance(member.getKey(), member.getValue()));
    }
    return new ServerConfig(name, listen.host(), listen.port(), maxBatchSize, instances);
  }

  private static long maxBatchSize(Node node) {
    long bytes = bytes(node);
    if (bytes < ServerConfig.MIN_MAX_BATCH_SIZE_BYTES) {
      throw Fields.invalid(
          node,
          "must be at least 64KiB (65536 bytes), found "
              + node.describe()
              + " ("
              + bytes
              + " bytes)");
    }
    if (bytes > ServerConfig.MAX_MAX_BATCH_SIZE_BYTES) {
      throw Fields.invalid(
          node,
          "must be at most 64MiB (67108864 bytes), found "
              + node.describe()
              + " ("
              + bytes
              + " bytes); larger blobs go through ByteStream anyway");
    }
    return bytes;
  }

  /** A size written as a number of bytes or as a string with a unit, such as "4MiB". */
  private static long bytes(Node node) {
    if (node instanceof ValueNode v) {
      if (v.value() instanceof Long n && n >= 0) {
        return n;
      }
      if (v.value() instanceof String s) {
        OptionalLong parsed = StoreSettings.parseBytes(s);
        if (parsed.isPresent()) {
          return parsed.getAsLong();
        }
      }
    }
    throw Fields.wrongType(node, "a size in bytes such as 4194304 or \"4MiB\"");
  }

  // ---- instances ----

  private InstanceConfig instance(String name, Node node) {
    checkInstanceName(name, node);
    Fields fields =
        Fields.of(
            node,
            "an instance object such as {\"cas\": \"cas\"}",
            "cas",
            "actionCache",
            "actionCacheUpdates");

    Node casNode =
        fields.required(
            "cas", "it names the " + BLOB_STORES + " entry that holds this instance's blobs");
    String cas = Fields.string(casNode);
    checkReference(casNode, cas, blobStores, "blob store", BLOB_STORES);

    Optional<Node> actionCacheNode = fields.optional("actionCache");
    String actionCache = actionCacheNode.map(Fields::string).orElse(null);
    if (actionCache != null) {
      checkReference(
          actionCacheNode.get(),
          actionCache,
          actionCacheStores,
          "action-cache store",
          ACTION_CACHE_STORES);
    }

    Optional<Node> updatesNode = fields.optional("actionCacheUpdates");
    boolean updates = updatesNode.map(Fields::bool).orElse(true);
    if (updatesNode.isPresent() && actionCache == null) {
      throw Fields.invalid(
          updatesNode.get(),
          "has no effect without \"actionCache\"; name an action-cache store or remove this field");
    }
    return new InstanceConfig(name, cas, actionCache, updates);
  }

  private static void checkReference(
      Node node, String name, Map<String, StoreConfig> stores, String what, String section) {
    if (stores.containsKey(name)) {
      return;
    }
    String problem = "no " + what + " named " + ConfigPaths.display(name);
    if (stores.isEmpty()) {
      problem += "; none are defined (add one under \"" + section + "\")";
    } else {
      List<String> defined = new ArrayList<>();
      stores.keySet().forEach(key -> defined.add(ConfigPaths.segment(key)));
      problem += "; defined: " + String.join(", ", defined);
    }
    throw Fields.invalid(node, problem);
  }

  /**
   * Checks the rules that make an instance name addressable in REAPI resource names, where the
   * instance is the prefix before a keyword segment such as {@code blobs}.
   */
  private static void checkInstanceName(String name, Node node) {
    if (name.isEmpty()) {
      return;
    }
    if (name.startsWith("/") || name.endsWith("/")) {
      throw Fields.invalid(node, "an instance name must not start or end with '/'");
    }
    for (String segment : name.split("/", -1)) {
      if (segment.isEmpty()) {
        throw Fields.invalid(node, "an instance name must not contain an empty segment ('//')");
      }
      if (segment.equals(".") || segment.equals("..")) {
        throw Fields.invalid(node, "an instance name must not contain a '.' or '..' segment");
      }
      if (RESERVED_SEGMENTS.contains(segment)) {
        throw Fields.invalid(
            node,
            "an instance name must not contain the segment '"
                + segment
                + "', which REAPI resource names use as a keyword; reserved: "
                + String.join(", ", RESERVED_SEGMENTS));
      }
    }
  }
}
