package build.hearth.core.config;

import build.hearth.api.ConfigException;
import build.hearth.core.config.Node.ArrayNode;
import build.hearth.core.config.Node.ObjectNode;
import build.hearth.core.config.Node.ValueNode;
import build.hearth.core.scheduler.PropertyType;
import build.hearth.core.scheduler.SandboxPlatformProperties;
import java.math.BigDecimal;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Binds worker objects: the entries of a configuration's {@code workers} list, which are checked
 * against the schedulers, the instances and each other, and the single object of a standalone
 * worker's file, which stands alone. Not thread-safe; one instance binds one document's workers.
 */
final class WorkerBinder {
  /** What an empty standalone worker file is told it should hold. */
  static final String EMPTY_HINT =
      "a worker's configuration is a JSON object such as {\"slots\": 8}, and {} takes every"
          + " default";

  private static final String NAME = "name";
  private static final String TLS = "tls";
  private static final String TOKEN_FILE = "tokenFile";
  private static final String MAX_MESSAGE_SIZE = "maxMessageSize";
  private static final String MAX_DIRECTORY_SIZE = "maxDirectorySize";
  private static final String SCHEDULER = "scheduler";
  private static final String INSTANCE = "instance";
  private static final String SLOTS = "slots";
  private static final String PROPERTIES = "properties";
  private static final String WORK_DIRECTORY = "workDirectory";
  private static final String CACHE = "cache";
  private static final String PERSISTENT_WORKERS = "persistentWorkers";
  private static final String SANDBOX = "sandbox";

  private static final String WORK_ROOT = "~/.cache/hearth/work/";
  private static final String CACHE_ROOT = "~/.cache/hearth/worker-cache/";

  // A name is part of the default directories, so it must be one safe path segment.
  private static final Pattern NAME_CHARACTERS = Pattern.compile("[A-Za-z0-9._-]+");

  private final Map<String, SchedulerConfig> schedulers;
  // Instance name -> blob store -> where an instance of that name uses it.
  private final Map<String, Map<String, String>> instanceStores;
  // Which worker claimed a name first, and every directory claimed so far, to name them in errors.
  private final Map<String, String> workerNames = new HashMap<>();
  private final List<Claim> claims = new ArrayList<>();

  /** A directory a worker uses, and the field that set it, for messages. */
  private record Claim(Path path, Path absolute, String shown) {}

  private record Directories(Path work, Path cache) {}

  WorkerBinder(
      Map<String, SchedulerConfig> schedulers, Map<String, Map<String, String>> instanceStores) {
    this.schedulers = schedulers;
    this.instanceStores = instanceStores;
  }

  List<WorkerConfig> workers(Node node) {
    ArrayNode array = Fields.array(node, "an array of worker objects");
    List<WorkerConfig> workers = new ArrayList<>();
    for (Node element : array.elements()) {
      workers.add(worker(element));
    }
    return workers;
  }

  private WorkerConfig worker(Node node) {
    Fields fields =
        Fields.of(
            node,
            "a worker object such as {\"name\": \"local\", \"scheduler\": \"main\"}",
            NAME,
            SCHEDULER,
            INSTANCE,
            SLOTS,
            PROPERTIES,
            WORK_DIRECTORY,
            CACHE,
            PERSISTENT_WORKERS,
            SANDBOX,
            MAX_DIRECTORY_SIZE);
    String where = fields.path() + " (line " + fields.line() + ")";

    Node nameNode =
        fields.required(
            NAME, "it names the worker in logs and in its default directories, such as \"local\"");
    String name = Fields.string(nameNode);
    checkName(nameNode, name);
    String sameName = workerNames.putIfAbsent(name, where);
    if (sameName != null) {
      throw Fields.invalid(
          nameNode,
          "the worker name "
              + ConfigPaths.display(name)
              + " is already used by "
              + sameName
              + "; names must be unique");
    }

    Node schedulerNode =
        fields.required(SCHEDULER, "it names the schedulers entry whose actions this worker runs");
    String schedulerName = Fields.string(schedulerNode);
    ConfigValues.checkReference(
        schedulerNode, schedulerName, schedulers, "scheduler", ConfigBinder.SCHEDULERS);

    Optional<Node> instanceNode = fields.optional(INSTANCE);
    String instance = instanceNode.map(Fields::string).orElse("");
    checkInstance(fields, instanceNode, instance);

    int slots = slots(fields);
    Map<String, List<String>> properties =
        properties(fields.optional(PROPERTIES), schedulers.get(schedulerName), schedulerName);

    Optional<Fields> cache = cache(fields);
    Directories directories = directories(fields, cache, name);
    return new WorkerConfig(
        name,
        schedulerName,
        instance,
        slots,
        properties,
        directories.work(),
        directories.cache(),
        cacheMaxSize(cache),
        PersistentWorkersBinder.bind(fields.optional(PERSISTENT_WORKERS), slots),
        ClientCredentialsConfig.NONE,
        SandboxBinder.bind(fields.optional(SANDBOX)),
        (int) WorkerConfig.DEFAULT_MAX_MESSAGE_BYTES,
        maxDirectoryBytes(fields));
  }

