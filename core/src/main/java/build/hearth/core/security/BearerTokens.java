package build.hearth.core.security;

import build.hearth.api.ConfigException;
import build.hearth.core.config.AccessConfig.Token;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bearer tokens a server knows, each by its SHA-256: a presented token is hashed and compared
 * with every known hash in constant time ({@link MessageDigest#isEqual}), so neither the time taken
 * nor a log line tells anything about the secret. Token files are read when the server starts and
 * again when they change. Thread-safe.
 */
final class BearerTokens {
  private static final Logger log = LoggerFactory.getLogger(BearerTokens.class);

  /** How often a token file's modification time is looked at. */
  static final Duration CHECK_EVERY = Duration.ofSeconds(2);

  private record Known(String name, Supplier<byte[]> sha256) {}

  private final List<Known> tokens;

  /**
   * Reads the token files now.
   *
   * @throws ConfigException naming the token's field if a file is missing, unreadable or empty
   */
  BearerTokens(List<Token> configured, Clock clock) {
    List<Known> known = new ArrayList<>();
    for (Token token : configured) {
      Optional<byte[]> hash = token.sha256();
      if (hash.isPresent()) {
        byte[] fixed = hash.get();
        known.add(new Known(token.name(), () -> fixed));
        continue;
      }
      WatchedFile<byte[]> file;
      try {
        file =
            new WatchedFile<>(
                token.file().orElseThrow(),
                text -> sha256(firstLine(text)),
                clock,
                CHECK_EVERY,
                e ->
                    log.warn(
                        "Keeping the previous token '{}': its file {} cannot be used now: {}",
                        token.name(),
                        token.file().orElseThrow().toAbsolutePath(),
                        e.getMessage()));
      } catch (NoSuchFileException e) {
        throw fileError(token, "no such file");
      } catch (AccessDeniedException e) {
        throw fileError(token, "permission denied");
      } catch (IOException e) {
        throw fileError(token, e.toString());
      } catch (IllegalArgumentException e) {
        throw fileError(token, e.getMessage());
      }
      known.add(new Known(token.name(), file::get));
    }
    this.tokens = List.copyOf(known);
  }

  boolean isEmpty() {
    return tokens.isEmpty();
  }

  /** The name of the token {@code presented} is, or empty if it is none of them. */
  Optional<String> match(String presented) {
    byte[] hash = sha256(presented);
    String found = null;
    // Every hash is compared, so the time taken does not depend on which one matched.
    for (Known known : tokens) {
      if (MessageDigest.isEqual(hash, known.sha256().get()) && found == null) {
        found = known.name();
      }
    }
    return Optional.ofNullable(found);
  }

  static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  /** The token in a file: its first line, without surrounding white space; never empty. */
  static String firstLine(String text) {
    int end = text.indexOf('\n');
    String line = (end < 0 ? text : text.substring(0, end)).strip();
    if (line.isEmpty()) {
      throw new IllegalArgumentException("its first line is empty; it must hold the token");
    }
    return line;
  }

  private static ConfigException fileError(Token token, String reason) {
    return new ConfigException(
        token.fieldPath(),
        token.line(),
        "cannot read the token file "
            + token.file().orElseThrow().toAbsolutePath()
            + ": "
            + reason);
  }
}
