package build.hearth.core.config;

import build.hearth.core.config.AccessConfig.Authentication;
import build.hearth.core.config.AccessConfig.Jwt;
import build.hearth.core.config.AccessConfig.Policy;
import build.hearth.core.config.AccessConfig.Token;
import build.hearth.core.config.Node.ArrayNode;
import build.hearth.spi.security.Permission;
import java.net.InetAddress;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.regex.Pattern;

/**
 * Binds a server object's {@code authentication}, {@code permissions} and {@code
 * insecureAllowUnauthenticated} fields to an {@link AccessConfig}, and holds the rule that a server
 * off loopback must authenticate its callers. Stateless.
 */
final class AccessConfigBinder {
  static final String AUTHENTICATION = "authentication";
  static final String PERMISSIONS = "permissions";
  static final String INSECURE = "insecureAllowUnauthenticated";

  private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-fA-F]{64}");
  private static final Pattern TOKEN_NAME = Pattern.compile("[A-Za-z0-9._@-]+");
  private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

  private AccessConfigBinder() {}

  /**
   * The three fields of the server object {@code fields}; they must be among its known ones. {@code
   * files} turns a file name of the block into a path (relative names are resolved against the
   * configuration file's directory).
   */
  static AccessConfig bind(Fields fields, Function<Node, Path> files) {
    Authentication authentication =
        fields.optional(AUTHENTICATION).map(node -> authentication(node, files)).orElse(null);
    List<Policy> permissions =
        fields.optional(PERMISSIONS).map(AccessConfigBinder::permissions).orElse(null);
    boolean insecure = fields.bool(INSECURE).orElse(false);
    if (authentication == null && permissions == null && !insecure) {
      return AccessConfig.NONE;
    }
    return new AccessConfig(authentication, permissions, insecure);
  }

  /**
   * Refuses a server that listens off loopback and lets callers in without credentials, unless it
   * says {@code insecureAllowUnauthenticated}.
   *
   * @param listenNode the {@code listen} field, for the error
   * @param host the host it binds
   * @param clientCertificatesRequired whether TLS requires a verified client certificate of every
   *     caller (which authenticates them as well as a token does)
   */
  static void checkExposure(
      Node listenNode, String host, AccessConfig access, boolean clientCertificatesRequired) {
    if (isLoopback(host)
        || access.insecureAllowUnauthenticated()
        || access.hasBearerAuthentication()
        || clientCertificatesRequired) {
      return;
    }
    throw Fields.invalid(
        listenNode,
        "this server listens on "
            + Fields.string(listenNode)
            + ", which other machines can reach, but authenticates no one, so anyone who reaches"
            + " the port could run commands and write the cache. Add an \"authentication\" block"
            + " with tokens (such as {\"tokens\": [{\"name\": \"ci\", \"sha256\": \"<sha256 of the"
            + " token>\"}]}) and a \"tls\" block, listen on 127.0.0.1, or set"
            + " \"insecureAllowUnauthenticated\": true on a network you trust. See"
            + " docs/security.md");
  }

  /**
   * Whether {@code host} is a loopback address by its text alone: {@code localhost}, 127.0.0.0/8 or
   * {@code ::1}. Names are not resolved, so any other name counts as reachable from elsewhere.
   */
  static boolean isLoopback(String host) {
    String h = host.toLowerCase(Locale.ROOT);
    if (h.equals("localhost") || h.endsWith(".localhost")) {
      return true;
    }
    if (IPV4.matcher(h).matches() || h.indexOf(':') >= 0) {
      try {
        // A literal address: getByName parses it without a lookup.
        return InetAddress.getByName(h).isLoopbackAddress();
      } catch (java.net.UnknownHostException e) {
        return false;
      }
    }
    return false;
  }

  private static Authentication authentication(Node node, Function<Node, Path> files) {
    Fields fields =
        Fields.of(
            node,
            "an authentication object such as {\"tokens\": [{\"name\": \"ci\", \"sha256\":"
                + " \"...\"}]}",
            "tokens",
            "jwt",
            "trustLoopback");
    List<Token> tokens =
        fields.optional("tokens").map(list -> tokens(list, files)).orElse(List.of());
    Optional<Jwt> jwt = fields.optional("jwt").map(object -> jwt(object, files));
    boolean trustLoopback = fields.bool("trustLoopback").orElse(false);
    return new Authentication(tokens, jwt, trustLoopback);
  }

  private static List<Token> tokens(Node node, Function<Node, Path> files) {
    ArrayNode array =
        Fields.array(
            node,
            "an array of tokens such as [{\"name\": \"ci\", \"sha256\": \"<64 hex digits>\"}]");
    List<Token> tokens = new ArrayList<>();
    Map<String, String> names = new HashMap<>();
    Map<String, String> hashes = new HashMap<>();
    for (Node element : array.elements()) {
      Fields fields =
          Fields.of(
              element,
              "a token object such as {\"name\": \"ci\", \"sha256\": \"<64 hex digits>\"} or"
                  + " {\"name\": \"dev\", \"file\": \"secrets/dev.token\"}",
              "name",
              "sha256",
              "file");
      Node nameNode =
          fields.required("name", "the token's identity is \"token:<name>\", as policies name it");
      String name = Fields.string(nameNode);
      if (!TOKEN_NAME.matcher(name).matches()) {
        throw Fields.invalid(
            nameNode, "a token name is letters, digits and . _ @ -, found " + nameNode.describe());
      }
      String earlier = names.putIfAbsent(name, element.path() + " (line " + element.line() + ")");
      if (earlier != null) {
        throw Fields.invalid(
            nameNode, "the token name '" + name + "' is already used by " + earlier);
      }
      Optional<Node> sha256Node = fields.optional("sha256");
      Optional<Node> fileNode = fields.optional("file");
      if (sha256Node.isPresent() == fileNode.isPresent()) {
        throw Fields.invalid(
            element,
            sha256Node.isPresent()
                ? "give either \"sha256\" or \"file\", not both"
                : "a token needs \"sha256\" (the SHA-256 of the token in hex, as printed by"
                    + " `printf %s \"$TOKEN\" | sha256sum`) or \"file\" (a file whose first line is"
                    + " the token)");
      }
      byte[] sha256 = null;
      Path file = null;
      Node at = element;
      if (sha256Node.isPresent()) {
        String hex = Fields.string(sha256Node.get());
        if (!SHA256_HEX.matcher(hex).matches()) {
          // Never echo the value: a token pasted here by mistake must not reach a log.
          throw Fields.invalid(
              sha256Node.get(),
              "expected the SHA-256 of the token as 64 hex digits, found "
                  + hex.length()
                  + " characters"
                  + (hex.chars().allMatch(c -> Character.digit(c, 16) >= 0)
                      ? ""
                      : " that are not all hex digits")
                  + "; compute it with `printf %s \"$TOKEN\" | sha256sum`, and never put the token"
                  + " itself in the configuration");
        }
        sha256 = HexFormat.of().parseHex(hex);
        String other = hashes.putIfAbsent(hex.toLowerCase(Locale.ROOT), name);
        if (other != null) {
          throw Fields.invalid(
              sha256Node.get(), "token '" + name + "' has the same hash as token '" + other + "'");
        }
      } else {
        file = files.apply(fileNode.get());
        at = fileNode.get();
      }
      tokens.add(new Token(name, sha256, file, at.path(), at.line()));
    }
    return tokens;
  }

  private static Jwt jwt(Node node, Function<Node, Path> files) {
    Fields fields =
        Fields.of(
            node,
            "a jwt object such as {\"issuer\": \"https://issuer.example\", \"audience\":"
                + " \"hearth\", \"jwks\": \"keys/jwks.json\"}",
            "issuer",
            "audience",
            "jwks",
            "publicKey",
            "identityClaim");
    String issuer =
        nonEmpty(
            fields.required("issuer", "it is the \"iss\" claim every accepted JWT must carry"));
    String audience =
        nonEmpty(
            fields.required(
                "audience",
                "it is the \"aud\" value every accepted JWT must carry, such as \"hearth\", so"
                    + " tokens issued for other services are refused"));
    Optional<Path> jwks = fields.optional("jwks").map(files);
    Optional<Path> publicKey = fields.optional("publicKey").map(files);
    if (jwks.isPresent() == publicKey.isPresent()) {
      throw Fields.invalid(
          node,
          jwks.isPresent()
              ? "give either \"jwks\" or \"publicKey\", not both"
              : "a jwt block needs the key its tokens are signed with: \"jwks\" (a JWKS file) or"
                  + " \"publicKey\" (a PEM public key file)");
    }
    String claim = fields.optional("identityClaim").map(AccessConfigBinder::nonEmpty).orElse("sub");
    return new Jwt(issuer, audience, jwks, publicKey, claim, node.path(), node.line());
  }

  private static List<Policy> permissions(Node node) {
    ArrayNode array =
        Fields.array(
            node,
            "an array of policies such as [{\"identities\": [\"token:ci\"], \"grant\": [\"read\"]}]");
    List<Policy> policies = new ArrayList<>();
    for (Node element : array.elements()) {
      Fields fields =
          Fields.of(
              element,
              "a policy object such as {\"identities\": [\"token:ci\"], \"grant\": [\"read\"]}",
              "identities",
              "instances",
              "grant");
      List<String> identities =
          patterns(
              fields.required(
                  "identities",
                  "it lists the identities the policy applies to, such as [\"token:ci\","
                      + " \"certificate:CN=worker-*\", \"anonymous\"]"),
              false);
      Optional<List<String>> instances = fields.optional("instances").map(n -> patterns(n, true));
      Node grantNode =
          fields.required(
              "grant",
              "it lists the permissions granted, from "
                  + String.join(", ", Permission.configNames()));
      Set<Permission> grant = EnumSet.noneOf(Permission.class);
      for (Node word : Fields.array(grantNode, "an array of permission words").elements()) {
        String text = Fields.string(word);
        grant.add(
            Permission.fromConfigName(text)
                .orElseThrow(
                    () ->
                        Fields.invalid(
                            word,
                            "unknown permission "
                                + ConfigPaths.display(text)
                                + "; known permissions: "
                                + String.join(", ", Permission.configNames()))));
      }
      policies.add(new Policy(identities, instances, grant));
    }
    return policies;
  }

  private static List<String> patterns(Node node, boolean emptyAllowed) {
    List<String> patterns = new ArrayList<>();
    for (Node element : Fields.array(node, "an array of strings").elements()) {
      String pattern = Fields.string(element);
      if (pattern.isEmpty() && !emptyAllowed) {
        throw Fields.invalid(element, "an identity pattern must not be empty");
      }
      patterns.add(pattern);
    }
    return patterns;
  }

  private static String nonEmpty(Node node) {
    String text = Fields.string(node);
    if (text.isEmpty()) {
      throw Fields.invalid(node, "must not be empty");
    }
    return text;
  }
}
