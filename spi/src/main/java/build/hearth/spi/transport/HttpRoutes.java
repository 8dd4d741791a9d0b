package build.hearth.spi.transport;

import build.hearth.spi.security.Permission;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;

/**
 * Plain HTTP/1.1 {@code GET} endpoints that a transport serves beside its own protocol, on the same
 * port: {@code /metrics}, {@code /healthz}, {@code /readyz} and the admin endpoint. The transport
 * knows nothing of what they mean; it hands the path over and writes the answer back.
 *
 * <p>The path and query come from the network as they are: implementations treat them as hostile
 * input (no file access by path, bounded work per request).
 *
 * <p>Implementations are thread-safe. They are called on the transport's I/O threads and must not
 * block on anything slow, unless they name an executor for the path ({@link #blockingExecutor}):
 * the transport then calls them there and keeps the connection's answers in order.
 */
@FunctionalInterface
public interface HttpRoutes {

  /** Routes nothing: every path is answered 404. */
  HttpRoutes NONE = (path, query) -> Optional.empty();

  /**
   * The answer to {@code GET path}, or empty for a path this does not serve (the transport answers
   * 404).
   *
   * @param path the request's path without the query, such as {@code /metrics}
   * @param query the query string without the {@code ?}, or {@code ""}
   * @return the answer, or empty
   */
  Optional<Response> get(String path, String query);

  /**
   * Whether these routes decide themselves what the caller may see at {@code path}, per instance,
   * through the {@link Caller} handed to {@link #get(String, String, Caller)}. The transport then
   * only requires an authenticated caller (401 otherwise) instead of the {@code admin} permission
   * it requires for paths it does not know. False by default.
   *
   * @param path the request's path without the query
   * @return true if {@link #get(String, String, Caller)} checks the permissions of {@code path}
   */
  default boolean checksAccess(String path) {
    return false;
  }

  /**
   * The answer to {@code GET path} for an authenticated caller, for routes that {@linkplain
   * #checksAccess check access} themselves; by default {@link #get(String, String)}.
   *
   * @param path the request's path without the query
   * @param query the query string without the {@code ?}, or {@code ""}
   * @param caller what the caller may do
   * @return the answer, or empty
   */
  default Optional<Response> get(String path, String query, Caller caller) {
    return get(path, query);
  }

  /**
   * The executor to answer {@code path} on, for routes that may block on it (read a store, render a
   * large page), so that a slow answer stalls neither the transport's I/O thread nor the other
   * connections it serves; empty (the default) to be called on the I/O thread, for routes that
   * answer from memory at once, such as {@code /metrics} and {@code /readyz}.
   *
   * <p>The transport hands the executor one task per request and reads no further request of that
   * connection until the answer is written, so pipelined answers stay in order. An executor that
   * refuses the task ({@link RejectedExecutionException}, such as a bounded pool whose queue is
   * full) makes the transport answer {@code 503} with {@code Retry-After}.
   *
   * @param path the request's path without the query
   * @return the executor to call {@link #get} on for {@code path}, or empty for the I/O thread
   */
  default Optional<Executor> blockingExecutor(String path) {
    return Optional.empty();
  }

  /**
   * {@return routes that answer from this, then from {@code other} for the paths this does not
   * serve}
   *
   * @param other the routes asked second
   */
  default HttpRoutes orElse(HttpRoutes other) {
    Objects.requireNonNull(other, "other");
    HttpRoutes first = this;
    return new HttpRoutes() {
      @Override
      public Optional<Response> get(String path, String query) {
        Optional<Response> response = first.get(path, query);
        return response.isPresent() ? response : other.get(path, query);
      }

      @Override
      public boolean checksAccess(String path) {
        return first.checksAccess(path) || other.checksAccess(path);
      }

      @Override
      public Optional<Response> get(String path, String query, Caller caller) {
        Optional<Response> response = first.get(path, query, caller);
        return response.isPresent() ? response : other.get(path, query, caller);
      }

      @Override
      public Optional<Executor> blockingExecutor(String path) {
        Optional<Executor> executor = first.blockingExecutor(path);
        return executor.isPresent() ? executor : other.blockingExecutor(path);
      }
    };
  }

  /**
   * What an authenticated HTTP caller may do, asked by routes that {@linkplain #checksAccess check
   * access} themselves. Thread-safe; answers from memory.
   */
  @FunctionalInterface
  interface Caller {
    /** A caller allowed everything, for embedders and tests without access control. */
    Caller ANYONE = (permission, instanceName) -> true;

    /**
     * {@return whether the caller holds {@code permission} on {@code instanceName}}
     *
     * @param permission the permission, such as {@link Permission#READ}
     * @param instanceName the instance, {@code ""} for the default one
     */
    boolean allowed(Permission permission, String instanceName);

    /**
     * {@return whether the caller sent credentials; a refusal of a caller that did not is 401, so
     * it knows to send them, as for every other route} True by default.
     */
    default boolean authenticated() {
      return true;
    }
  }

  /**
   * One answer.
   *
   * @param status the HTTP status code, such as 200 or 503
   * @param contentType the {@code Content-Type} header, such as {@code text/plain; version=0.0.4;
   *     charset=utf-8}
   * @param body the bytes of the body
   */
  record Response(int status, String contentType, byte[] body) {
    /**
     * Checks that nothing is null.
     *
     * @param status the HTTP status code
     * @param contentType the {@code Content-Type} header
     * @param body the bytes of the body, not copied
     * @throws NullPointerException if {@code contentType} or {@code body} is null
     */
    public Response {
      Objects.requireNonNull(contentType, "contentType");
      Objects.requireNonNull(body, "body");
    }

    /**
     * {@return a 200 answer with a UTF-8 text body}
     *
     * @param contentType the {@code Content-Type} header
     * @param body the body's text
     */
    public static Response ok(String contentType, String body) {
      return new Response(200, contentType, body.getBytes(StandardCharsets.UTF_8));
    }
  }
}