  /**
   * Binds a standalone worker's file. Without a name, the worker is called after the host and the
   * process, so that two runs never collide at the scheduler; its default directories are named
   * after the host alone, so that the cache outlives the process.
   */
  static WorkerConfig standalone(
      ObjectNode root, Supplier<String> hostName, java.nio.file.Path baseDirectory) {
    Node scheduler = root.members().get(SCHEDULER);
    if (scheduler != null) {
      throw Fields.invalid(
          scheduler,
          "a standalone worker takes its scheduler from the command line"
              + " (--scheduler-endpoint http://HOST:50052); remove this field");
    }
    Node instance = root.members().get(INSTANCE);
    if (instance != null) {
      throw Fields.invalid(
          instance,
          "a standalone worker serves the instance each assigned action names; remove this"
              + " field");
    }
    Fields fields =
        Fields.of(
            root,
            "a worker object",
            NAME,
            SLOTS,
            PROPERTIES,
            WORK_DIRECTORY,
            CACHE,
            PERSISTENT_WORKERS,
            SANDBOX,
            TLS,
            TOKEN_FILE,
            MAX_MESSAGE_SIZE,
            MAX_DIRECTORY_SIZE);

    Optional<Node> nameNode = fields.optional(NAME);
    String name;
    String directoryName;
    if (nameNode.isPresent()) {
      name = Fields.string(nameNode.get());
      checkName(nameNode.get(), name);
      directoryName = name;
    } else {
      directoryName = safeHostName(hostName.get());
      name = directoryName + "-" + ProcessHandle.current().pid();
    }

    int slots = slots(fields);
    Map<String, List<String>> properties = properties(fields.optional(PROPERTIES), null, null);

    Optional<Fields> cache = cache(fields);
    Directories directories =
        new WorkerBinder(Map.of(), Map.of()).directories(fields, cache, directoryName);
    return new WorkerConfig(
        name,
        null,
        null,
        slots,
        properties,
        directories.work(),
        directories.cache(),
        cacheMaxSize(cache),
        PersistentWorkersBinder.bind(fields.optional(PERSISTENT_WORKERS), slots),
        credentials(fields, baseDirectory),
        SandboxBinder.bind(fields.optional(SANDBOX)),
        (int)
            (long)
                fields
                    .optional(MAX_MESSAGE_SIZE)
                    .map(
                        n ->
                            ConfigValues.sizeBetween(
                                n, WorkerConfig.MIN_MAX_MESSAGE_BYTES, Integer.MAX_VALUE))
                    .orElse(WorkerConfig.DEFAULT_MAX_MESSAGE_BYTES),
        maxDirectoryBytes(fields));
  }

  /** A worker's {@code maxDirectorySize}: one Directory blob must fit one protobuf parse. */
  private static long maxDirectoryBytes(Fields fields) {
    return fields
        .optional(MAX_DIRECTORY_SIZE)
        .map(n -> ConfigValues.sizeBetween(n, 1024, Integer.MAX_VALUE))
        .orElse(InstanceConfig.DEFAULT_MAX_DIRECTORY_BYTES);
  }

