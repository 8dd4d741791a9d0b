package build.hearth.redis;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A Lua script run atomically in Redis, loaded from a resource next to this class. Sent by its SHA1
 * ({@code EVALSHA}); when a server does not know it yet (a fresh or restarted Redis, a new Cluster
 * node) it is sent once in full ({@code EVAL}, which also caches it there). Every key a script
 * touches shares one hash tag, so it runs on a Cluster too.
 *
 * <p>Immutable and thread-safe.
 */
final class RedisScript {
  private final String name;
  private final byte[] text;
  private final String sha;

  private RedisScript(String name, byte[] text) {
    this.name = name;
    this.text = text;
    try {
      this.sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-1").digest(text));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-1", e);
    }
  }

  /** {@return the script in resource {@code name}.lua of this package} */
  static RedisScript load(String name) {
    try (InputStream in = RedisScript.class.getResourceAsStream(name + ".lua")) {
      if (in == null) {
        throw new IllegalStateException("the script " + name + ".lua is missing from hearth-redis");
      }
      return new RedisScript(name, in.readAllBytes());
    } catch (IOException e) {
      throw new UncheckedIOException("reading the script " + name, e);
    }
  }

  /**
   * {@return this script with Redis 7's script flags in a shebang line in front, such as {@code
   * allow-cross-slot-keys}} A different text, so a different SHA1 and a script of its own in Redis.
   */
  RedisScript withFlags(String flags) {
    byte[] shebang = bytes("#!lua flags=" + flags + "\n");
    byte[] flagged = new byte[shebang.length + text.length];
    System.arraycopy(shebang, 0, flagged, 0, shebang.length);
    System.arraycopy(text, 0, flagged, shebang.length, text.length);
    return new RedisScript(name, flagged);
  }

  /** {@return the script's name, for messages} */
  String name() {
    return name;
  }

  /** Runs the script; the reply completes when Redis answers. */
  <T> CompletableFuture<T> run(
      RedisClusterAsyncCommands<byte[], byte[]> commands,
      ScriptOutputType type,
      byte[][] keys,
      byte[]... args) {
    CompletableFuture<T> bySha = commands.<T>evalsha(sha, type, keys, args).toCompletableFuture();
    return bySha.exceptionallyCompose(
        e -> {
          Throwable cause =
              e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
          if (cause instanceof RedisNoScriptException
              || String.valueOf(cause.getMessage()).startsWith("NOSCRIPT")) {
            return commands.<T>eval(text, type, keys, args).toCompletableFuture();
          }
          return CompletableFuture.failedFuture(cause);
        });
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static byte[] bytes(long n) {
    return bytes(Long.toString(n));
  }
}
