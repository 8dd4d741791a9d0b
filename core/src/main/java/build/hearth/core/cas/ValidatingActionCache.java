package build.hearth.core.cas;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.OutputDirectory;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.Tree;
import build.hearth.api.ActionCache;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.spi.storage.ActionCacheStore;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Parser;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An action cache that never hands out a result whose blobs are gone: before a hit is returned,
 * every blob it references (output files, the trees of output directories and every file in them,
 * or, for an output directory given only by its root Directory, every Directory below it and their
 * files; stdout and stderr) is looked up in the CAS, and a result with a missing blob is a miss.
 * The same check guards writes, so a client cannot store a result others could not download.
 */
final class ValidatingActionCache implements ActionCache {
  private static final Logger log = LoggerFactory.getLogger(ValidatingActionCache.class);

  private final ActionCacheStore store;
  private final ContentAddressableStorage cas;

  ValidatingActionCache(ActionCacheStore store, ContentAddressableStorage cas) {
    this.store = store;
    this.cas = cas;
  }

  @Override
  public Optional<ActionResult> get(Digest actionDigest) {
    Optional<byte[]> entry = store.get(actionDigest);
    if (entry.isEmpty()) {
      return Optional.empty();
    }
    ActionResult result;
    try {
      result = ActionResult.parseFrom(entry.get());
    } catch (InvalidProtocolBufferException e) {
      log.warn("Dropping unreadable action-cache entry for {}: {}", actionDigest, e.getMessage());
      store.remove(actionDigest);
      return Optional.empty();
    }
    Set<Digest> missing = missingBlobs(result);
    if (!missing.isEmpty()) {
      log.debug(
          "Action {} is a miss: {} referenced blobs are gone, e.g. {}",
          actionDigest,
          missing.size(),
          missing.iterator().next());
      return Optional.empty();
    }
    return Optional.of(result);
  }

  @Override
  public void put(Digest actionDigest, ActionResult result) {
    Set<Digest> missing = missingBlobs(result);
    if (!missing.isEmpty()) {
      throw HearthException.failedPrecondition(
          "action result for %s references %d blobs that are not in the CAS (first: %s); upload"
              + " the outputs before the result",
          actionDigest, missing.size(), missing.iterator().next());
    }
    store.put(actionDigest, result.toByteArray());
  }

  /** The blobs {@code result} references that the CAS lacks; empty when it is complete. */
  Set<Digest> missingBlobs(ActionResult result) {
    Set<Digest> referenced = new LinkedHashSet<>();
    for (OutputFile file : result.getOutputFilesList()) {
      referenced.add(Digest.fromProto(file.getDigest()));
    }
    if (result.hasStdoutDigest()) {
      referenced.add(Digest.fromProto(result.getStdoutDigest()));
    }
    if (result.hasStderrDigest()) {
      referenced.add(Digest.fromProto(result.getStderrDigest()));
    }
    // An output directory comes as a Tree (tree_digest), as a root Directory whose children are
    // separate CAS blobs (root_directory_digest, the DIRECTORY_ONLY format), or as both.
    Set<Digest> trees = new LinkedHashSet<>();
    Set<Digest> roots = new LinkedHashSet<>();
    for (OutputDirectory directory : result.getOutputDirectoriesList()) {
      if (directory.hasTreeDigest()) {
        trees.add(Digest.fromProto(directory.getTreeDigest()));
      } else if (directory.hasRootDirectoryDigest()) {
        roots.add(Digest.fromProto(directory.getRootDirectoryDigest()));
      } else {
        throw HearthException.invalidArgument(
            "output directory %s has neither a tree_digest nor a root_directory_digest",
            directory.getPath());
      }
    }
    referenced.addAll(trees);
    referenced.addAll(roots);
    Set<Digest> missing = cas.findMissing(referenced);
    if (!missing.isEmpty()) {
      return missing;
    }
    // The trees are all present: their files must be too, or the client could not download them.
    Set<Digest> files = new LinkedHashSet<>();
    for (Digest treeDigest : trees) {
      Tree tree = parse(treeDigest, Tree.parser(), "Tree");
      collectFiles(tree.getRoot(), files);
      for (Directory child : tree.getChildrenList()) {
        collectFiles(child, files);
      }
    }
    missing = missingUnderRoots(roots, files);
    return missing.isEmpty() ? cas.findMissing(files) : missing;
  }

  /**
   * Walks the Directory blobs below {@code roots} level by level, one FindMissing per level and
   * each distinct directory read once, adding their files to {@code files}; returns the directories
   * that are missing, empty when all are present.
   */
  private Set<Digest> missingUnderRoots(Set<Digest> roots, Set<Digest> files) {
    Set<Digest> seen = new LinkedHashSet<>(roots);
    Set<Digest> level = roots;
    while (!level.isEmpty()) {
      Set<Digest> next = new LinkedHashSet<>();
      for (Digest digest : level) {
        Directory directory = parse(digest, Directory.parser(), "Directory");
        collectFiles(directory, files);
        for (DirectoryNode child : directory.getDirectoriesList()) {
          Digest childDigest = Digest.fromProto(child.getDigest());
          if (seen.add(childDigest)) {
            next.add(childDigest);
          }
        }
      }
      Set<Digest> missing = cas.findMissing(next);
      if (!missing.isEmpty()) {
        return missing;
      }
      level = next;
    }
    return Set.of();
  }

  /** Reads the blob {@code digest} of an output directory as a {@code type} message. */
  private <M> M parse(Digest digest, Parser<M> parser, String type) {
    try {
      return parser.parseFrom(cas.get(digest));
    } catch (InvalidProtocolBufferException e) {
      throw HearthException.invalidArgument(
          "output directory blob %s is not a %s message: %s", digest, type, e.getMessage());
    }
  }

  private static void collectFiles(Directory directory, Set<Digest> into) {
    for (FileNode file : directory.getFilesList()) {
      into.add(Digest.fromProto(file.getDigest()));
    }
  }
}
