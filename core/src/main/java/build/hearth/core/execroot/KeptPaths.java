package build.hearth.core.execroot;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import java.util.Collection;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The paths a sync leaves alone, as a tree of names: a node is either kept (with everything below
 * it) or lies on the way to kept paths.
 *
 * <p>The rule, as {@link ExecRoots#sync} documents it: a kept path is neither looked into, removed
 * nor created; the directories leading to it are not removed even where the input tree lacks them,
 * but their other entries are synced as usual (so they end up holding only the kept paths). The
 * input tree may not itself have an entry at a kept path, nor a file or symlink where a kept path
 * needs a directory.
 *
 * <p>Immutable once built.
 */
final class KeptPaths {
  static final KeptPaths NONE = new KeptPaths(new Node());

  /** A name on the way to kept paths, or a kept one. */
  static final class Node {
    private final Map<String, Node> children = new HashMap<>();
    private boolean kept;

    /** The node of {@code name} below this one, or null if nothing there is kept. */
    Node child(String name) {
      return children.get(name);
    }

    /** Whether this path is kept whole. */
    boolean kept() {
      return kept;
    }
  }

  private final Node root;

  private KeptPaths(Node root) {
    this.root = root;
  }

  /**
   * Parses {@code paths}, each relative to the synced directory with {@code /} between components.
   *
   * @throws IllegalArgumentException for an empty or absolute path, or one with an empty, {@code .}
   *     or {@code ..} component or a NUL
   */
  static KeptPaths of(Collection<String> paths) {
    if (paths.isEmpty()) {
      return NONE;
    }
    Node root = new Node();
    for (String path : paths) {
      Objects.requireNonNull(path, "a kept path is null");
      if (path.isEmpty() || path.startsWith("/") || path.indexOf('\0') >= 0) {
        throw new IllegalArgumentException(
            "kept path '" + path + "' must be a non-empty relative path");
      }
      Node node = root;
      for (String component : path.split("/", -1)) {
        if (component.isEmpty() || component.equals(".") || component.equals("..")) {
          throw new IllegalArgumentException(
              "kept path '" + path + "' has an empty, '.' or '..' component");
        }
        node = node.children.computeIfAbsent(component, c -> new Node());
      }
      node.kept = true;
    }
    return new KeptPaths(root);
  }

  Node root() {
    return root;
  }

  /**
   * Checks that {@code tree} leaves room for the kept paths.
   *
   * @throws HearthException INVALID_ARGUMENT naming the input that collides with a kept path
   */
  void checkAgainst(InputTree tree) {
    check(root, tree.directory(tree.root()), "", tree);
  }

  private static void check(Node node, Directory directory, String path, InputTree tree) {
    for (Map.Entry<String, Node> entry : node.children.entrySet()) {
      String name = entry.getKey();
      Node child = entry.getValue();
      String childPath = Names.join(path, name);
      DirectoryNode subdirectory = null;
      for (DirectoryNode d : directory.getDirectoriesList()) {
        if (d.getName().equals(name)) {
          subdirectory = d;
        }
      }
      boolean fileOrSymlink =
          directory.getFilesList().stream().map(FileNode::getName).anyMatch(name::equals)
              || directory.getSymlinksList().stream()
                  .map(SymlinkNode::getName)
                  .anyMatch(name::equals);
      if (child.kept && (subdirectory != null || fileOrSymlink)) {
        throw HearthException.invalidArgument(
            "input tree: '%s' is a path the persistent worker keeps for its own use, so no input"
                + " may be there; rename the input",
            childPath);
      }
      if (fileOrSymlink) {
        throw HearthException.invalidArgument(
            "input tree: '%s' is a file or symlink, but the persistent worker keeps paths below"
                + " it for its own use; rename the input",
            childPath);
      }
      if (subdirectory != null) {
        check(child, tree.directory(Digest.fromProto(subdirectory.getDigest())), childPath, tree);
      }
    }
  }
}
