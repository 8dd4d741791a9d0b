package build.hearth.e2e;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Fingerprints of the files a build left behind, to compare two builds byte for byte. */
final class OutputFiles {
  private OutputFiles() {}

  /**
   * The SHA-256 of every regular file under {@code root}, keyed by its path relative to {@code
   * root} with {@code /} separators, in path order. Symbolic links are followed, starting with
   * {@code root} itself (typically the {@code bazel-bin} convenience symlink), so files inside
   * directory outputs and files a sandbox or runfiles tree links to are all included. Files are
   * streamed, never loaded whole.
   */
  static SortedMap<String, String> sha256(Path root) {
    SortedMap<String, String> digests = new TreeMap<>();
    try {
      Path start = root.toRealPath();
      List<Path> files;
      try (Stream<Path> walk = Files.walk(start, FileVisitOption.FOLLOW_LINKS)) {
        files = walk.filter(Files::isRegularFile).toList();
      }
      for (Path file : files) {
        digests.put(start.relativize(file).toString().replace('\\', '/'), sha256Of(file));
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot fingerprint the files under " + root, e);
    }
    return digests;
  }

  private static String sha256Of(Path file) throws IOException {
    MessageDigest digest;
    try {
      digest = MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK provides SHA-256", e);
    }
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(digest.digest());
  }
}
