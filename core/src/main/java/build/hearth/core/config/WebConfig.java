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
 * @param threads the threads that render pages and read the CAS for them, off the transport's I/O
 *     threads; 4 by default
 * @param maxQueuedPages page requests that may wait for one of those threads; beyond it a request
 *     is answered 503 with {@code Retry-After}; 100 by default
 */
public record WebConfig(
    boolean enabled,
    String externalUrl,
    int recentActions,
    long recentActionsMaxBytes,
    int threads,
    int maxQueuedPages) {

  /**
   * The defaults: on, relative links, 10,000 actions, 64 MiB; 4 threads, enough for a few people
   * reloading pages while one slow store read holds a thread, and 100 queued requests, a page each
   * for a roomful of browsers.
   */
  public static final WebConfig DEFAULTS = new WebConfig(true, "", 10_000, 64L << 20, 4, 100);

  /**
   * Checks that nothing is null.
   *
   * @param enabled whether the pages are served and actions recorded
   * @param externalUrl the base URL of the pages' links, or {@code ""}
   * @param recentActions the most recent actions kept
   * @param recentActionsMaxBytes the most bytes they take
   * @param threads the threads that render pages
   * @param maxQueuedPages the page requests that may wait for a thread
   */
  public WebConfig {
    Objects.requireNonNull(externalUrl, "externalUrl");
  }
}
