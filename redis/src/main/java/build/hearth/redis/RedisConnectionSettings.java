package build.hearth.redis;

import build.hearth.api.ConfigException;
import build.hearth.spi.storage.StoreSettings;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Where a Redis deployment is and how to log in to it: the connection half of every Redis-backed
 * piece of Hearth (the {@code redis} stores today, the scheduler state next), read from one JSON
 * object so that each piece can point at its own deployment.
 *
 * <p>Exactly one topology: {@code uri} (one Redis, {@code redis://host:port[/db]} or {@code
 * rediss://} for TLS), {@code sentinel} ({@code {"masterName": ..., "nodes": [uri, ...]}}) or
 * {@code cluster} ({@code {"nodes": [uri, ...]}}, seed nodes of a Redis Cluster). Credentials:
 * {@code user} (an ACL user; {@code default} if absent) and {@code passwordFile}, a file holding
 * the password; a password written into a URI is refused, so that it never sits in a configuration
 * file. {@code caFile}: the PEM certificates that a {@code rediss://} server's certificate must
 * chain to (the JDK's trust store if absent). {@code connectTimeout} and {@code commandTimeout}:
 * durations such as {@code "500ms"} or {@code "5s"} (default 5 s each).
 *
 * <pre>{@code
 * "blobStores": { "cas": { "type": "redis", "uri": "rediss://redis.internal:6380",
 *                          "user": "hearth", "passwordFile": "/etc/hearth/redis-password",
 *                          "caFile": "/etc/hearth/redis-ca.pem" } }
 * }</pre>
 *
 * <p>Immutable and thread-safe. Every bad value is a {@link ConfigException} naming the field.
 */
public final class RedisConnectionSettings {
  static final String URI_FIELD = "uri";
  static final String SENTINEL = "sentinel";
  static final String CLUSTER = "cluster";
  static final String USER = "user";
  static final String PASSWORD_FILE = "passwordFile";
  static final String CA_FILE = "caFile";
  static final String CONNECT_TIMEOUT = "connectTimeout";
  static final String COMMAND_TIMEOUT = "commandTimeout";

  private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);
  private static final Pattern DURATION = Pattern.compile("(\\d+)\\s*(ms|s|m|h|d)");

  /** The shape of the deployment. */
  public enum Topology {
    /** One Redis server (possibly with replicas that Hearth does not use). */
    STANDALONE,
    /** A master found through Redis Sentinel, followed across failovers. */
    SENTINEL,
    /** A Redis Cluster, found through seed nodes; keys are routed to their slot's master. */
    CLUSTER
  }

  private final String path;
  private final Topology topology;
  private final List<URI> nodes;
  private final String masterName;
  private final String user;
  private final char[] password;
  private final Path caFile;
  private final Duration connectTimeout;
  private final Duration commandTimeout;

  private RedisConnectionSettings(
      String path,
      Topology topology,
      List<URI> nodes,
      String masterName,
      String user,
      char[] password,
      Path caFile,
      Duration connectTimeout,
      Duration commandTimeout) {
    this.path = path;
    this.topology = topology;
    this.nodes = List.copyOf(nodes);
    this.masterName = masterName;
    this.user = user;
    this.password = password;
    this.caFile = caFile;
    this.connectTimeout = connectTimeout;
    this.commandTimeout = commandTimeout;
  }

  /**
   * Reads the connection fields of {@code settings} (and only those: a store reads its own fields
   * besides).
   *
   * @param settings a JSON object's fields, such as a store's
   * @return the settings, with the password read from its file
   * @throws ConfigException naming the field for a missing, conflicting or malformed value, or a
   *     password file that cannot be read
   */
  public static RedisConnectionSettings from(StoreSettings settings) {
    boolean hasUri = settings.has(URI_FIELD);
    boolean hasSentinel = settings.has(SENTINEL);
    boolean hasCluster = settings.has(CLUSTER);
    int given = (hasUri ? 1 : 0) + (hasSentinel ? 1 : 0) + (hasCluster ? 1 : 0);
    if (given != 1) {
      throw settings.error(
          given == 0 ? URI_FIELD : (hasUri ? URI_FIELD : SENTINEL),
          given == 0
              ? "is required: give one of \"uri\" (one Redis, such as \"redis://localhost:6379\"),"
                  + " \"sentinel\" or \"cluster\""
              : "give only one of \"uri\", \"sentinel\" and \"cluster\"");
    }
    Topology topology;
    List<URI> nodes;
    String masterName = null;
    if (hasUri) {
      topology = Topology.STANDALONE;
      nodes = List.of(redisUri(settings, URI_FIELD, settings.requireString(URI_FIELD)));
    } else if (hasSentinel) {
      topology = Topology.SENTINEL;
      Map<?, ?> sentinel = object(settings, SENTINEL);
      Object name = sentinel.get("masterName");
      if (!(name instanceof String s) || s.isBlank()) {
        throw settings.error(SENTINEL + ".masterName", "is required: the name Sentinel monitors");
      }
      masterName = s;
      nodes = nodeList(settings, SENTINEL, sentinel);
      checkKnown(settings, SENTINEL, sentinel, List.of("masterName", "nodes"));
    } else {
      topology = Topology.CLUSTER;
      Map<?, ?> cluster = object(settings, CLUSTER);
      nodes = nodeList(settings, CLUSTER, cluster);
      checkKnown(settings, CLUSTER, cluster, List.of("nodes"));
    }
    String user = settings.string(USER).orElse(null);
    if (user != null && (user.isBlank() || user.chars().anyMatch(Character::isWhitespace))) {
      throw settings.error(
          USER, "expected an ACL user name without spaces, found \"" + user + "\"");
    }
    char[] password = settings.path(PASSWORD_FILE).map(f -> readPassword(settings, f)).orElse(null);
    if (user != null && password == null) {
      throw settings.error(
          PASSWORD_FILE, "is required with \"user\": the file holding the ACL user's password");
    }
    Path caFile = settings.path(CA_FILE).orElse(null);
    if (caFile != null) {
      if (!Files.isReadable(caFile)) {
        throw settings.error(CA_FILE, "cannot read " + caFile + ": no such readable file");
      }
      if (nodes.stream().noneMatch(u -> u.getScheme().equals("rediss"))) {
        throw settings.error(
            CA_FILE, "is set but no node uses TLS: write the URIs as rediss://host:port");
      }
    }
    return new RedisConnectionSettings(
        settings.path(),
        topology,
        nodes,
        masterName,
        user,
        password,
        caFile,
        duration(settings, CONNECT_TIMEOUT, DEFAULT_TIMEOUT),
        duration(settings, COMMAND_TIMEOUT, DEFAULT_TIMEOUT));
  }

  /** {@return the JSON path of the object these settings came from, for messages} */
  public String path() {
    return path;
  }

  /** {@return the topology: one server, Sentinel or Cluster} */
  public Topology topology() {
    return topology;
  }

  /** {@return the URIs: the server's, the sentinels' or the cluster's seed nodes} */
  public List<URI> nodes() {
    return nodes;
  }

  /** {@return the master name Sentinel monitors, for {@link Topology#SENTINEL}} */
  public Optional<String> masterName() {
    return Optional.ofNullable(masterName);
  }

  /** {@return the ACL user, or empty for the {@code default} user} */
  public Optional<String> user() {
    return Optional.ofNullable(user);
  }

  /** {@return a copy of the password read from {@code passwordFile}, or empty} */
  public Optional<char[]> password() {
    return Optional.ofNullable(password == null ? null : password.clone());
  }

  /** {@return the CA certificates' file for TLS, or empty for the JDK's trust store} */
  public Optional<Path> caFile() {
    return Optional.ofNullable(caFile);
  }

  /** {@return how long connecting may take} */
  public Duration connectTimeout() {
    return connectTimeout;
  }

  /** {@return how long one command may take before it fails with UNAVAILABLE} */
  public Duration commandTimeout() {
    return commandTimeout;
  }

  /** {@return where Redis is, for messages: such as {@code cluster redis://a:7000, ...}} */
  public String describe() {
    StringBuilder b = new StringBuilder();
    switch (topology) {
      case STANDALONE -> b.append("Redis at ");
      case SENTINEL -> b.append("Redis master '").append(masterName).append("' via Sentinel ");
      case CLUSTER -> b.append("Redis Cluster via ");
    }
    for (int i = 0; i < nodes.size(); i++) {
      b.append(i == 0 ? "" : ", ").append(nodes.get(i));
    }
    return b.toString();
  }

  @Override
  public String toString() {
    return describe() + (user == null ? "" : " as " + user);
  }

  private static Map<?, ?> object(StoreSettings settings, String key) {
    Object value = settings.get(key);
    if (!(value instanceof Map<?, ?> map)) {
      throw settings.error(key, "expected an object");
    }
    return map;
  }

  private static void checkKnown(
      StoreSettings settings, String key, Map<?, ?> object, List<String> known) {
    for (Object field : object.keySet()) {
      if (!known.contains(field)) {
        throw settings.error(
            key + "." + field, "unknown field; \"" + key + "\" takes: " + String.join(", ", known));
      }
    }
  }

  private static List<URI> nodeList(StoreSettings settings, String key, Map<?, ?> object) {
    Object value = object.get("nodes");
    if (!(value instanceof List<?> list) || list.isEmpty()) {
      throw settings.error(
          key + ".nodes", "is required: a non-empty array of URIs such as \"redis://host:26379\"");
    }
    List<URI> nodes = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      String field = key + ".nodes[" + i + "]";
      if (!(list.get(i) instanceof String s)) {
        throw settings.error(field, "expected a URI string such as \"redis://host:6379\"");
      }
      nodes.add(redisUri(settings, field, s));
    }
    return nodes;
  }

  private static URI redisUri(StoreSettings settings, String field, String text) {
    URI uri;
    try {
      uri = new URI(text.trim());
    } catch (URISyntaxException e) {
      throw settings.error(field, "\"" + text + "\" is not a URI: " + e.getReason());
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("redis") && !scheme.equals("rediss")) {
      throw settings.error(
          field, "expected redis://host:port or rediss://host:port (TLS), found \"" + text + "\"");
    }
    if (uri.getHost() == null) {
      throw settings.error(field, "\"" + text + "\" names no host");
    }
    if (uri.getUserInfo() != null) {
      throw settings.error(
          field,
          "holds credentials; put the user in \"user\" and the password in a file named by"
              + " \"passwordFile\", so no password sits in the configuration");
    }
    if (uri.getQuery() != null || uri.getFragment() != null) {
      throw settings.error(field, "\"" + text + "\" has a query or fragment, which Hearth ignores");
    }
    String db = uri.getPath() == null ? "" : uri.getPath();
    if (!db.isEmpty() && !db.equals("/") && !db.matches("/\\d{1,2}")) {
      throw settings.error(field, "the path of \"" + text + "\" must be a database number");
    }
    return uri;
  }

  private static char[] readPassword(StoreSettings settings, Path file) {
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw settings.error(PASSWORD_FILE, "cannot read " + file + ": " + e);
    }
    // One trailing line break is what an editor or `echo` leaves; it is not part of the password.
    String stripped = text.endsWith("\r\n") ? text.substring(0, text.length() - 2) : text;
    stripped = stripped.endsWith("\n") ? stripped.substring(0, stripped.length() - 1) : stripped;
    if (stripped.isEmpty()) {
      throw settings.error(PASSWORD_FILE, file + " is empty");
    }
    return stripped.toCharArray();
  }

  /**
   * Reads a duration field, written as everywhere in Hearth's configuration: a whole number and one
   * unit ({@code ms}, {@code s}, {@code m}, {@code h}, {@code d}), longer than zero and at most 365
   * days. A bare number is refused, since it could mean seconds or milliseconds.
   */
  static Duration duration(StoreSettings settings, String key, Duration defaultValue) {
    Object value = settings.get(key);
    if (value == null) {
      return defaultValue;
    }
    Duration parsed = null;
    if (value instanceof String s) {
      Matcher m = DURATION.matcher(s.trim());
      if (m.matches() && m.group(1).length() <= 12) {
        long n = Long.parseLong(m.group(1));
        parsed =
            switch (m.group(2)) {
              case "ms" -> Duration.ofMillis(n);
              case "s" -> Duration.ofSeconds(n);
              case "m" -> Duration.ofMinutes(n);
              case "h" -> Duration.ofHours(n);
              default -> Duration.ofDays(n);
            };
      }
    }
    if (parsed == null || parsed.isZero() || parsed.compareTo(Duration.ofDays(365)) > 0) {
      throw settings.error(
          key,
          "expected a positive duration of at most \"365d\" such as \"500ms\", \"5s\" or"
              + " \"2m\", found "
              + (value instanceof String s ? "\"" + s + "\"" : String.valueOf(value)));
    }
    return parsed;
  }
}
