package build.hearth.core.cas;

import build.bazel.remote.execution.v2.Directory;
import build.hearth.api.ContentAddressableStorage.TreePage;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Pages a directory tree for GetTree, in time linear in the tree.
 *
 * <p>A page token is {@code v1:<cursor>:<position>:<root>}: a random cursor id, how many
 * directories the walk has returned, and the start of the root's hash. When a page ends before the
 * tree does, its {@link TreeWalk} is kept in a small table under the cursor id, and the next page
 * continues it where it stopped, reading no directory twice. The table is bounded (at most {@value
 * #MAX_CURSORS} walks holding at most {@value #MAX_HELD_DIGESTS} digests together, the least
 * recently used dropped first), so a cursor may be gone when its token comes back: after a restart,
 * when many trees are paged at once, or for a tree too large to keep. Then the token's position is
 * enough to start over and skip that many directories, which costs a re-walk but stays correct, as
 * the old stateless tokens did. A walk is taken out of the table while a request uses it, so two
 * requests with one token never share one.
 *
 * <p>A token that is not of this form, or that was issued for another root, is INVALID_ARGUMENT.
 *
 * <p>Thread-safe: the table is guarded by its monitor, held for map operations only, never while a
 * directory is read.
 */
final class TreeReader {
  static final int DEFAULT_PAGE_SIZE = 1000;
  static final int MAX_PAGE_SIZE = 10_000;

  /** How many walks the table keeps; each is one GetTree call's state between pages. */
  static final int MAX_CURSORS = 64;

  /**
   * How many digests the kept walks may hold together (about 150 bytes each, so 15 MB): a tree with
   * more directories than this is paged by re-walking, rather than held.
   */
  static final int MAX_HELD_DIGESTS = 100_000;

  private static final Pattern TOKEN =
      Pattern.compile("v1:([A-Za-z0-9_-]{22}):([0-9]{1,18}):([0-9a-f]{16})");

  private final VerifyingContentAddressableStorage cas;
  private final SecureRandom random = new SecureRandom();
  private final LinkedHashMap<String, TreeWalk> cursors = new LinkedHashMap<>(16, 0.75f, true);
  private long heldDigests;

  TreeReader(VerifyingContentAddressableStorage cas) {
    this.cas = cas;
  }

  TreePage page(Digest root, int pageSize, String pageToken) {
    if (pageSize < 0) {
      throw HearthException.invalidArgument("page_size %d is negative", pageSize);
    }
    int size = pageSize == 0 ? DEFAULT_PAGE_SIZE : Math.min(pageSize, MAX_PAGE_SIZE);
    String cursor;
    TreeWalk walk;
    if (pageToken.isEmpty()) {
      cursor = newCursor();
      walk = TreeWalk.start(cas, root);
    } else {
      Matcher token = parse(pageToken, root);
      cursor = token.group(1);
      long position = Long.parseLong(token.group(2));
      walk = take(cursor, root, position);
      if (walk == null) {
        walk = TreeWalk.start(cas, root);
        if (!walk.skip(position)) {
          throw HearthException.invalidArgument(
              "page_token '%s' is past the end of the tree under %s", pageToken, root);
        }
      }
    }
    List<Directory> page = walk.next(size);
    if (walk.done()) {
      return new TreePage(page, "");
    }
    String next = "v1:" + cursor + ":" + walk.position() + ":" + rootTag(root);
    keep(cursor, walk);
    return new TreePage(page, next);
  }

  /** {@return how many walks the table holds, for tests} */
  synchronized int cursors() {
    return cursors.size();
  }

  private static Matcher parse(String pageToken, Digest root) {
    Matcher token = TOKEN.matcher(pageToken);
    if (!token.matches()) {
      throw HearthException.invalidArgument(
          "page_token '%s' was not issued by this server; start again with an empty token",
          abbreviate(pageToken));
    }
    if (!token.group(3).equals(rootTag(root))) {
      throw HearthException.invalidArgument(
          "page_token '%s' was issued for another root_digest than %s; start again with an empty"
              + " token",
          pageToken, root);
    }
    return token;
  }

  private static String rootTag(Digest root) {
    return root.hash().substring(0, 16);
  }

  private static String abbreviate(String token) {
    return token.length() <= 80 ? token : token.substring(0, 77) + "...";
  }

  private String newCursor() {
    byte[] id = new byte[16];
    random.nextBytes(id);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(id);
  }

  /** The walk kept under {@code cursor} if it is at {@code position} of {@code root}, else null. */
  private synchronized TreeWalk take(String cursor, Digest root, long position) {
    TreeWalk walk = cursors.remove(cursor);
    if (walk == null) {
      return null;
    }
    heldDigests -= walk.heldDigests();
    return walk.root().equals(root) && walk.position() == position ? walk : null;
  }

  private synchronized void keep(String cursor, TreeWalk walk) {
    int held = walk.heldDigests();
    if (held > MAX_HELD_DIGESTS) {
      return; // the next page re-walks; holding it would crowd out every other walk
    }
    TreeWalk replaced = cursors.put(cursor, walk);
    if (replaced != null) {
      heldDigests -= replaced.heldDigests();
    }
    heldDigests += held;
    Iterator<Map.Entry<String, TreeWalk>> eldest = cursors.entrySet().iterator();
    while (cursors.size() > MAX_CURSORS || heldDigests > MAX_HELD_DIGESTS) {
      TreeWalk dropped = eldest.next().getValue();
      heldDigests -= dropped.heldDigests();
      eldest.remove();
    }
  }
}
