package build.hearth.core.execroot;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Command.OutputDirectoryFormat;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.OutputDirectory;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.OutputSymlink;
import build.bazel.remote.execution.v2.SymlinkNode;
import build.bazel.remote.execution.v2.Tree;
import build.hearth.api.BlobUpload;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Collects what an action left at its output paths into a CAS and describes it in an {@code
 * ActionResult}: regular files as {@code OutputFile}s, directories as {@code Tree}s, symlinks as
 * {@code OutputSymlink}s. An output that does not exist is left out.
 *
 * <p>Nothing is ever read through a symlink the action made: a symlink at an output path, or inside
 * an output directory, is reported with its target and not followed, and files are opened with
 * {@code O_NOFOLLOW}. The directories leading to an output may be symlinks as long as they resolve
 * inside the exec root; an output behind one that leads outside is treated as absent. This relies
 * on the action's processes being gone; a process still running could swap a directory for a
 * symlink between the check and the read.
 *
 * <p>Files are hashed and uploaded as streams; a file already in the CAS is not uploaded again.
 * Used by one thread, for one action.
 */
final class OutputCollector {
  private static final Logger log = LoggerFactory.getLogger(OutputCollector.class);
  private static final int CHUNK = 64 * 1024;

  private enum Kind {
    FILE,
    DIRECTORY,
    ANY
  }

  private record Requested(String path, List<String> components, Kind kind) {}

  private final Path execRoot;
  private final ContentAddressableStorage target;
  private final Set<Digest> present = new HashSet<>();
  private final byte[] buffer = new byte[CHUNK];

  /**
   * @param execRoot the exec root, as a real path (no symlinks in it)
   */
  OutputCollector(Path execRoot, ContentAddressableStorage target) {
    this.execRoot = execRoot;
    this.target = target;
  }

  /**
   * Collects the outputs {@code command} names into {@code result}. Since REAPI v2.1 {@code
   * output_paths} lists them, and the older {@code output_files} and {@code output_directories} are
   * then ignored; otherwise those are used, with their symlinks reported in both the old and the
   * new fields.
   *
   * @throws HearthException INVALID_ARGUMENT (before anything is uploaded) for an output path that
   *     is absolute, malformed or leaves the exec root; FAILED_PRECONDITION if an {@code
   *     output_files} path is a directory or an {@code output_directories} path is a file
   */
  void collect(Command command, ActionResult.Builder result) {
    List<Requested> requests = requests(command);
    OutputDirectoryFormat format = command.getOutputDirectoryFormat();
    for (Requested request : requests) {
      try {
        collectOne(request, format, result);
      } catch (IOException e) {
        throw FileTrees.failure("collect the output", execRoot.resolve(request.path), e);
      }
    }
  }

  static List<String> workingDirectory(Command command) {
    return RelativePaths.resolve(
        List.of(),
        command.getWorkingDirectory(),
        "working_directory '" + command.getWorkingDirectory() + "'");
  }

  /** Every output path of {@code command}, resolved against its working directory. */
  static List<List<String>> outputPaths(Command command) {
    return requests(command).stream().map(Requested::components).toList();
  }

  @SuppressWarnings("deprecation") // the pre-2.1 fields, which older clients still send
  private static List<Requested> requests(Command command) {
    List<String> workingDirectory = workingDirectory(command);
    List<Requested> requests = new ArrayList<>();
    if (command.getOutputPathsCount() > 0) {
      for (String path : new LinkedHashSet<>(command.getOutputPathsList())) {
        requests.add(request(workingDirectory, path, Kind.ANY));
      }
    } else {
      for (String path : new LinkedHashSet<>(command.getOutputFilesList())) {
        requests.add(request(workingDirectory, path, Kind.FILE));
      }
      for (String path : new LinkedHashSet<>(command.getOutputDirectoriesList())) {
        requests.add(request(workingDirectory, path, Kind.DIRECTORY));
      }
    }
    return requests;
  }

  private static Requested request(List<String> workingDirectory, String path, Kind kind) {
    List<String> components =
        RelativePaths.resolve(workingDirectory, path, "output path '" + path + "'");
    return new Requested(path, components, kind);
  }

  @SuppressWarnings("deprecation") // the pre-2.1 symlink fields, filled for older clients
  private void collectOne(
      Requested request, OutputDirectoryFormat format, ActionResult.Builder result)
      throws IOException {
    Path location = locate(request);
    PosixFileAttributes attributes =
        location == null ? null : FileTrees.posixAttributesOrNull(location);
    if (attributes == null) {
      return;
    }
    if (attributes.isSymbolicLink()) {
      OutputSymlink symlink =
          OutputSymlink.newBuilder()
              .setPath(request.path)
              .setTarget(Files.readSymbolicLink(location).toString())
              .build();
      result.addOutputSymlinks(symlink);
      if (request.kind == Kind.FILE) {
        result.addOutputFileSymlinks(symlink);
      } else if (request.kind == Kind.DIRECTORY) {
        result.addOutputDirectorySymlinks(symlink);
      }
    } else if (attributes.isDirectory()) {
      if (request.kind == Kind.FILE) {
        throw HearthException.failedPrecondition(
            "output file '%s' is a directory; list it in output_directories", request.path);
      }
      result.addOutputDirectories(directory(request.path, location, format));
    } else if (attributes.isRegularFile()) {
      if (request.kind == Kind.DIRECTORY) {
        throw HearthException.failedPrecondition(
            "output directory '%s' is a file; list it in output_files", request.path);
      }
      result.addOutputFiles(
          OutputFile.newBuilder()
              .setPath(request.path)
              .setDigest(uploadFile(location).toProto())
              .setIsExecutable(isExecutable(attributes))
              .build());
    } else {
      log.debug("Output {} is neither a file, a directory nor a symlink; left out", location);
    }
  }

