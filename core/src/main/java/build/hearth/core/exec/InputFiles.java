package build.hearth.core.exec;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.hearth.api.Digest;
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
 * sync.
 *
 * @param files every input file, by path relative to the input root, in tree order
 * @param toolInputs the paths of the files marked {@code bazel_tool_input}
 */
public record InputFiles(Map<String, Digest> files, Set<String> toolInputs) {
  public InputFiles {
    files = Collections.unmodifiableMap(new LinkedHashMap<>(files));
    toolInputs = Collections.unmodifiableSet(new LinkedHashSet<>(toolInputs));
  }

  static InputFiles of(InputTree tree) {
    Map<String, Digest> files = new LinkedHashMap<>();
    Set<String> toolInputs = new LinkedHashSet<>();
    walk(tree, tree.directory(tree.root()), "", files, toolInputs);
    return new InputFiles(files, toolInputs);
  }

  private static void walk(
      InputTree tree,
      Directory directory,
      String path,
      Map<String, Digest> files,
      Set<String> toolInputs) {
    for (FileNode file : directory.getFilesList()) {
      String filePath = Names.join(path, file.getName());
      files.put(filePath, Digest.fromProto(file.getDigest()));
      if (DirectorySync.isToolInput(file)) {
        toolInputs.add(filePath);
      }
    }
    for (DirectoryNode child : directory.getDirectoriesList()) {
      walk(
          tree,
          tree.directory(Digest.fromProto(child.getDigest())),
          Names.join(path, child.getName()),
          files,
          toolInputs);
    }
  }
}
