package build.hearth.server;

import build.hearth.api.HearthException;
import build.hearth.grpc.tls.ClientTls;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.ConnectException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code hearth admin}: reads a running server's admin endpoint ({@code /admin/v1/...} on its gRPC
 * port) and prints it as a table, or as the JSON it is. Exit code 0 when the server answered, 1
 * when it could not be reached or gave no usable answer, with one line on stderr saying why.
 */
@Command(
    name = "admin",
    mixinStandardHelpOptions = true,
    description = "Shows what a running Hearth server is doing, from its admin endpoint.",
    subcommands = {
      AdminCommand.WorkerStats.class,
      AdminCommand.Status.class,
      VerifyStoreCommand.class
    })
final class AdminCommand implements Callable<Integer> {
  static final String DEFAULT_ENDPOINT = "http://localhost:50052";
  private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(15);

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    spec.commandLine().usage(spec.commandLine().getOut());
    return 0;
  }

  /** The options every admin subcommand takes. */
  static final class Target {
    @Option(
        names = "--endpoint",
        paramLabel = "URL",
        defaultValue = DEFAULT_ENDPOINT,
        description =
            "The server's gRPC port, where it also serves the admin endpoint"
                + " (http://, https://, grpc:// or grpcs://); default: ${DEFAULT-VALUE}.")
    String endpoint;

    @Option(names = "--json", description = "Print the endpoint's JSON instead of a table.")
    boolean json;

    @Mixin ClientCredentialOptions credentials;
  }

  @Command(
      name = "worker-stats",
      mixinStandardHelpOptions = true,
      description = {
        "Lists every worker and its persistent-worker processes: key, tool, pid, state, requests"
            + " served, resident memory, age and idle time, with each worker's pool totals.",
        "Reads GET /admin/v1/workers."
      })
  static final class WorkerStats implements Callable<Integer> {
    @Mixin Target target;
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
      return show(spec, target, "/admin/v1/workers", AdminTables::workers);
    }
  }

  @Command(
      name = "status",
      mixinStandardHelpOptions = true,
      description = {
        "Shows readiness, each scheduler's queue, workers and slots, and each store's usage.",
        "Reads GET /admin/v1/status."
      })
  static final class Status implements Callable<Integer> {
    @Mixin Target target;
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
      return show(spec, target, "/admin/v1/status", AdminTables::status);
    }
  }

  private static int show(
      CommandSpec spec, Target target, String path, Function<Map<String, Object>, String> table) {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    try {
      URI base = base(target.endpoint);
      URI uri = base.resolve(path + (target.json ? "?pretty" : ""));
      byte[] body = fetch(base, uri, target.credentials);
      Map<String, Object> doc;
      try {
        doc = JsonTree.readObject(body);
      } catch (IOException e) {
        throw new Failure(
            uri + " did not answer with the admin JSON (" + firstLine(e.getMessage()) + ")");
      }
      if (target.json) {
        String json = new String(body, StandardCharsets.UTF_8);
        out.print(json.endsWith("\n") ? json : json + "\n");
      } else {
        out.print(table.apply(doc));
      }
      out.flush();
      return 0;
    } catch (Failure e) {
      err.println("hearth admin: " + e.getMessage());
      err.flush();
      return 1;
    }
  }

  /** The server's root, from what the user typed. */
  static URI base(String endpoint) throws Failure {
    String trimmed = endpoint.strip();
    while (trimmed.endsWith("/")) {
      trimmed = trimmed.substring(0, trimmed.length() - 1);
    }
    int colon = trimmed.indexOf("://");
    if (colon < 0) {
      throw new Failure(
          "--endpoint '" + endpoint + "' needs a scheme, such as " + DEFAULT_ENDPOINT);
    }
    String scheme = trimmed.substring(0, colon).toLowerCase(Locale.ROOT);
    String rest = trimmed.substring(colon + 3);
    String http =
        switch (scheme) {
          case "http", "grpc" -> "http";
          case "https", "grpcs" -> "https";
          default ->
              throw new Failure(
                  "--endpoint '"
                      + endpoint
                      + "' has scheme "
                      + scheme
                      + "; use http:// (or grpc://) or https:// (or grpcs://)");
        };
    try {
      URI uri = new URI(http + "://" + rest + "/");
      if (uri.getHost() == null) {
        throw new Failure(
            "--endpoint '" + endpoint + "' names no host, such as " + DEFAULT_ENDPOINT);
      }
      return uri;
    } catch (URISyntaxException e) {
      throw new Failure("--endpoint '" + endpoint + "' is not a URL: " + e.getReason());
    }
  }

  private static byte[] fetch(URI base, URI uri, ClientCredentialOptions credentials)
      throws Failure {
    String server = base.toString().substring(0, base.toString().length() - 1);
    HttpClient.Builder clientBuilder =
        HttpClient.newBuilder()
            .connectTimeout(CONNECT_TIMEOUT)
            .followRedirects(HttpClient.Redirect.NEVER);
    HttpRequest.Builder requestBuilder =
        HttpRequest.newBuilder(uri)
            .timeout(REQUEST_TIMEOUT)
            .header("Accept", "application/json")
            .GET();
    try {
      Optional<ClientTls> tls = credentials.tls();
      if (tls.isPresent() && !uri.getScheme().equals("https")) {
        throw new Failure(
            "TLS files were given, but --endpoint '"
                + server
                + "' is plaintext; use https:// (or grpcs://)");
      }
      tls.ifPresent(files -> clientBuilder.sslContext(files.sslContext()));
      credentials
          .token(System.getenv())
          .ifPresent(token -> requestBuilder.header("Authorization", token.headerValue()));
    } catch (HearthException e) {
      throw new Failure(e.getMessage());
    }
    HttpClient client = clientBuilder.build();
    HttpRequest request = requestBuilder.build();
    HttpResponse<byte[]> response;
    try {
      response = client.send(request, HttpResponse.BodyHandlers.ofByteArray());
    } catch (HttpTimeoutException e) {
      throw new Failure(
          "cannot reach "
              + server
              + ": no answer within "
              + (e instanceof java.net.http.HttpConnectTimeoutException
                      ? CONNECT_TIMEOUT
                      : REQUEST_TIMEOUT)
                  .toSeconds()
              + " s; is `hearth serve` running there, and is nothing in between blocking it?");
    } catch (ConnectException e) {
      throw new Failure(
          "cannot reach " + server + ": connection refused; is `hearth serve` running there?");
    } catch (IOException e) {
      throw new Failure("cannot reach " + server + ": " + describe(e));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Failure("interrupted while waiting for " + server);
    }
    if (response.statusCode() != 200) {
      String body = firstLine(new String(response.body(), StandardCharsets.UTF_8));
      throw new Failure(
          uri
              + " answered HTTP "
              + response.statusCode()
              + (body.isEmpty() ? "" : " (" + body + ")")
              + advice(response.statusCode()));
    }
    return response.body();
  }

  /** What to do about a refusal, in terms of this command's options. */
  private static String advice(int status) {
    return switch (status) {
      case 401 ->
          "; the server wants to know who you are: pass --token-file FILE (or set"
              + " HEARTH_TOKEN), or --tls-client-certificate and --tls-client-key over https://";
      case 403 ->
          "; the server knows who you are, but a policy in its \"permissions\" must grant"
              + " you \"admin\"";
      default -> "; is this a Hearth server with the admin endpoint on this port?";
    };
  }

  private static String describe(IOException e) {
    Throwable cause = e;
    while (cause.getMessage() == null && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
  }

  private static String firstLine(String text) {
    if (text == null) {
      return "";
    }
    String line = text.strip().lines().findFirst().orElse("");
    return line.length() > 200 ? line.substring(0, 200) + "..." : line;
  }

  /** A failure the user can act on; its message is the whole line. */
  static final class Failure extends Exception {
    private static final long serialVersionUID = 1L;

    Failure(String message) {
      super(message);
    }
  }
}
