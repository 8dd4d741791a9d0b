package build.hearth.examples.buildserver;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Uploads a directory of the local disk to a CAS as REAPI {@code Directory} messages, the form in
 * which an action names its inputs. Stateless.
 */
final class CasTrees {
  private CasTrees() {}

  /**
   * Uploads every file under {@code directory} and one {@code Directory} message per directory,
   * deepest first, so that a directory is only named once everything it names is stored.
   *
   * @return the digest of the {@code Directory} message of {@code directory} itself
   */
  static Digest upload(ContentAddressableStorage cas, Path directory) {
    Directory.Builder message = Directory.newBuilder();
    // REAPI wants the entries of a Directory sorted by name (by code point, as String sorts).
    for (Path child : sortedChildren(directory)) {
      String name = child.getFileName().toString();
      if (Files.isDirectory(child)) {
        message.addDirectories(
            DirectoryNode.newBuilder().setName(name).setDigest(upload(cas, child).toProto()));
      } else if (Files.isRegularFile(child)) {
        message.addFiles(file(name, cas.put(read(child)), Files.isExecutable(child)));
      }
    }
    return cas.put(message.build().toByteString());
  }

  /** A file entry for a blob already in the CAS. */
  static FileNode file(String name, Digest digest, boolean executable) {
    return FileNode.newBuilder()
        .setName(name)
        .setDigest(digest.toProto())
        .setIsExecutable(executable)
        .build();
  }

  /** A directory entry for {@code directory}, which this uploads. */
  static DirectoryNode directory(ContentAddressableStorage cas, String name, Directory directory) {
    return DirectoryNode.newBuilder()
        .setName(name)
        .setDigest(cas.put(directory.toByteString()).toProto())
        .build();
  }

  private static List<Path> sortedChildren(Path directory) {
    try (Stream<Path> children = Files.list(directory)) {
      return children
          .sorted((a, b) -> a.getFileName().toString().compareTo(b.getFileName().toString()))
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + directory, e);
    }
  }

  private static ByteString read(Path file) {
    try {
      return ByteString.copyFrom(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
