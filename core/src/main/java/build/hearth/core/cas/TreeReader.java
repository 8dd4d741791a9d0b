package build.hearth.core.cas;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.hearth.api.ContentAddressableStorage.TreePage;
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
 * Walks a directory tree breadth first for GetTree. The page token is the number of directories
 * already returned, so it needs no server-side state and survives a restart; each page walks the
 * tree again up to where the last one stopped, which is cheap next to sending the directories. Each
 * distinct directory is returned once; subtrees missing from the CAS are left out, as REAPI allows.
 */
final class TreeReader {
  static final int DEFAULT_PAGE_SIZE = 1000;
  static final int MAX_PAGE_SIZE = 10_000;

  private final VerifyingContentAddressableStorage cas;

  TreeReader(VerifyingContentAddressableStorage cas) {
    this.cas = cas;
  }

  TreePage page(Digest root, int pageSize, String pageToken) {
    if (pageSize < 0) {
      throw HearthException.invalidArgument("page_size %d is negative", pageSize);
    }
    int size = pageSize == 0 ? DEFAULT_PAGE_SIZE : Math.min(pageSize, MAX_PAGE_SIZE);
    int skip = parseToken(pageToken);
    Optional<Directory> rootDirectory = cas.directory(root);
    if (rootDirectory.isEmpty()) {
      throw HearthException.notFound("root directory %s is not in the CAS", root);
    }

    List<Directory> page = new ArrayList<>(Math.min(size, 256));
    Set<Digest> seen = new HashSet<>();
    Queue<Directory> queue = new ArrayDeque<>();
    seen.add(root);
    queue.add(rootDirectory.get());
    int index = 0;
    while (!queue.isEmpty()) {
      Directory directory = queue.remove();
      if (index >= skip) {
        if (page.size() == size) {
          return new TreePage(page, Integer.toString(index));
        }
        page.add(directory);
      }
      index++;
      for (DirectoryNode child : directory.getDirectoriesList()) {
        Digest digest = Digest.fromProto(child.getDigest());
        if (seen.add(digest)) {
          cas.directory(digest).ifPresent(queue::add);
        }
      }
    }
    if (skip > index) {
      throw HearthException.invalidArgument(
          "page_token '%s' is past the end of the tree under %s", pageToken, root);
    }
    return new TreePage(page, "");
  }

  private static int parseToken(String token) {
    if (token.isEmpty()) {
      return 0;
    }
    try {
      int value = Integer.parseInt(token);
      if (value >= 0) {
        return value;
      }
    } catch (NumberFormatException e) {
      // Reported below.
    }
    throw HearthException.invalidArgument(
        "page_token '%s' was not issued by this server; start again with an empty token", token);
  }
}
