package build.hearth.core.execroot;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.NodeProperty;
import build.hearth.api.Digest;
import build.hearth.core.execroot.CheckedDirectories.Checked;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/**
 * The files of a validated input tree, listed without touching the file system: what {@link
 * ExecRoots#sync} would report as {@link SyncedInputs#files()} and {@link
 * SyncedInputs#toolInputs()}, known before anything is fetched or linked. A persistent worker needs
 * it to name a request's pool key (the digests of the tool files) before it has a directory to
 * sync, and then syncs from it with {@link ExecRoots#sync(InputFiles, java.nio.file.Path, Set)}, so
 * that the tree is validated once per request.
 *
 * <p>Immutable, so thread-safe.
 */
public final class InputFiles {
  /** The node property Bazel sets on the files of a persistent worker's tool. */
  private static final String TOOL_INPUT_PROPERTY = "bazel_tool_input";

  private final InputTree tree;
  private final Map<String, Digest> files;
  private final Set<String> toolInputs;

  private InputFiles(InputTree tree, Map<String, Digest> files, Set<String> toolInputs) {
    this.tree = tree;
    this.files = Collections.unmodifiableMap(files);
    this.toolInputs = Collections.unmodifiableSet(toolInputs);
  }

  /** Every input file, by path relative to the input root, in tree order. */
  public Map<String, Digest> files() {
    return files;
  }

  /** The paths of the files marked {@code bazel_tool_input}. */
  public Set<String> toolInputs() {
    return toolInputs;
  }

  /** The validated tree the files were read from. */
  InputTree tree() {
    return tree;
  }

  static InputFiles of(InputTree tree) {
    Map<String, Digest> files = new LinkedHashMap<>((int) Math.min(1 << 20, tree.entries() * 2));
    Set<String> toolInputs = new LinkedHashSet<>();
    walk(tree, tree.checked(tree.root()), "", files, toolInputs);
    return new InputFiles(tree, files, toolInputs);
  }

  private static void walk(
      InputTree tree,
      Checked checked,
      String path,
      Map<String, Digest> files,
      Set<String> toolInputs) {
    Directory directory = checked.directory();
    Digest[] fileDigests = checked.fileDigests();
    String prefix = path.isEmpty() ? "" : path + "/";
    for (int i = 0; i < fileDigests.length; i++) {
      FileNode file = directory.getFiles(i);
      String filePath = prefix + file.getName();
      files.put(filePath, fileDigests[i]);
      if (isToolInput(file)) {
        toolInputs.add(filePath);
      }
    }
    Digest[] childDigests = checked.childDigests();
    for (int i = 0; i < childDigests.length; i++) {
      walk(
          tree,
          tree.checked(childDigests[i]),
          prefix + directory.getDirectories(i).getName(),
          files,
          toolInputs);
    }
  }

  private static boolean isToolInput(FileNode file) {
    if (!file.hasNodeProperties()) {
      return false;
    }
    for (NodeProperty property : file.getNodeProperties().getPropertiesList()) {
      if (property.getName().equals(TOOL_INPUT_PROPERTY)) {
        return true;
      }
    }
    return false;
  }
}
