package build.hearth.core.storage;

import build.hearth.api.Digest;
import build.hearth.spi.storage.StoreSettings;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies a filesystem store's directory at rest: re-hashes every blob under {@code blobs/} and
 * deletes those whose content does not match their name, and checks the frame ({@link
 * ActionCacheEntryFrame}) of every action-cache entry under {@code ac/} and deletes damaged ones.
 * Works on the files, not through an open store, so it runs while a server uses the directory: blob
 * and entry files are only ever replaced whole by a rename, so a file it reads is complete, and a
 * server that later looks up a deleted file finds it gone and treats it as a miss.
 *
 * <p>Stateless; each call walks the directory once.
 */
public final class StoreVerifier {
  private static final Logger log = LoggerFactory.getLogger(StoreVerifier.class);

  private StoreVerifier() {}

  /**
   * The outcome for one directory.
   *
   * @param checked files looked at
   * @param good files that verified
   * @param removed files deleted because their content did not match
   * @param removedBytes the bytes those files held
   */
  public record Report(long checked, long good, long removed, long removedBytes) {
    Report plus(Report other) {
      return new Report(
          checked + other.checked,
          good + other.good,
          removed + other.removed,
          removedBytes + other.removedBytes);
    }
  }

  /**
   * Verifies the blobs ({@code root/blobs}) and action-cache entries ({@code root/ac}) under {@code
   * root}, a filesystem store's {@code path}; either may be absent.
   *
   * @throws UncheckedIOException if a directory cannot be listed or a file read
   */
  public static Report verify(Path root) {
    return verifyBlobs(root.resolve("blobs")).plus(verifyActionCache(root.resolve("ac")));
  }

  /**
   * The directory to verify for a configured store: a {@code filesystem} store's {@code path}, and
   * for a {@code tiered} store its local tier's, when that is a filesystem store. A tiered store's
   * shared tier is left out: it is shared by every server and verified by itself (as a store of its
   * own, with its own tools), not once by each server in front of it.
   *
   * @param type the store's {@code type}
   * @param settings the store's other fields
   * @return the directory, or empty for a store that keeps no files of its own here
   * @throws build.hearth.api.ConfigException if a needed setting is missing or malformed
   */
  public static Optional<Path> directoryOf(String type, StoreSettings settings) {
    return switch (type) {
      case "filesystem" -> Optional.of(settings.requirePath("path"));
      case "tiered" ->
          settings
              .nested("local")
              .flatMap(local -> local.string("type").flatMap(t -> directoryOf(t, local)));
      default -> Optional.empty();
    };
  }

  static Report verifyBlobs(Path blobsDir) {
    return walk(
        blobsDir,
        file -> {
          String name = file.getFileName().toString();
          if (!Digest.isValidHash(name)) {
            return Optional.of("the file's name is not a SHA-256 hash");
          }
          String actual = sha256(file);
          return name.equals(actual)
              ? Optional.empty()
              : Optional.of("its content hashes to " + actual);
        });
  }

  static Report verifyActionCache(Path acDir) {
    return walk(
        acDir,
        file -> {
          String name = file.getFileName().toString();
          if (name.indexOf('-') != Digest.HASH_LENGTH) {
            return Optional.of("the file's name is not <hash>-<size>");
          }
          StringBuilder whyNot = new StringBuilder();
          return ActionCacheEntryFrame.unframe(Files.readAllBytes(file), whyNot).isPresent()
              ? Optional.empty()
              : Optional.of(whyNot.toString());
        });
  }

  private interface Check {
    /** {@return what is wrong with {@code file}; empty when it is good} */
    Optional<String> problem(Path file) throws IOException;
  }

  private static Report walk(Path dir, Check check) {
    Report report = new Report(0, 0, 0, 0);
    if (!Files.isDirectory(dir)) {
      return report;
    }
    try (DirectoryStream<Path> shards = Files.newDirectoryStream(dir, Files::isDirectory)) {
      for (Path shard : shards) {
        try (DirectoryStream<Path> files = Files.newDirectoryStream(shard, Files::isRegularFile)) {
          for (Path file : files) {
            report = report.plus(verifyOne(file, check));
          }
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot verify " + dir + ": " + e.getMessage(), e);
    }
    return report;
  }

  private static Report verifyOne(Path file, Check check) throws IOException {
    try {
      Optional<String> problem = check.problem(file);
      if (problem.isEmpty()) {
        return new Report(1, 1, 0, 0);
      }
      long size = Files.size(file);
      Files.deleteIfExists(file);
      // Each removal is said with its reason, so that an operator can tell rot from old files.
      log.warn("Removed {} ({} bytes): {}", file, size, problem.get());
      return new Report(1, 0, 1, size);
    } catch (NoSuchFileException e) {
      // Evicted by a server while this ran: nothing to verify.
      return new Report(0, 0, 0, 0);
    }
  }

  private static String sha256(Path file) throws IOException {
    MessageDigest digest = Digest.newMessageDigest();
    byte[] buffer = new byte[64 * 1024];
    try (InputStream in = Files.newInputStream(file)) {
      for (int n; (n = in.read(buffer)) > 0; ) {
        digest.update(buffer, 0, n);
      }
    }
    return HexFormat.of().formatHex(digest.digest());
  }
}
