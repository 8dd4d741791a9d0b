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
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Parser;
import com.google.protobuf.WireFormat;
import java.io.IOException;
import java.io.InputStream;
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

  /** How many file digests are looked up in the CAS at once. */
  static final int FILE_BATCH = 10_000;

  private final ActionCacheStore store;
  private final ContentAddressableStorage cas;
  private final DirectoryBlobs directories;

  ValidatingActionCache(
      ActionCacheStore store, ContentAddressableStorage cas, DirectoryBlobs directories) {
    this.store = store;
    this.cas = cas;
    this.directories = directories;
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
    if (onlyEmptyBlobs(result)) {
      return Set.of();
    }
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
    FileChecks files = new FileChecks();
    for (Digest treeDigest : trees) {
      missing = checkTree(treeDigest, files);
      if (!missing.isEmpty()) {
        return missing;
      }
    }
    missing = missingUnderRoots(roots, files);
    return missing.isEmpty() ? files.flush() : missing;
  }

  /**
   * Whether {@code result} references no blob but the empty one (a command without output files or
   * directories whose stdout and stderr are empty or absent: most build actions' results on a
   * re-run, and every trivial one). Every CAS holds the empty blob, so there is nothing to look up;
   * answering here spares the parse of each digest, the sets and the CAS call on the hot path of
   * every such action.
   */
  private static boolean onlyEmptyBlobs(ActionResult result) {
    if (result.getOutputDirectoriesCount() > 0) {
      return false;
    }
    for (OutputFile file : result.getOutputFilesList()) {
      if (!isEmptyBlob(file.getDigest())) {
        return false;
      }
    }
    return (!result.hasStdoutDigest() || isEmptyBlob(result.getStdoutDigest()))
        && (!result.hasStderrDigest() || isEmptyBlob(result.getStderrDigest()));
  }

  private static boolean isEmptyBlob(build.bazel.remote.execution.v2.Digest digest) {
    return digest.getSizeBytes() == 0 && Digest.EMPTY.hash().equals(digest.getHash());
  }

  /**
   * The file digests met while checking a result, looked up in the CAS in batches of {@value
   * #FILE_BATCH}, so that a result with millions of files is checked in bounded memory.
   */
  private final class FileChecks {
    private final Set<Digest> pending = new LinkedHashSet<>();

    /** Adds the files of {@code directory}; returns what a full batch found missing. */
    Set<Digest> add(Directory directory) {
      for (FileNode file : directory.getFilesList()) {
        pending.add(Digest.fromProto(file.getDigest()));
      }
      return pending.size() >= FILE_BATCH ? flush() : Set.of();
    }

    /** Looks up the files added since the last flush. */
    Set<Digest> flush() {
      if (pending.isEmpty()) {
        return Set.of();
      }
      Set<Digest> missing = cas.findMissing(pending);
      pending.clear();
      return missing;
    }
  }

  /**
   * Checks the files of the {@code Tree} blob {@code treeDigest}, parsed one {@code Directory} at a
   * time from the blob's stream, never whole.
   *
   * <p>Why the check is not remembered per tree between hits: it is a presence check, and the blobs
   * it looks for can be evicted at any time; remembering that a tree was complete would need its
   * list of files (as large as the tree) to look them up again, which is the work saved.
   */
  private Set<Digest> checkTree(Digest treeDigest, FileChecks files) {
    directories.checkTree(treeDigest, "output directory");
    try (InputStream in = cas.read(treeDigest, 0, 0)) {
      CodedInputStream input = CodedInputStream.newInstance(in);
      input.setSizeLimit(Integer.MAX_VALUE); // above maxTreeBytes, checked from the digest
      while (true) {
        int tag = input.readTag();
        if (tag == 0) {
          return Set.of();
        }
        int field = WireFormat.getTagFieldNumber(tag);
        if ((field == Tree.ROOT_FIELD_NUMBER || field == Tree.CHILDREN_FIELD_NUMBER)
            && WireFormat.getTagWireType(tag) == WireFormat.WIRETYPE_LENGTH_DELIMITED) {
          int length = input.readRawVarint32();
          if (length < 0 || length > directories.maxDirectoryBytes()) {
            throw HearthException.invalidArgument(
                "output directory: Tree blob %s holds a Directory of %d bytes, over the %d bytes"
                    + " (maxDirectorySize) this server reads for one Directory",
                treeDigest, length, directories.maxDirectoryBytes());
          }
          int limit = input.pushLimit(length);
          Directory directory = Directory.parseFrom(input);
          input.popLimit(limit);
          Set<Digest> missing = files.add(directory);
          if (!missing.isEmpty()) {
            return missing;
          }
        } else if (!input.skipField(tag)) {
          return Set.of();
        }
      }
    } catch (InvalidProtocolBufferException e) {
      throw HearthException.invalidArgument(
          "output directory blob %s is not a Tree message: %s", treeDigest, e.getMessage());
    } catch (IOException e) {
      throw HearthException.internal(
          "reading output directory blob " + treeDigest + " failed: " + e.getMessage(), e);
    }
  }

  /**
   * Walks the Directory blobs below {@code roots} level by level, one FindMissing per level and
   * each distinct directory read once, adding their files to {@code files}; returns the directories
   * that are missing, empty when all are present.
   */
  private Set<Digest> missingUnderRoots(Set<Digest> roots, FileChecks files) {
    Set<Digest> seen = new LinkedHashSet<>(roots);
    Set<Digest> level = roots;
    while (!level.isEmpty()) {
      Set<Digest> next = new LinkedHashSet<>();
      for (Digest digest : level) {
        directories.checkDirectory(digest, "output directory");
        Directory directory = parse(digest, Directory.parser(), "Directory");
        Set<Digest> missingFiles = files.add(directory);
        if (!missingFiles.isEmpty()) {
          return missingFiles;
        }
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
}