  /**
   * A standalone worker's {@code tls} block and {@code tokenFile}; relative paths are relative to
   * the worker file's directory, as in a server's {@code tls} block.
   */
  private static ClientCredentialsConfig credentials(
      Fields fields, java.nio.file.Path baseDirectory) {
    java.nio.file.Path caBundle = null;
    java.nio.file.Path certificate = null;
    java.nio.file.Path key = null;
    Optional<Node> tlsNode = fields.optional(TLS);
    if (tlsNode.isPresent()) {
      Fields tls =
          Fields.of(
              tlsNode.get(),
              "a tls object such as {\"caBundle\": \"certs/ca.pem\"}",
              "caBundle",
              "clientCertificate",
              "clientKey");
      caBundle = tls.optional("caBundle").map(n -> relative(n, baseDirectory)).orElse(null);
      Optional<Node> certificateNode = tls.optional("clientCertificate");
      Optional<Node> keyNode = tls.optional("clientKey");
      if (certificateNode.isPresent() != keyNode.isPresent()) {
        Node given = certificateNode.orElseGet(keyNode::orElseThrow);
        throw Fields.invalid(
            given,
            "a client certificate needs its key and a key its certificate; add \""
                + (certificateNode.isPresent() ? "clientKey" : "clientCertificate")
                + "\"");
      }
      certificate = certificateNode.map(n -> relative(n, baseDirectory)).orElse(null);
      key = keyNode.map(n -> relative(n, baseDirectory)).orElse(null);
    }
    java.nio.file.Path tokenFile =
        fields.optional(TOKEN_FILE).map(n -> relative(n, baseDirectory)).orElse(null);
    return new ClientCredentialsConfig(caBundle, certificate, key, tokenFile);
  }

  private static java.nio.file.Path relative(Node node, java.nio.file.Path baseDirectory) {
    java.nio.file.Path path = ConfigValues.path(node);
    return baseDirectory == null || path.isAbsolute()
        ? path
        : baseDirectory.resolve(path).normalize();
  }

