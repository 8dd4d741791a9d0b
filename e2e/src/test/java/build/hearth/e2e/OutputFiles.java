package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.FileVisitOption;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Fingerprints of the files a build left behind, to compare two builds byte for byte. */
final class OutputFiles {
  /**
   * The size of {@code big.bin}, the large output of the {@code cache} and {@code remote}
   * templates.
   */
  static final long BIG_FILE_SIZE = 50L * 1024 * 1024;

  private OutputFiles() {}

  /**
   * Guards the {@code cache} and {@code remote} workspace templates: the interesting shapes must be
   * among the outputs {@link #sha256} found under {@code bin}, with their content. {@code
   * morePaths} are outputs that only one template has.
   */
  static void assertTemplateOutputs(
      Path bin, SortedMap<String, String> outputs, String... morePaths) throws IOException {
    List<String> paths =
        new ArrayList<>(
            List.of(
                "chain_6.txt",
                "tree/alpha.txt",
                "tree/empty_in_tree.txt",
                "tree/nested/deeper/gamma.txt",
                "tree_listing.txt",
                "big.bin",
                "big_digest.txt",
                "empty.txt",
                "manifest.txt"));
    paths.addAll(List.of(morePaths));
    assertThat(outputs).containsKeys(paths.toArray(String[]::new));
    assertThat(Files.size(bin.resolve("big.bin"))).isEqualTo(BIG_FILE_SIZE);
    assertThat(Files.size(bin.resolve("empty.txt"))).isZero();
    assertThat(Files.readString(bin.resolve("big_digest.txt")).trim())
        .isEqualTo(outputs.get("big.bin"));
    assertThat(Files.readString(bin.resolve("chain_6.txt"))).contains("link 1", "link 6");
    assertThat(Files.readString(bin.resolve("tree_listing.txt")))
        .contains("== ./nested/deeper/gamma.txt\ngamma\n");
  }

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
    MessageDigest digest = Digest.newMessageDigest();
    try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(digest.digest());
  }
}
