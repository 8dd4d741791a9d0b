package build.hearth.core.config;

import java.util.Objects;

/**
 * The {@code web} section: the web UI served under {@code /ui/} on every server's port, and its
 * record of recent actions.
 *
 * <pre>{@code
 * "web": { "externalUrl": "https://hearth.example.com", "recentActions": 10000,
 *          "recentActionsMaxSize": "64MiB" }
 * }</pre>
 *
 * @param enabled whether the pages are served and actions recorded; true by default
 * @param externalUrl the base URL users reach the server at, for the links the pages and failed
 *     actions' messages carry; {@code ""} for links under the server's own address
 * @param recentActions the most recent actions kept in memory; 10,000 by default
 * @param recentActionsMaxBytes the most bytes the recent actions take; 64 MiB by default
 */
public record WebConfig(
    boolean enabled, String externalUrl, int recentActions, long recentActionsMaxBytes) {

  /** The defaults: on, relative links, 10,000 actions, 64 MiB. */
  public static final WebConfig DEFAULTS = new WebConfig(true, "", 10_000, 64L << 20);

  /**
   * Checks that nothing is null.
   *
   * @param enabled whether the pages are served and actions recorded
   * @param externalUrl the base URL of the pages' links, or {@code ""}
   * @param recentActions the most recent actions kept
   * @param recentActionsMaxBytes the most bytes they take
   */
  public WebConfig {
    Objects.requireNonNull(externalUrl, "externalUrl");
  }
}
