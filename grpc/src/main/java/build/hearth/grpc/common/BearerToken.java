package build.hearth.grpc.common;

import build.hearth.api.HearthException;
import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executor;

/**
 * A bearer token a Hearth client sends as {@code authorization: Bearer <token>} on every call
 * (gRPC) or request (HTTP). It comes from a file or from the {@code HEARTH_TOKEN} environment
 * variable, never from a command-line argument, which every user of the machine sees in {@code ps}.
 * {@link #toString()} never shows it, so the token cannot reach a log by accident.
 *
 * <p>Immutable and thread-safe.
 */
public final class BearerToken {
  /** The environment variable a token is read from when no file is given. */
  public static final String ENVIRONMENT_VARIABLE = "HEARTH_TOKEN";

  private static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);

  private final String token;
  private final String source;

  private BearerToken(String token, String source) {
    this.token = token;
    this.source = source;
  }

  /**
   * The token of a client: the first line of {@code file} when given, else {@code HEARTH_TOKEN}
   * from {@code environment} when set and not empty, else none.
   *
   * @param file the token file, if given
   * @param environment the process's environment variables
   * @return the token, or empty when neither source gives one
   * @throws HearthException FAILED_PRECONDITION naming the file when it cannot be read, or when the
   *     token is empty or holds characters a header cannot carry
   */
  public static Optional<BearerToken> find(Optional<Path> file, Map<String, String> environment) {
    if (file.isPresent()) {
      Path path = file.get();
      String text;
      try {
        text = Files.readString(path, StandardCharsets.UTF_8);
      } catch (NoSuchFileException e) {
        throw HearthException.failedPrecondition(
            "cannot read the token file %s: no such file", path.toAbsolutePath());
      } catch (IOException e) {
        throw HearthException.failedPrecondition(
            "cannot read the token file %s: %s", path.toAbsolutePath(), e);
      }
      String line = text.lines().findFirst().orElse("").strip();
      return Optional.of(checked(line, "the token file " + path.toAbsolutePath()));
    }
    String variable = environment.get(ENVIRONMENT_VARIABLE);
    if (variable == null || variable.isBlank()) {
      return Optional.empty();
    }
    return Optional.of(checked(variable.strip(), "$" + ENVIRONMENT_VARIABLE));
  }

  private static BearerToken checked(String token, String source) {
    if (token.isEmpty()) {
      throw HearthException.failedPrecondition(
          "%s holds no token (its first line is empty)", source);
    }
    for (int i = 0; i < token.length(); i++) {
      char c = token.charAt(i);
      if (c < 0x21 || c > 0x7e) {
        throw HearthException.failedPrecondition(
            "the token in %s has a character a header cannot carry (position %d); tokens are"
                + " printable ASCII without spaces",
            source, i + 1);
      }
    }
    return new BearerToken(token, source);
  }

  /** {@return the value of the {@code authorization} header: {@code Bearer <token>}} */
  public String headerValue() {
    return "Bearer " + token;
  }

  /** {@return credentials that add the {@code authorization} header to every gRPC call} */
  public CallCredentials callCredentials() {
    return new CallCredentials() {
      @Override
      public void applyRequestMetadata(
          RequestInfo requestInfo, Executor appExecutor, MetadataApplier applier) {
        try {
          Metadata headers = new Metadata();
          headers.put(AUTHORIZATION, headerValue());
          applier.apply(headers);
        } catch (RuntimeException e) {
          applier.fail(Status.UNAUTHENTICATED.withDescription("cannot add the token").withCause(e));
        }
      }
    };
  }

  /** {@return where the token came from, never the token itself} */
  @Override
  public String toString() {
    return "bearer token from " + source;
  }
}
