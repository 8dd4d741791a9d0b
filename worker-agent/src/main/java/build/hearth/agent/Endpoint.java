package build.hearth.agent;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;

/**
 * Where a worker finds the scheduler: {@code grpc://HOST:PORT} or {@code http://HOST:PORT} in
 * plaintext, {@code grpcs://HOST[:PORT]} or {@code https://HOST[:PORT]} over TLS (port 443 by
 * default), or a bare {@code HOST:PORT} (plaintext). IPv6 addresses go in brackets.
 *
 * @param text the endpoint as the user wrote it, for messages
 * @param host the host name or address
 * @param port the port
 * @param tls whether to use TLS, with the JDK's trusted certificates
 */
record Endpoint(String text, String host, int port, boolean tls) {
  private static final String FORMS =
      "expected grpc://HOST:PORT or http://HOST:PORT (plaintext), or grpcs://HOST[:PORT] or"
          + " https://HOST[:PORT] (TLS)";

  /**
   * Parses {@code text}.
   *
   * @throws IllegalArgumentException naming the problem and the accepted forms
   */
  static Endpoint parse(String text) {
    String trimmed = text.strip();
    String scheme;
    String rest;
    int separator = trimmed.indexOf("://");
    if (separator < 0) {
      scheme = "grpc";
      rest = trimmed;
    } else {
      scheme = trimmed.substring(0, separator).toLowerCase(Locale.ROOT);
      rest = trimmed.substring(separator + 3);
    }
    boolean tls;
    switch (scheme) {
      case "grpc", "http" -> tls = false;
      case "grpcs", "https" -> tls = true;
      default -> throw invalid(text, "the scheme '" + scheme + "' is not supported");
    }
    if (rest.endsWith("/")) {
      rest = rest.substring(0, rest.length() - 1);
    }
    if (rest.isEmpty()) {
      throw invalid(text, "the host is missing");
    }
    if (rest.contains("/") || rest.contains("?") || rest.contains("#")) {
      throw invalid(text, "it has a path; the scheduler is named by host and port alone");
    }
    URI uri;
    try {
      uri = new URI("grpc://" + rest);
    } catch (URISyntaxException e) {
      throw invalid(text, e.getReason());
    }
    if (uri.getHost() == null || uri.getUserInfo() != null) {
      throw invalid(text, "'" + rest + "' is not HOST:PORT");
    }
    int port = uri.getPort();
    if (port < 0) {
      if (!tls) {
        throw invalid(text, "the port is missing (the worker API listens where the server does)");
      }
      port = 443;
    }
    if (port == 0 || port > 65535) {
      throw invalid(text, "port " + port + " is out of range");
    }
    String host = uri.getHost();
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return new Endpoint(text, host, port, tls);
  }

  private static IllegalArgumentException invalid(String text, String problem) {
    return new IllegalArgumentException(
        "scheduler endpoint '" + text + "' is not usable: " + problem + "; " + FORMS);
  }

  @Override
  public String toString() {
    return text;
  }
}
