package build.hearth.web;

import build.hearth.api.Digest;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * Builds the addresses of the web UI's pages, absolute under a configured external base URL (what
 * users reach the server at, through a proxy perhaps) or relative to the server's root when none is
 * configured.
 *
 * <pre>{@code
 * ActionLinks links = ActionLinks.of("https://hearth.example.com");
 * String url = links.action("", actionDigest);
 * // https://hearth.example.com/ui/action/<hash>/<size>
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 */
public final class ActionLinks {
  /** The path prefix every page of the web UI is served under. */
  public static final String PREFIX = "/ui";

  private final String base;

  private ActionLinks(String base) {
    this.base = base;
  }

  /**
   * Links under {@code externalBaseUrl}.
   *
   * @param externalBaseUrl an {@code http} or {@code https} URL without query or fragment, such as
   *     {@code https://hearth.example.com} or {@code https://example.com/hearth}; {@code ""} for
   *     links relative to the server's root
   * @return the links
   * @throws IllegalArgumentException if the URL is not of that form
   */
  public static ActionLinks of(String externalBaseUrl) {
    Objects.requireNonNull(externalBaseUrl, "externalBaseUrl");
    if (externalBaseUrl.isEmpty()) {
      return new ActionLinks("");
    }
    URI uri;
    try {
      uri = new URI(externalBaseUrl);
    } catch (java.net.URISyntaxException e) {
      throw new IllegalArgumentException(
          "'" + externalBaseUrl + "' is not a URL: " + e.getMessage(), e);
    }
    if (!("http".equals(uri.getScheme()) || "https".equals(uri.getScheme()))
        || uri.getHost() == null
        || uri.getRawQuery() != null
        || uri.getRawFragment() != null) {
      throw new IllegalArgumentException(
          "'"
              + externalBaseUrl
              + "' is not an http or https URL with a host and without query or fragment, such"
              + " as https://hearth.example.com");
    }
    String base = externalBaseUrl;
    while (base.endsWith("/")) {
      base = base.substring(0, base.length() - 1);
    }
    return new ActionLinks(base);
  }

  /**
   * {@return the address of an action's page}
   *
   * @param instanceName the instance, {@code ""} for the default one
   * @param actionDigest the action's digest
   */
  public String action(String instanceName, Digest actionDigest) {
    return page("action", instanceName, actionDigest);
  }

  /** {@return the address of the overview} */
  public String overview() {
    return base + PREFIX + "/";
  }

  String blob(String instanceName, Digest digest) {
    return page("blob", instanceName, digest);
  }

  String blob(String instanceName, Digest digest, String fileName) {
    return page("blob", instanceName, digest)
        + separator(instanceName)
        + "name="
        + encode(fileName);
  }

  String raw(String instanceName, Digest digest) {
    return page("raw", instanceName, digest);
  }

  String directory(String instanceName, Digest digest) {
    return page("directory", instanceName, digest);
  }

  String tree(String instanceName, Digest digest) {
    return page("tree", instanceName, digest);
  }

  private String page(String kind, String instanceName, Digest digest) {
    String path = base + PREFIX + "/" + kind + "/" + digest.hash() + "/" + digest.sizeBytes();
    return instanceName.isEmpty() ? path : path + "?instance=" + encode(instanceName);
  }

  private static String separator(String instanceName) {
    return instanceName.isEmpty() ? "?" : "&";
  }

  private static String encode(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
