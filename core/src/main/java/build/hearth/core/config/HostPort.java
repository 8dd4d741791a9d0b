package build.hearth.core.config;

/**
 * A parsed {@code listen} address. The host is kept as written (IPv6 without its brackets) and is
 * not resolved: reading a configuration does no I/O, and the server reports a host it cannot bind
 * when it starts.
 */
record HostPort(String host, int port) {
  private static final String EXAMPLES =
      "such as \"127.0.0.1:50052\", \"0.0.0.0:50052\", \"localhost:0\" or \"[::1]:50052\"";

  static HostPort parse(Node node, String text) {
    String host;
    String port;
    if (text.startsWith("[")) {
      int close = text.indexOf(']');
      if (close < 0) {
        throw Fields.invalid(
            node, "the IPv6 address has no closing ']'; expected an address " + EXAMPLES);
      }
      host = text.substring(1, close);
      if (host.indexOf(':') < 0 || !isIpv6Text(host)) {
        throw Fields.invalid(node, "'" + host + "' in brackets is not an IPv6 address");
      }
      if (close + 1 >= text.length() || text.charAt(close + 1) != ':') {
        throw Fields.invalid(
            node, "the port is missing after ']'; expected an address " + EXAMPLES);
      }
      port = text.substring(close + 2);
    } else {
      int colon = text.lastIndexOf(':');
      if (colon < 0) {
        throw Fields.invalid(
            node, "the port is missing in \"" + text + "\"; expected host:port " + EXAMPLES);
      }
      host = text.substring(0, colon);
      port = text.substring(colon + 1);
      if (host.indexOf(':') >= 0) {
        throw Fields.invalid(
            node,
            "an IPv6 address goes in brackets, as in \"[::1]:50052\"; found \"" + text + "\"");
      }
      if (host.isEmpty()) {
        throw Fields.invalid(
            node,
            "the host is missing in \""
                + text
                + "\"; use 0.0.0.0 for every interface or 127.0.0.1 for this machine only");
      }
      if (!isHostName(host)) {
        throw Fields.invalid(
            node,
            "'" + host + "' is not a host name or IP address; expected an address " + EXAMPLES);
      }
    }
    return new HostPort(host, parsePort(node, port));
  }

  private static int parsePort(Node node, String text) {
    boolean digits = !text.isEmpty() && text.length() <= 5;
    for (int i = 0; digits && i < text.length(); i++) {
      digits = text.charAt(i) >= '0' && text.charAt(i) <= '9';
    }
    int port = digits ? Integer.parseInt(text) : -1;
    if (port < 0 || port > 65535) {
      throw Fields.invalid(
          node,
          "the port must be a number from 0 to 65535 (0 picks any free port), found \""
              + text
              + "\"");
    }
    return port;
  }

  private static boolean isHostName(String host) {
    for (int i = 0; i < host.length(); i++) {
      char c = host.charAt(i);
      boolean ok =
          (c >= 'a' && c <= 'z')
              || (c >= 'A' && c <= 'Z')
              || (c >= '0' && c <= '9')
              || c == '.'
              || c == '-'
              || c == '_';
      if (!ok) {
        return false;
      }
    }
    return true;
  }

  /** Hex digits, colons, dots (an embedded IPv4 address) and a zone after '%'. */
  private static boolean isIpv6Text(String host) {
    int zone = host.indexOf('%');
    String address = zone < 0 ? host : host.substring(0, zone);
    for (int i = 0; i < address.length(); i++) {
      char c = address.charAt(i);
      boolean ok =
          (c >= '0' && c <= '9')
              || (c >= 'a' && c <= 'f')
              || (c >= 'A' && c <= 'F')
              || c == ':'
              || c == '.';
      if (!ok) {
        return false;
      }
    }
    return zone < 0 || zone + 1 < host.length();
  }
}
