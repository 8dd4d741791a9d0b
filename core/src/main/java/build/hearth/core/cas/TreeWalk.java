package build.hearth.core.cas;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;

/**
 * One breadth-first walk of a directory tree, read as it goes: it holds the digests still to visit
 * (the frontier), the digests already met (so that each distinct directory comes once), and one
 * directory read ahead (so that it knows whether another page follows), never the directories it
 * has returned. Each directory is read once per walk. Directories missing from the CAS are left out
 * with their subtrees, as REAPI allows.
 *
 * <p>Not thread-safe: one caller at a time, which {@link TreeReader}'s cursor table ensures by
 * handing a walk to one request at a time.
 */
final class TreeWalk {
  private final VerifyingContentAddressableStorage cas;
  private final Digest root;
  private final Queue<Digest> pending = new ArrayDeque<>();
  private final Set<Digest> seen = new HashSet<>();
  private Directory ahead;
  private long position;

  private TreeWalk(VerifyingContentAddressableStorage cas, Digest root, Directory rootDirectory) {
    this.cas = cas;
    this.root = root;
    seen.add(root);
    this.ahead = rootDirectory;
    enqueueChildren(rootDirectory);
  }

  /**
   * Starts a walk at {@code root}.
   *
   * @throws HearthException NOT_FOUND if the root is not in the CAS; INVALID_ARGUMENT if it is too
   *     large or not a Directory
   */
  static TreeWalk start(VerifyingContentAddressableStorage cas, Digest root) {
    Optional<Directory> rootDirectory = cas.directory(root);
    if (rootDirectory.isEmpty()) {
      throw HearthException.notFound("root directory %s is not in the CAS", root);
    }
    return new TreeWalk(cas, root, rootDirectory.get());
  }

  /** {@return the root this walk started at} */
  Digest root() {
    return root;
  }

  /** {@return how many directories this walk has returned or skipped} */
  long position() {
    return position;
  }

  /** {@return whether every directory has been returned} */
  boolean done() {
    return ahead == null;
  }

  /** {@return how many digests this walk holds, a measure of its memory} */
  int heldDigests() {
    return pending.size() + seen.size();
  }

  /** Returns up to {@code count} directories, in breadth-first order. */
  List<Directory> next(int count) {
    List<Directory> page = new ArrayList<>(Math.min(count, 256));
    while (page.size() < count && ahead != null) {
      page.add(ahead);
      advance();
    }
    return page;
  }

  /** Passes over {@code count} directories; returns false if the tree has fewer left. */
  boolean skip(long count) {
    for (long i = 0; i < count; i++) {
      if (ahead == null) {
        return false;
      }
      advance();
    }
    return true;
  }

  private void advance() {
    position++;
    ahead = null;
    while (ahead == null && !pending.isEmpty()) {
      Optional<Directory> directory = cas.directory(pending.remove());
      if (directory.isPresent()) {
        ahead = directory.get();
        enqueueChildren(ahead);
      }
    }
  }

  private void enqueueChildren(Directory directory) {
    for (DirectoryNode child : directory.getDirectoriesList()) {
      Digest digest = Digest.fromProto(child.getDigest());
      if (seen.add(digest)) {
        pending.add(digest);
      }
    }
  }
}
