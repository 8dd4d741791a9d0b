package build.hearth.core.config;

import java.net.URI;
import java.net.URISyntaxException;

/** Binds the top-level {@code web} section to a {@link WebConfig}; errors name the field. */
final class WebBinder {
  private WebBinder() {}

  static WebConfig web(Node node) {
    Fields fields =
        Fields.of(
            node,
            "a web object such as {\"externalUrl\": \"https://hearth.example.com\"}",
            "enabled",
            "externalUrl",
            "recentActions",
            "recentActionsMaxSize",
            "threads",
            "maxQueuedPages");
    WebConfig d = WebConfig.DEFAULTS;
    boolean enabled = fields.optional("enabled").map(Fields::bool).orElse(d.enabled());
    String url = fields.optional("externalUrl").map(WebBinder::url).orElse(d.externalUrl());
    int actions =
        fields
            .optional("recentActions")
            .map(n -> ConfigValues.count(n, 1, "keep at least one recent action"))
            .orElse(d.recentActions());
    long bytes =
        fields
            .optional("recentActionsMaxSize")
            .map(
                n -> {
                  long value = ConfigValues.bytes(n);
                  if (value < 64 << 10) {
                    throw Fields.invalid(n, "must be at least 64KiB");
                  }
                  return value;
                })
            .orElse(d.recentActionsMaxBytes());
    int threads =
        fields
            .optional("threads")
            .map(n -> ConfigValues.count(n, 1, "render pages on at least one thread"))
            .orElse(d.threads());
    int queued =
        fields
            .optional("maxQueuedPages")
            .map(n -> ConfigValues.count(n, 0, "queue no page requests (0) or some"))
            .orElse(d.maxQueuedPages());
    return new WebConfig(enabled, url, actions, bytes, threads, queued);
  }

  private static String url(Node node) {
    String text = Fields.string(node);
    if (text.isEmpty()) {
      return text;
    }
    String problem =
        "'"
            + text
            + "' is not an http or https URL with a host and without query or fragment, such as"
            + " \"https://hearth.example.com\"";
    try {
      URI uri = new URI(text);
      if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
          || uri.getHost() == null
          || uri.getRawQuery() != null
          || uri.getRawFragment() != null) {
        throw Fields.invalid(node, problem);
      }
    } catch (URISyntaxException e) {
      throw Fields.invalid(node, problem);
    }
    return text;
  }
}