  /** The host name as the system reports it, or a stand-in when it cannot. */
  static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (UnknownHostException e) {
      // The host has a name that does not resolve; the shell's environment usually knows it.
      String env = System.getenv("HOSTNAME");
      return env != null && !env.isBlank() ? env : "worker";
    }
  }

  private static String safeHostName(String host) {
    String safe = host.replaceAll("[^A-Za-z0-9._-]", "-").replaceAll("^\\.+", "");
    return safe.isEmpty() ? "worker" : safe;
  }

  private static void checkName(Node node, String name) {
    if (name.isEmpty()) {
      throw Fields.invalid(node, "a worker name must not be empty");
    }
    if (!NAME_CHARACTERS.matcher(name).matches() || name.equals(".") || name.equals("..")) {
      throw Fields.invalid(
          node,
          "a worker name may contain only letters, digits, '.', '_' and '-', since it names the"
              + " worker's default directories; found "
              + node.describe());
    }
  }

  private void checkInstance(Fields fields, Optional<Node> node, String instance) {
    Map<String, String> stores = instanceStores.get(instance);
    if (stores == null) {
      String defined = ConfigValues.segments(instanceStores.keySet());
      if (node.isPresent()) {
        throw Fields.invalid(
            node.get(),
            "no server has an instance named "
                + ConfigPaths.display(instance)
                + "; instances: "
                + defined);
      }
      throw new ConfigException(
          ConfigPaths.member(fields.path(), INSTANCE),
          fields.line(),
          "no server has the default instance \"\", which a worker uses when \"instance\" is left"
              + " out; name one of the instances: "
              + defined);
    }
    if (stores.size() > 1) {
      List<String> uses = new ArrayList<>();
      stores.forEach((store, where) -> uses.add(where + " uses " + ConfigPaths.display(store)));
      String problem =
          "instances named "
              + ConfigPaths.display(instance)
              + " keep their blobs in different stores ("
              + String.join(", ", uses)
              + "), so it is unclear which CAS the worker should read inputs from; give the"
              + " instances different names";
      throw node.map(n -> Fields.invalid(n, problem))
          .orElseGet(
              () ->
                  new ConfigException(
                      ConfigPaths.member(fields.path(), INSTANCE), fields.line(), problem));
    }
  }

  private static int slots(Fields fields) {
    return fields
        .optional(SLOTS)
        .map(node -> ConfigValues.count(node, 1, "a worker needs at least 1 slot"))
        .orElse(Runtime.getRuntime().availableProcessors());
  }

  /**
   * The worker's properties, each a string or an array of strings. When the scheduler is known,
   * each property must be one that actions can name, and the values of a minimum must be numbers.
   */
  private static Map<String, List<String>> properties(
      Optional<Node> section, SchedulerConfig scheduler, String schedulerName) {
    if (section.isEmpty()) {
      return Map.of();
    }
    ObjectNode object =
        Fields.object(
            section.get(),
            "an object mapping platform property names to values, such as"
                + " {\"OSFamily\": [\"Linux\"]}");
    Map<String, List<String>> properties = new LinkedHashMap<>();
    for (Map.Entry<String, Node> member : object.members().entrySet()) {
      String key = member.getKey();
      Node node = member.getValue();
      if (key.isEmpty()) {
        throw Fields.invalid(node, "a platform property needs a name");
      }
      if (key.equals(SandboxPlatformProperties.NETWORK)) {
        throw Fields.invalid(
            node,
            "the worker offers \"network\" itself, from what its sandbox does: \"off\" when it"
                + " can cut actions off the network, \"on\" when its sandbox is off or lets"
                + " actions have the network (the worker's \"sandbox\": {\"allowNetwork\":"
                + " true}); remove this property");
      }
      PropertyType type = scheduler == null ? null : typeOf(node, key, scheduler, schedulerName);
      List<String> values = new ArrayList<>();
      for (Node valueNode : valueNodes(node)) {
        String value = Fields.string(valueNode);
        if (values.contains(value)) {
          throw Fields.invalid(
              valueNode, "the value " + ConfigPaths.quote(value) + " is listed twice");
        }
        if (type == PropertyType.MINIMUM) {
          checkNumber(valueNode, value, key, schedulerName);
        }
        values.add(value);
      }
      properties.put(key, values);
    }
    return properties;
  }

  private static List<Node> valueNodes(Node node) {
    String expected = "a string or an array of strings (numbers in quotes, as in \"8\")";
    if (node instanceof ValueNode v && v.value() instanceof String) {
      return List.of(node);
    }
    if (!(node instanceof ArrayNode array)) {
      throw Fields.wrongType(node, expected);
    }
    if (array.elements().isEmpty()) {
      throw Fields.invalid(
          node, "an empty array offers no value; give at least one, or leave the property out");
    }
    for (Node element : array.elements()) {
      if (!(element instanceof ValueNode v && v.value() instanceof String)) {
        throw Fields.wrongType(element, "a string (numbers in quotes, as in \"8\")");
      }
    }
    return array.elements();
  }

  /**
   * The scheduler's type for the worker property {@code key}. A property that the scheduler refuses
   * in actions could never be asked for, so offering it is a mistake, most often a typo.
   */
  private static PropertyType typeOf(
      Node node, String key, SchedulerConfig scheduler, String schedulerName) {
    PropertyType type = scheduler.propertyTypes().get(key);
    if (type != null || scheduler.unknownPropertyType().isPresent()) {
      return type;
    }
    StringBuilder problem =
        new StringBuilder("scheduler ")
            .append(ConfigPaths.display(schedulerName))
            .append(" has no property ")
            .append(ConfigPaths.display(key))
            .append(", so no action can ask for it; ");
    String suggestion = Fields.closest(key, scheduler.propertyTypes().keySet());
    if (suggestion != null) {
      problem.append("did you mean ").append(ConfigPaths.display(suggestion)).append("? Its");
    } else {
      problem.append("its");
    }
    problem
        .append(" properties: ")
        .append(
            scheduler.propertyTypes().isEmpty()
                ? "none"
                : String.join(", ", scheduler.propertyTypes().keySet()))
        .append(" (add it under ")
        .append(
            ConfigPaths.member(
                ConfigPaths.member(ConfigBinder.SCHEDULERS, schedulerName), PROPERTIES))
        .append(", or set that scheduler's \"unknownProperties\")");
    throw Fields.invalid(node, problem.toString());
  }

  private static void checkNumber(Node node, String value, String key, String schedulerName) {
    try {
      new BigDecimal(value);
    } catch (NumberFormatException e) {
      throw Fields.invalid(
          node,
          "scheduler "
              + ConfigPaths.display(schedulerName)
              + " compares "
              + ConfigPaths.display(key)
              + " as a minimum, so its values must be numbers; found "
              + node.describe());
    }
  }

  private static Optional<Fields> cache(Fields worker) {
    return worker
        .optional(CACHE)
        .map(
            node ->
                Fields.of(
                    node,
                    "a cache object such as {\"path\": \"~/.cache/hearth/worker-cache/local\","
                        + " \"maxSize\": \"10GiB\"}",
                    "path",
                    "maxSize"));
  }

  /**
   * The work directory and cache path, from the fields or the defaults named after {@code
   * directoryName}, each claimed in turn.
   */
  private Directories directories(Fields worker, Optional<Fields> cache, String directoryName) {
    Optional<Node> workNode = worker.optional(WORK_DIRECTORY);
    Path work =
        workNode.map(ConfigValues::path).orElse(ConfigValues.expand(WORK_ROOT + directoryName));
    claim(work, workNode, worker.path(), worker.line(), WORK_DIRECTORY);

    Optional<Node> cachePathNode = cache.flatMap(c -> c.optional("path"));
    Path cachePath =
        cachePathNode
            .map(ConfigValues::path)
            .orElse(ConfigValues.expand(CACHE_ROOT + directoryName));
    claim(
        cachePath,
        cachePathNode,
        ConfigPaths.member(worker.path(), CACHE),
        cache.map(Fields::line).orElse(worker.line()),
        "path");
    return new Directories(work, cachePath);
  }

  private static long cacheMaxSize(Optional<Fields> cache) {
    Optional<Node> node = cache.flatMap(c -> c.optional("maxSize"));
    if (node.isEmpty()) {
      return WorkerConfig.DEFAULT_CACHE_MAX_SIZE_BYTES;
    }
    long bytes = ConfigValues.bytes(node.get());
    if (bytes < WorkerConfig.MIN_CACHE_MAX_SIZE_BYTES) {
      throw Fields.invalid(
          node.get(),
          "must be at least 1MiB (1048576 bytes), found "
              + node.get().describe()
              + " ("
              + bytes
              + " bytes)");
    }
    return bytes;
  }

  /**
   * Records a directory of a worker, refusing one that is, contains or lies inside a directory
   * claimed before: two workers in one directory would delete each other's exec roots, and two
   * caches in one directory would evict each other's blobs behind their backs.
   *
   * @param node the field that set the directory, or empty when it is the default
   * @param parentPath the path of the object the field belongs in
   * @param parentLine that object's line, for a default
   */
  private void claim(
      Path path, Optional<Node> node, String parentPath, int parentLine, String field) {
    String fieldPath = ConfigPaths.member(parentPath, field);
    int line = node.map(Node::line).orElse(parentLine);
    String shown =
        node.isPresent() ? fieldPath + " (line " + line + ")" : "the default " + fieldPath;
    Path absolute = path.toAbsolutePath().normalize();
    for (Claim earlier : claims) {
      String relation;
      if (absolute.equals(earlier.absolute())) {
        relation = " is also ";
      } else if (absolute.startsWith(earlier.absolute())) {
        relation = " is inside " + earlier.path() + ", ";
      } else if (earlier.absolute().startsWith(absolute)) {
        relation = " contains " + earlier.path() + ", ";
      } else {
        continue;
      }
      throw new ConfigException(
          fieldPath,
          line,
          (node.isPresent() ? "" : "the default ")
              + path
              + relation
              + earlier.shown()
              + "; every workDirectory and cache path needs a directory of its own");
    }
    claims.add(new Claim(path, absolute, shown));
  }
}