  /**
   * Where the output is, with the directories leading to it resolved; null if they do not exist or
   * lead out of the exec root.
   */
  private Path locate(Requested request) throws IOException {
    List<String> components = request.components;
    if (components.isEmpty()) {
      return execRoot;
    }
    Path parent =
        execRoot.resolve(RelativePaths.join(components.subList(0, components.size() - 1)));
    Path realParent;
    try {
      realParent = parent.toRealPath();
    } catch (NoSuchFileException e) {
      return null;
    } catch (FileSystemException e) {
      return null; // for example, a file where a directory should be
    }
    if (!realParent.startsWith(execRoot)) {
      log.info(
          "Output '{}' lies behind a symlink that leads out of the exec root; left out",
          request.path);
      return null;
    }
    return realParent.resolve(components.get(components.size() - 1));
  }

  private OutputDirectory directory(String path, Path location, OutputDirectoryFormat format)
      throws IOException {
    Map<Digest, Directory> children = new LinkedHashMap<>();
    Directory root = readDirectory(location, children);
    OutputDirectory.Builder output = OutputDirectory.newBuilder().setPath(path);
    if (format != OutputDirectoryFormat.DIRECTORY_ONLY) {
      Tree tree = Tree.newBuilder().setRoot(root).addAllChildren(children.values()).build();
      output.setTreeDigest(putMessage(tree.toByteString()).toProto());
      // Children are listed after their descendants, and shared ones once: not topological.
      output.setIsTopologicallySorted(false);
    }
    if (format == OutputDirectoryFormat.DIRECTORY_ONLY
        || format == OutputDirectoryFormat.TREE_AND_DIRECTORY) {
      for (Directory child : children.values()) {
        putMessage(child.toByteString());
      }
      output.setRootDirectoryDigest(putMessage(root.toByteString()).toProto());
    }
    return output.build();
  }

  /** Builds the Directory of {@code dir}, adding every distinct descendant to {@code children}. */
  private Directory readDirectory(Path dir, Map<Digest, Directory> children) throws IOException {
    List<Path> entries = new ArrayList<>();
    try (DirectoryStream<Path> stream = Files.newDirectoryStream(dir)) {
      stream.forEach(entries::add);
    }
    entries.sort((a, b) -> Names.compare(a.getFileName().toString(), b.getFileName().toString()));
    Directory.Builder directory = Directory.newBuilder();
    for (Path entry : entries) {
      PosixFileAttributes attributes = FileTrees.posixAttributesOrNull(entry);
      if (attributes == null) {
        continue;
      }
      String name = entry.getFileName().toString();
      if (attributes.isSymbolicLink()) {
        directory.addSymlinks(
            SymlinkNode.newBuilder()
                .setName(name)
                .setTarget(Files.readSymbolicLink(entry).toString()));
      } else if (attributes.isDirectory()) {
        Directory child = readDirectory(entry, children);
        Digest digest = Digest.of(child.toByteString());
        children.putIfAbsent(digest, child);
        directory.addDirectories(
            DirectoryNode.newBuilder().setName(name).setDigest(digest.toProto()));
      } else if (attributes.isRegularFile()) {
        directory.addFiles(
            FileNode.newBuilder()
                .setName(name)
                .setDigest(uploadFile(entry).toProto())
                .setIsExecutable(isExecutable(attributes)));
      } else {
        log.debug("{} is neither a file, a directory nor a symlink; left out of its tree", entry);
      }
    }
    return directory.build();
  }

  private Digest putMessage(ByteString bytes) {
    Digest digest = Digest.of(bytes);
    if (present.add(digest) && !target.contains(digest)) {
      target.put(digest, bytes);
    }
    return digest;
  }

  /** Hashes {@code file}, then uploads it unless the CAS has it: two streaming reads, no buffer. */
  private Digest uploadFile(Path file) throws IOException {
    Digest digest = FileTrees.hash(file, buffer);
    if (present.contains(digest) || target.contains(digest)) {
      present.add(digest);
      return digest;
    }
    try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS);
        BlobUpload upload = target.startUpload(digest)) {
      int n;
      while ((n = in.read(buffer)) > 0) {
        upload.write(buffer, 0, n);
      }
      upload.commit();
    } catch (HearthException e) {
      if (e.code() == StatusCode.INVALID_ARGUMENT) {
        throw new HearthException(
            StatusCode.FAILED_PRECONDITION,
            "output file "
                + execRoot.relativize(file)
                + " changed while it was uploaded; is a process of the action still running?",
            e);
      }
      throw e;
    }
    present.add(digest);
    return digest;
  }

  private static boolean isExecutable(PosixFileAttributes attributes) {
    return attributes.permissions().contains(PosixFilePermission.OWNER_EXECUTE);
  }
}
