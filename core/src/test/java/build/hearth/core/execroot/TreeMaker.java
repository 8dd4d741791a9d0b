package build.hearth.core.execroot;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;

/** Builds REAPI directories and stores them, with their files, in a CAS. */
final class TreeMaker {
  private final ContentAddressableStorage cas;

  TreeMaker(ContentAddressableStorage cas) {
    this.cas = cas;
  }

  /** Stores {@code text} and returns its digest. */
  Digest blob(String text) {
    return cas.put(ByteString.copyFromUtf8(text));
  }

  /** Stores {@code directory} and returns its digest. */
  Digest put(Directory directory) {
    return cas.put(directory.toByteString());
  }

  /** Stores {@code directory} and returns the node naming it {@code name}. */
  DirectoryNode dir(String name, Directory directory) {
    return DirectoryNode.newBuilder().setName(name).setDigest(put(directory).toProto()).build();
  }

  /** A file node for {@code text}, stored in the CAS. */
  FileNode file(String name, String text) {
    return fileNode(name, blob(text), false);
  }

  /** An executable file node for {@code text}, stored in the CAS. */
  FileNode executable(String name, String text) {
    return fileNode(name, blob(text), true);
  }

  static FileNode fileNode(String name, Digest digest, boolean executable) {
    return FileNode.newBuilder()
        .setName(name)
        .setDigest(digest.toProto())
        .setIsExecutable(executable)
        .build();
  }

  static SymlinkNode symlink(String name, String target) {
    return SymlinkNode.newBuilder().setName(name).setTarget(target).build();
  }

  /** The digest of {@code text}, without storing it. */
  static Digest digestOf(String text) {
    return Digest.of(text.getBytes(StandardCharsets.UTF_8));
  }
}
