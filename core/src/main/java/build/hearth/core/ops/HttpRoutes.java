package build.hearth.core.ops;

import java.util.Objects;
import java.util.Optional;

/**
 * Plain HTTP/1.1 {@code GET} endpoints that a transport serves beside its own protocol, on the same
 * port: {@code /metrics}, {@code /healthz}, {@code /readyz} and the admin endpoint. The transport
 * knows nothing of what they mean; it hands the path over and writes the answer back.
 *
 * <p>Implementations are thread-safe and fast: they are called on the transport's I/O threads and
 * must not block on anything slow.
 */
@FunctionalInterface
public interface HttpRoutes {

  /**
   * The answer to {@code GET path}, or empty for a path this does not serve (the transport answers
   * 404).
   *
   * @param path the request's path without the query, such as {@code /metrics}
   * @param query the query string without the {@code ?}, or {@code ""}
   */
  Optional<Response> get(String path, String query);

  /** Routes nothing. */
  HttpRoutes NONE = (path, query) -> Optional.empty();

  /** This, then {@code other} for the paths this does not serve. */
  default HttpRoutes orElse(HttpRoutes other) {
    Objects.requireNonNull(other, "other");
    return (path, query) -> {
      Optional<Response> response = get(path, query);
      return response.isPresent() ? response : other.get(path, query);
    };
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
    public Response {
      Objects.requireNonNull(contentType, "contentType");
      Objects.requireNonNull(body, "body");
    }

    /** A 200 answer with a UTF-8 text body. */
    public static Response ok(String contentType, String body) {
      return new Response(200, contentType, body.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
  }
}
