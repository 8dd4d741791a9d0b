package build.hearth.core.config;

import build.hearth.api.ConfigException;
import build.hearth.core.config.Node.ArrayNode;
import build.hearth.core.config.Node.ObjectNode;
import build.hearth.core.config.Node.ValueNode;
import build.hearth.core.execution.ExecutionServices;
import build.hearth.core.scheduler.PropertyType;
import build.hearth.core.scheduler.SharedState;
import build.hearth.spi.storage.StoreSettings;
import build.hearth.spi.transport.ServerLimits;
import build.hearth.spi.transport.TlsSettings.ClientCertificates;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Binds a document tree to {@link HearthConfig}, by hand rather than with data binding, so that
 * every rule can report its own precise message with the path and line of the field at fault.
 *
 * <p>Each section of the file has its own method that declares the section's fields up front (see
 * {@link Fields}); a new top-level section is one more known name in {@link #bind} and one more
 * method here. Sections are bound in the order their references need: stores and schedulers first,
 * then the servers that name them, then the workers that name schedulers and instances ({@link
 * WorkerBinder}). Not thread-safe; one instance binds one document.
 */
final class ConfigBinder {
  private static final String BLOB_STORES = "blobStores";
  private static final String ACTION_CACHE_STORES = "actionCacheStores";
  static final String SCHEDULERS = "schedulers";
  private static final String SERVERS = "servers";
  private static final String WORKERS = "workers";
  private static final String METRICS = "metrics";
  private static final String WEB = "web";

  /** The file's names of the property types. */
  private static final Map<String, PropertyType> PROPERTY_TYPES =
      Map.of(
          "exact", PropertyType.EXACT,
          "minimum", PropertyType.MINIMUM,
          "priority", PropertyType.PRIORITY,
          "ignore", PropertyType.IGNORE);

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
  private final Map<String, SchedulerConfig> schedulers;
  // Which server claimed a name or an address first, to name it when a later one repeats it.
  private final Map<String, String> serverNames = new HashMap<>();
  private final Map<String, String> listenAddresses = new HashMap<>();
  // Instance name -> blob store -> the first instance of that name using it, for the workers.
  private final Map<String, Map<String, String>> instanceStores = new LinkedHashMap<>();
  // What relative file paths (such as the tls block's) are relative to; null: the working
  // directory.
  private final Path baseDirectory;

  private ConfigBinder(
      Map<String, StoreConfig> blobStores,
      Map<String, StoreConfig> actionCacheStores,
      Map<String, SchedulerConfig> schedulers,
      Path baseDirectory) {
    this.blobStores = blobStores;
    this.actionCacheStores = actionCacheStores;
    this.schedulers = schedulers;
    this.baseDirectory = baseDirectory;
  }

  static HearthConfig bind(ObjectNode root) {
    return bind(root, null);
  }

  /**
   * Binds {@code root}; relative paths of the tls block are resolved against {@code baseDirectory}
   * (the configuration file's directory), or left relative to the working directory when null.
   */
  static HearthConfig bind(ObjectNode root, Path baseDirectory) {
    Fields fields =
        Fields.of(
            root,
            "a JSON object",
            BLOB_STORES,
            ACTION_CACHE_STORES,
            SCHEDULERS,
            SERVERS,
            WORKERS,
            METRICS,
            WEB);
    Map<String, StoreConfig> blobStores = stores(fields.optional(BLOB_STORES), "blob store");
    Map<String, StoreConfig> actionCacheStores =
        stores(fields.optional(ACTION_CACHE_STORES), "action-cache store");
    Map<String, SchedulerConfig> schedulers = schedulers(fields.optional(SCHEDULERS));
    Node serversNode =
        fields.required(
            SERVERS,
            "a configuration needs at least one server, such as "
                + "{\"listen\": \"127.0.0.1:50052\", \"instances\": {\"\": {\"cas\": \"cas\"}}}");
    ConfigBinder binder =
        new ConfigBinder(blobStores, actionCacheStores, schedulers, baseDirectory);
    List<ServerConfig> servers = binder.servers(serversNode);
    List<WorkerConfig> workers =
        fields
            .optional(WORKERS)
            .map(node -> new WorkerBinder(schedulers, binder.instanceStores).workers(node))
            .orElse(List.of());
    int maxPersistentWorkerSeries =
        fields
            .optional(METRICS)
            .map(ConfigBinder::maxPersistentWorkerSeries)
            .orElse(HearthConfig.DEFAULT_MAX_PERSISTENT_WORKER_SERIES);
    WebConfig web = fields.optional(WEB).map(WebBinder::web).orElse(WebConfig.DEFAULTS);
    return new HearthConfig(
        blobStores,
        actionCacheStores,
        schedulers,
        servers,
        workers,
        maxPersistentWorkerSeries,
        web);
  }

  /** The top-level {@code metrics} object; it holds one bound for now. */
  private static int maxPersistentWorkerSeries(Node node) {
    Fields fields =
        Fields.of(
            node,
            "a metrics object such as {\"maxPersistentWorkerSeries\": 500}",
            "maxPersistentWorkerSeries");
    return fields
        .optional("maxPersistentWorkerSeries")
        .map(n -> ConfigValues.count(n, 1, "must be at least 1"))
        .orElse(HearthConfig.DEFAULT_MAX_PERSISTENT_WORKER_SERIES);
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
        putLines(member.getKey(), member.getValue(), lines);
      }
    }
    return new StoreConfig(name, type, object.path(), typeNode.line(), values, lines);
  }

  /**
   * Records the line of a store field and, under dotted keys ({@code shared.type}), those of the
   * fields of objects in it, so that errors about a nested store's settings point into the file
   * ({@link StoreSettings#nested}).
   */
  private static void putLines(String key, Node node, Map<String, Integer> lines) {
    lines.put(key, node.line());
    if (node instanceof ObjectNode object) {
      object.members().forEach((field, value) -> putLines(key + "." + field, value, lines));
    }
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

  // ---- schedulers ----

  private static Map<String, SchedulerConfig> schedulers(Optional<Node> section) {
    if (section.isEmpty()) {
      return Map.of();
    }
    ObjectNode object =
        Fields.object(section.get(), "an object mapping scheduler names to scheduler objects");
    Map<String, SchedulerConfig> schedulers = new LinkedHashMap<>();
    for (Map.Entry<String, Node> member : object.members().entrySet()) {
      String name = member.getKey();
      if (name.isEmpty()) {
        throw Fields.invalid(member.getValue(), "scheduler names must not be empty");
      }
      schedulers.put(name, scheduler(name, member.getValue()));
    }
    return schedulers;
  }

  private static SchedulerConfig scheduler(String name, Node node) {
    Fields fields =
        Fields.of(
            node,
            "a scheduler object such as {\"properties\": {\"OSFamily\": \"exact\"}}",
            "properties",
            "unknownProperties",
            "maxQueueTime",
            "maxRetries",
            "assignmentGrace",
            "maxQueuedActions",
            "state",
            "workerLease");

    Map<String, PropertyType> types = new LinkedHashMap<>();
    Optional<Node> propertiesNode = fields.optional("properties");
    if (propertiesNode.isPresent()) {
      ObjectNode properties =
          Fields.object(
              propertiesNode.get(),
              "an object mapping platform property names to their types, such as"
                  + " {\"OSFamily\": \"exact\", \"cpu_count\": \"minimum\"}");
      for (Map.Entry<String, Node> member : properties.members().entrySet()) {
        if (member.getKey().isEmpty()) {
          throw Fields.invalid(member.getValue(), "a platform property needs a name");
        }
        types.put(member.getKey(), propertyType(member.getValue()));
      }
    }

    PropertyType unknown =
        fields.optional("unknownProperties").map(ConfigBinder::unknownPropertyType).orElse(null);
    Duration maxQueueTime =
        fields
            .optional("maxQueueTime")
            .map(ConfigValues::duration)
            .orElse(SchedulerConfig.DEFAULT_MAX_QUEUE_TIME);
    int maxRetries =
        fields
            .optional("maxRetries")
            .map(n -> ConfigValues.count(n, 0, "must not be negative"))
            .orElse(SchedulerConfig.DEFAULT_MAX_RETRIES);
    Duration assignmentGrace =
        fields
            .optional("assignmentGrace")
            .map(ConfigValues::duration)
            .orElse(SchedulerConfig.DEFAULT_ASSIGNMENT_GRACE);
    int maxQueuedActions =
        fields
            .optional("maxQueuedActions")
            .map(n -> ConfigValues.count(n, 1, "must be at least 1"))
            .orElse(SchedulerConfig.DEFAULT_MAX_QUEUED_ACTIONS);
    // The same object as a store's: a provider type and its settings, created by the host.
    StoreConfig state = fields.optional("state").map(n -> store(name, n)).orElse(null);
    Duration workerLease =
        fields
            .optional("workerLease")
            .map(ConfigValues::duration)
            .orElse(SharedState.DEFAULT_LEASE);
    return new SchedulerConfig(
        name,
        types,
        unknown,
        maxQueueTime,
        maxRetries,
        assignmentGrace,
        maxQueuedActions,
        state,
        workerLease);
  }

  private static PropertyType propertyType(Node node) {
    String text = Fields.string(node);
    PropertyType type = PROPERTY_TYPES.get(text);
    if (type == null) {
      throw Fields.invalid(
          node,
          "expected a property type: \"exact\", \"minimum\", \"priority\" or \"ignore\"; found "
              + node.describe());
    }
    return type;
  }

  /** The type of properties a scheduler does not list, or null for "reject". */
  private static PropertyType unknownPropertyType(Node node) {
    String text = Fields.string(node);
    if (text.equals("reject")) {
      return null;
    }
    if (text.equals("minimum")) {
      throw Fields.invalid(
          node,
          "cannot be \"minimum\": it would make every property a number; list each numeric"
              + " property under \"properties\" instead");
    }
    PropertyType type = PROPERTY_TYPES.get(text);
    if (type == null) {
      throw Fields.invalid(
          node,
          "expected \"reject\" (refuse actions that name them), \"exact\", \"priority\" or"
              + " \"ignore\"; found "
              + node.describe());
    }
    return type;
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
        Fields.of(
            node,
            "a server object",
            "name",
            "listen",
            "maxBatchSize",
            "instances",
            "workerApi",
            "transport",
            AccessConfigBinder.AUTHENTICATION,
            AccessConfigBinder.PERMISSIONS,
            AccessConfigBinder.INSECURE,
            "tls",
            "limits");
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
      InstanceConfig instance = instance(member.getKey(), member.getValue());
      instances.put(member.getKey(), instance);
      instanceStores
          .computeIfAbsent(instance.name(), unused -> new LinkedHashMap<>())
          .putIfAbsent(
              instance.casStore(),
              member.getValue().path() + " (line " + member.getValue().line() + ")");
    }

    WorkerApiConfig workerApi = fields.optional("workerApi").map(this::workerApi).orElse(null);
    Optional<Node> transportNode = fields.optional("transport");
    String transport = transportNode.map(Fields::string).orElse(ServerConfig.DEFAULT_TRANSPORT);
    if (transport.isEmpty()) {
      // Which other types exist depends on the class path; the host names them if this is unknown.
      throw Fields.invalid(
          transportNode.orElseThrow(),
          "the transport must not be empty; built-in transports are \"grpc\" (the default) and"
              + " \"inprocess\"");
    }
    TlsConfig tls = fields.optional("tls").map(this::tls).orElse(null);
    ServerLimits limits =
        fields.optional("limits").map(ConfigBinder::limits).orElse(ServerLimits.DEFAULTS);
    return new ServerConfig(
        name,
        listen.host(),
        listen.port(),
        maxBatchSize,
        instances,
        workerApi,
        transport,
        transportNode.map(Node::line).orElse(0),
        access(fields, listenNode, listen, tls),
        tls,
        limits);
  }

  private AccessConfig access(Fields fields, Node listenNode, HostPort listen, TlsConfig tls) {
    AccessConfig access = AccessConfigBinder.bind(fields, this::fileNextToConfig);
    // Client certificates that TLS requires authenticate every caller too.
    boolean certificatesRequired =
        tls != null && tls.clientCertificates() == ClientCertificates.REQUIRED;
    AccessConfigBinder.checkExposure(listenNode, listen.host(), access, certificatesRequired);
    return access;
  }

  private TlsConfig tls(Node node) {
    Fields fields =
        Fields.of(
            node,
            "a tls object such as {\"certificateChain\": \"certs/server.pem\", \"privateKey\":"
                + " \"certs/server.key\"}",
            "certificateChain",
            "privateKey",
            "clientCa",
            "clientCertificates");
    Path chain =
        fileNextToConfig(
            fields.required(
                "certificateChain",
                "it is the PEM file of the server's certificate chain, leaf first"));
    Path key =
        fileNextToConfig(
            fields.required(
                "privateKey",
                "it is the PEM file of the server's private key (PKCS#8, RSA or EC)"));
    Optional<Node> caNode = fields.optional("clientCa");
    Path clientCa = caNode.map(this::fileNextToConfig).orElse(null);
    Optional<Node> modeNode = fields.optional("clientCertificates");
    ClientCertificates mode =
        modeNode
            .map(ConfigBinder::clientCertificates)
            .orElse(clientCa == null ? ClientCertificates.NONE : ClientCertificates.OPTIONAL);
    if (mode != ClientCertificates.NONE && clientCa == null) {
      throw Fields.invalid(
          modeNode.orElseThrow(),
          "\""
              + mode.configName()
              + "\" needs \"clientCa\", the PEM bundle of the certificate authorities that"
              + " client certificates must chain to; add it, or choose \"none\"");
    }
    if (mode == ClientCertificates.NONE && clientCa != null) {
      throw Fields.invalid(
          caNode.orElseThrow(),
          "has no effect with \"clientCertificates\": \"none\"; remove it, or choose"
              + " \"optional\" or \"required\"");
    }
    return new TlsConfig(chain, key, clientCa, mode);
  }

  private static ClientCertificates clientCertificates(Node node) {
    String text = Fields.string(node);
    for (ClientCertificates mode : ClientCertificates.values()) {
      if (mode.configName().equals(text)) {
        return mode;
      }
    }
    throw Fields.invalid(
        node, "expected \"none\", \"optional\" or \"required\"; found " + node.describe());
  }

  /**
   * A credential file of the tls or authentication blocks: relative to the configuration file's
   * directory, so that a configuration and its certificates and tokens can move together.
   */
  private Path fileNextToConfig(Node node) {
    Path path = ConfigValues.path(node);
    return baseDirectory == null || path.isAbsolute()
        ? path
        : baseDirectory.resolve(path).normalize();
  }

  private static ServerLimits limits(Node node) {
    Fields fields =
        Fields.of(
            node,
            "a limits object such as {\"maxUploadSessionsPerClient\": 500}",
            "maxUploadSessions",
            "maxUploadSessionsPerClient",
            "uploadIdleTimeout",
            "uploadStallTimeout",
            "maxConcurrentCallsPerConnection",
            "connectionIdleTimeout",
            "handshakeTimeout",
            "httpIdleTimeout",
            "maxQueuedCalls",
            "writeLookaheadBytes",
            "maxWriteLookaheadBytes",
            "readStallTimeout",
            "maxConnectionAge",
            "maxConnectionAgeGrace");
    ServerLimits.Builder limits = ServerLimits.newBuilder();
    String atLeastOne = "must be at least 1";
    fields
        .optional("maxUploadSessions")
        .ifPresent(n -> limits.maxUploadSessions(ConfigValues.count(n, 1, atLeastOne)));
    fields
        .optional("maxUploadSessionsPerClient")
        .ifPresent(n -> limits.maxUploadSessionsPerClient(ConfigValues.count(n, 1, atLeastOne)));
    fields
        .optional("uploadIdleTimeout")
        .ifPresent(n -> limits.uploadIdleTimeout(ConfigValues.duration(n)));
    fields
        .optional("uploadStallTimeout")
        .ifPresent(n -> limits.uploadStallTimeout(ConfigValues.duration(n)));
    fields
        .optional("maxConcurrentCallsPerConnection")
        .ifPresent(
            n -> limits.maxConcurrentCallsPerConnection(ConfigValues.count(n, 1, atLeastOne)));
    fields
        .optional("connectionIdleTimeout")
        .ifPresent(n -> limits.connectionIdleTimeout(ConfigValues.duration(n)));
    fields
        .optional("handshakeTimeout")
        .ifPresent(n -> limits.handshakeTimeout(ConfigValues.duration(n)));
    fields
        .optional("httpIdleTimeout")
        .ifPresent(n -> limits.httpIdleTimeout(ConfigValues.duration(n)));
    fields
        .optional("maxQueuedCalls")
        .ifPresent(n -> limits.maxQueuedCalls(ConfigValues.count(n, 1, atLeastOne)));
    fields
        .optional("writeLookaheadBytes")
        .ifPresent(n -> limits.writeLookaheadBytes(lookaheadBytes(n)));
    fields
        .optional("maxWriteLookaheadBytes")
        .ifPresent(n -> limits.maxWriteLookaheadBytes(lookaheadBytes(n)));
    fields
        .optional("readStallTimeout")
        .ifPresent(n -> limits.readStallTimeout(ConfigValues.duration(n)));
    fields.optional("maxConnectionAge").ifPresent(n -> limits.maxConnectionAge(durationOrOff(n)));
    fields
        .optional("maxConnectionAgeGrace")
        .ifPresent(n -> limits.maxConnectionAgeGrace(ConfigValues.duration(n)));
    return limits.build();
  }

  /** A lookahead budget: at least one byte, so that a stream can always ask ahead of nothing. */
  private static long lookaheadBytes(Node node) {
    long bytes = ConfigValues.bytes(node);
    if (bytes < 1) {
      throw Fields.invalid(
          node, "must be at least 1 byte, such as \"1MiB\", found " + node.describe());
    }
    return bytes;
  }

  /** A duration, or the string "off" for none. */
  private static Optional<Duration> durationOrOff(Node node) {
    if (node instanceof ValueNode v && v.value() instanceof String text) {
      if (text.trim().equals("off")) {
        return Optional.empty();
      }
      if (text.isBlank() || !Character.isDigit(text.trim().charAt(0))) {
        throw Fields.wrongType(node, ConfigValues.DURATION_EXAMPLES + ", or \"off\" for none");
      }
    }
    return Optional.of(ConfigValues.duration(node));
  }

  private WorkerApiConfig workerApi(Node node) {
    Fields fields =
        Fields.of(
            node,
            "a worker API object such as {\"scheduler\": \"main\"}",
            "scheduler",
            "maxAssignmentSize");
    Node schedulerNode =
        fields.required(
            "scheduler", "it names the schedulers entry that workers connecting here join");
    String scheduler = Fields.string(schedulerNode);
    ConfigValues.checkReference(schedulerNode, scheduler, schedulers, "scheduler", SCHEDULERS);
    long maxAssignment = WorkerApiConfig.DEFAULT_MAX_ASSIGNMENT_BYTES;
    Optional<Node> maxNode = fields.optional("maxAssignmentSize");
    if (maxNode.isPresent()) {
      maxAssignment =
          ConfigValues.sizeBetween(
              maxNode.get(), WorkerApiConfig.MIN_MAX_ASSIGNMENT_BYTES, Integer.MAX_VALUE);
    }
    return new WorkerApiConfig(scheduler, (int) maxAssignment);
  }

  private static long maxBatchSize(Node node) {
    long bytes = ConfigValues.bytes(node);
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

  // ---- instances ----

  private InstanceConfig instance(String name, Node node) {
    checkInstanceName(name, node);
    Fields fields =
        Fields.of(
            node,
            "an instance object such as {\"cas\": \"cas\"}",
            "cas",
            "actionCache",
            "actionCacheUpdates",
            "execution",
            "maxDirectorySize",
            "maxTreeSize");

    Node casNode =
        fields.required(
            "cas", "it names the " + BLOB_STORES + " entry that holds this instance's blobs");
    String cas = Fields.string(casNode);
    ConfigValues.checkReference(casNode, cas, blobStores, "blob store", BLOB_STORES);

    Optional<Node> actionCacheNode = fields.optional("actionCache");
    String actionCache = actionCacheNode.map(Fields::string).orElse(null);
    if (actionCache != null) {
      ConfigValues.checkReference(
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

    ExecutionConfig execution = fields.optional("execution").map(this::execution).orElse(null);
    // A Directory must fit one protobuf parse (2 GiB); a Tree holds its root Directory.
    Optional<Node> directoryNode = fields.optional("maxDirectorySize");
    long maxDirectory =
        directoryNode
            .map(n -> ConfigValues.sizeBetween(n, 1024, Integer.MAX_VALUE))
            .orElse(InstanceConfig.DEFAULT_MAX_DIRECTORY_BYTES);
    Optional<Node> treeNode = fields.optional("maxTreeSize");
    long maxTree =
        treeNode
            .map(n -> ConfigValues.sizeBetween(n, 1024, Long.MAX_VALUE))
            .orElse(Math.max(maxDirectory, InstanceConfig.DEFAULT_MAX_TREE_BYTES));
    if (maxTree < maxDirectory) {
      throw Fields.invalid(
          treeNode.orElseThrow(),
          "must be at least maxDirectorySize ("
              + maxDirectory
              + " bytes): a Tree holds its root Directory");
    }
    return new InstanceConfig(name, cas, actionCache, updates, execution, maxDirectory, maxTree);
  }

  private ExecutionConfig execution(Node node) {
    Fields fields =
        Fields.of(
            node,
            "an execution object such as {\"scheduler\": \"main\"}",
            "scheduler",
            "defaultTimeout",
            "maxTimeout",
            "maxCompletedOperations",
            "maxCompletedOperationBytes",
            "maxOperationsPerExecution",
            "reattachGrace");
    Node schedulerNode =
        fields.required(
            "scheduler", "it names the schedulers entry that runs this instance's actions");
    String scheduler = Fields.string(schedulerNode);
    ConfigValues.checkReference(schedulerNode, scheduler, schedulers, "scheduler", SCHEDULERS);

    Optional<Node> defaultNode = fields.optional("defaultTimeout");
    Optional<Node> maxNode = fields.optional("maxTimeout");
    Duration defaultTimeout =
        defaultNode.map(ConfigValues::duration).orElse(ExecutionConfig.DEFAULT_DEFAULT_TIMEOUT);
    Duration maxTimeout =
        maxNode.map(ConfigValues::duration).orElse(ExecutionConfig.DEFAULT_MAX_TIMEOUT);
    if (defaultTimeout.compareTo(maxTimeout) > 0) {
      // Blame the field the user wrote; when both are written, the default is the odd one out.
      if (defaultNode.isPresent()) {
        throw Fields.invalid(
            defaultNode.get(),
            "must not be longer than maxTimeout ("
                + ConfigValues.format(maxTimeout)
                + (maxNode.isPresent() ? "" : ", its default")
                + "); shorten it or raise maxTimeout");
      }
      throw Fields.invalid(
          maxNode.get(),
          "must not be shorter than defaultTimeout ("
              + ConfigValues.format(defaultTimeout)
              + ", its default); raise it or set a shorter defaultTimeout");
    }
    int maxCompletedOperations =
        fields
            .optional("maxCompletedOperations")
            .map(n -> ConfigValues.count(n, 1, "must be at least 1"))
            .orElse(ExecutionConfig.DEFAULT_MAX_COMPLETED_OPERATIONS);
    long maxCompletedOperationBytes = ExecutionConfig.DEFAULT_MAX_COMPLETED_OPERATION_BYTES;
    Optional<Node> bytesNode = fields.optional("maxCompletedOperationBytes");
    if (bytesNode.isPresent()) {
      maxCompletedOperationBytes = ConfigValues.bytes(bytesNode.get());
      if (maxCompletedOperationBytes < 1) {
        throw Fields.invalid(bytesNode.get(), "must be at least 1 byte, found 0");
      }
    }
    int maxOperationsPerExecution =
        fields
            .optional("maxOperationsPerExecution")
            .map(n -> ConfigValues.count(n, 1, "must be at least 1"))
            .orElse(ExecutionConfig.DEFAULT_MAX_OPERATIONS_PER_EXECUTION);
    Duration reattachGrace = ExecutionConfig.DEFAULT_REATTACH_GRACE;
    Optional<Node> graceNode = fields.optional("reattachGrace");
    if (graceNode.isPresent()) {
      reattachGrace = ConfigValues.duration(graceNode.get());
      if (reattachGrace.compareTo(ExecutionServices.MAX_REATTACH_GRACE) > 0) {
        throw Fields.invalid(
            graceNode.get(),
            "must be at most "
                + ConfigValues.format(ExecutionServices.MAX_REATTACH_GRACE)
                + ", so that an abandoned action does not run on; found "
                + ConfigValues.format(reattachGrace));
      }
    }
    return new ExecutionConfig(
        scheduler,
        defaultTimeout,
        maxTimeout,
        maxCompletedOperations,
        maxCompletedOperationBytes,
        maxOperationsPerExecution,
        reattachGrace);
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
