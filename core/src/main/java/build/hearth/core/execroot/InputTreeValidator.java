package build.hearth.core.execroot;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.core.cas.DirectoryBlobs;
import build.hearth.core.execroot.CheckedDirectories.Checked;
import build.hearth.core.execroot.CheckedDirectories.Summary;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * Checks a whole input tree before anything of it is created or run, so that a bad tree is refused
 * with INVALID_ARGUMENT (naming the offending path) and a tree with missing directories with
 * FAILED_PRECONDITION (naming them), never half materialized.
 *
 * <p>Three passes. The first fetches every distinct directory breadth first, a level at a time, and
 * checks each one's entries: names that are single path components, each list sorted and without
 * duplicates, no name in two lists, well-formed digests, and symlink targets that are not empty
 * and, unless allowed, not absolute. The second sums up each distinct directory once (entries below
 * it, height, whether it holds symlinks), which bounds a tree whose repeated subdirectories would
 * make it enormous before anything walks it. The third walks down to every symlink, along every
 * path that reaches it, and resolves its target inside the tree: through {@code ..}, through
 * subdirectories and through other symlinks of the tree, so that {@code d -> .} plus {@code x ->
 * d/..} is caught although each target alone looks harmless.
 *
 * <p>Thread-safe if its {@link DirectorySource} is.
 */
final class InputTreeValidator {
  /** The deepest tree accepted; deeper paths would not fit in PATH_MAX anyway. */
  static final int MAX_DEPTH = 1000;

  /** As many symlinks as Linux follows in one lookup before it gives up with ELOOP. */
  static final int MAX_SYMLINK_HOPS = 40;

  private static final int NAME_MAX_BYTES = 255;
  private static final int MISSING_LISTED = 20;

  /** The default bound of the checked directories kept between trees: 64 MiB. */
  static final long DEFAULT_CHECKED_BYTES = 64L << 20;

  private final DirectorySource source;
  private final boolean allowAbsoluteSymlinks;
  private final long maxEntries;
  private final DirectoryBlobs sizeBounds;
  private final CheckedDirectories checked;

  InputTreeValidator(
      DirectorySource source,
      boolean allowAbsoluteSymlinks,
      long maxEntries,
      DirectoryBlobs sizeBounds) {
    this(
        source,
        allowAbsoluteSymlinks,
        maxEntries,
        sizeBounds,
        new CheckedDirectories(DEFAULT_CHECKED_BYTES));
  }

  /**
   * @param checked the directories checked already, shared by every tree this validator checks (its
   *     entries are only right for this validator's settings)
   */
  InputTreeValidator(
      DirectorySource source,
      boolean allowAbsoluteSymlinks,
      long maxEntries,
      DirectoryBlobs sizeBounds,
      CheckedDirectories checked) {
    this.source = source;
    this.allowAbsoluteSymlinks = allowAbsoluteSymlinks;
    this.maxEntries = maxEntries;
    this.sizeBounds = sizeBounds;
    this.checked = checked;
  }

  /**
   * Validates the tree under {@code root}.
   *
   * @throws HearthException INVALID_ARGUMENT for a malformed tree, FAILED_PRECONDITION if
   *     directories are missing, RESOURCE_EXHAUSTED if the tree has more entries than allowed
   */
  InputTree validate(Digest root) {
    Fetched fetched = fetchAndCheck(root);
    Map<Digest, Summary> summaries = new HashMap<>();
    Summary whole = summarize(root, 0, fetched, summaries);
    if (whole.entries() > maxEntries) {
      throw HearthException.resourceExhausted(
          "input tree: %s entries (counting repeated directories each time) are more than the"
              + " %d a worker materializes",
          whole.entries() == Long.MAX_VALUE ? "too many" : Long.toString(whole.entries()),
          maxEntries);
    }
    if (whole.hasSymlinks()) {
      List<Directory> ancestors = new ArrayList<>();
      ancestors.add(fetched.directories.get(root).directory());
      checkSymlinks("", ancestors, fetched, summaries);
    }
    return new InputTree(root, fetched.directories, fetched.files, whole.entries());
  }

  private record Fetched(Map<Digest, Checked> directories, Set<Digest> files) {}

  /**
   * Reads every distinct directory of the tree, a level at a time: from the checked directories
   * when they hold it, else from the source, one batch per level, checking and keeping each.
   */
  private Fetched fetchAndCheck(Digest root) {
    Map<Digest, Checked> directories = new HashMap<>();
    Set<Digest> files = new HashSet<>();
    Map<Digest, String> firstPath = new HashMap<>();
    Map<Digest, String> missing = new LinkedHashMap<>();
    firstPath.put(root, "");
    List<Digest> level = List.of(root);
    while (!level.isEmpty()) {
      List<Digest> next = new ArrayList<>();
      List<Digest> unknown = new ArrayList<>();
      for (Digest digest : level) {
        Checked known = checked.get(digest);
        if (known == null) {
          // Refused before a byte is fetched: the fetch holds each Directory whole.
          sizeBounds.checkDirectory(digest, "input tree: " + Names.show(firstPath.get(digest)));
          unknown.add(digest);
        } else {
          accept(digest, known, directories, files, firstPath, next);
        }
      }
      if (!unknown.isEmpty()) {
        Map<Digest, ByteString> blobs = source.fetch(unknown);
        for (Digest digest : unknown) {
          String path = firstPath.get(digest);
          ByteString bytes = blobs.get(digest);
          if (bytes == null) {
            missing.put(digest, path);
            continue;
          }
          Checked fresh = checkEntries(path, parse(path, digest, bytes), bytes.size());
          checked.put(digest, fresh);
          accept(digest, fresh, directories, files, firstPath, next);
        }
      }
      level = next;
    }
    if (!missing.isEmpty()) {
      String listed =
          missing.entrySet().stream()
              .limit(MISSING_LISTED)
              .map(e -> e.getKey() + " (" + Names.show(e.getValue()) + ")")
              .collect(Collectors.joining(", "));
      String more =
          missing.size() > MISSING_LISTED
              ? " and " + (missing.size() - MISSING_LISTED) + " more"
              : "";
      throw HearthException.failedPrecondition(
          "input tree: %d director%s missing from the CAS: %s%s; upload %s and retry",
          missing.size(),
          missing.size() == 1 ? "y is" : "ies are",
          listed,
          more,
          missing.size() == 1 ? "it" : "them");
    }
    return new Fetched(directories, files);
  }

  /** Adds a checked directory to the tree and queues its subdirectories not met before. */
  private static void accept(
      Digest digest,
      Checked directory,
      Map<Digest, Checked> directories,
      Set<Digest> files,
      Map<Digest, String> firstPath,
      List<Digest> next) {
    directories.put(digest, directory);
    for (Digest file : directory.fileDigests()) {
      if (!file.isEmpty()) {
        files.add(file);
      }
    }
    Digest[] children = directory.childDigests();
    if (children.length == 0) {
      return;
    }
    String path = firstPath.get(digest);
    List<DirectoryNode> nodes = directory.directory().getDirectoriesList();
    for (int i = 0; i < children.length; i++) {
      if (!firstPath.containsKey(children[i])) {
        firstPath.put(children[i], Names.join(path, nodes.get(i).getName()));
        next.add(children[i]);
      }
    }
  }

  private static Directory parse(String path, Digest digest, ByteString bytes) {
    try {
      return Directory.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw HearthException.invalidArgument(
          "input tree: %s: blob %s is not a Directory message: %s",
          Names.show(path), digest, e.getMessage());
    }
  }

  /** Checks one directory's own entries, whatever path it appears at. */
  private Checked checkEntries(String path, Directory directory, int size) {
    Set<String> names = new HashSet<>();
    String previous = null;
    Digest[] fileDigests = new Digest[directory.getFilesCount()];
    int i = 0;
    for (FileNode file : directory.getFilesList()) {
      String name = checkName(path, file.getName(), previous, names, "file");
      fileDigests[i++] = digest(Names.join(path, name), file.getDigest());
      previous = name;
    }
    previous = null;
    Digest[] childDigests = new Digest[directory.getDirectoriesCount()];
    i = 0;
    for (DirectoryNode child : directory.getDirectoriesList()) {
      previous = checkName(path, child.getName(), previous, names, "directory");
      childDigests[i++] = digest(Names.join(path, previous), child.getDigest());
    }
    previous = null;
    for (SymlinkNode symlink : directory.getSymlinksList()) {
      String name = checkName(path, symlink.getName(), previous, names, "symlink");
      checkTargetSyntax(Names.join(path, name), symlink.getTarget());
      previous = name;
    }
    return new Checked(directory, fileDigests, childDigests, size);
  }

  private static String checkName(
      String parent, String name, String previous, Set<String> names, String kind) {
    String path = Names.join(parent, name);
    String problem = null;
    if (name.isEmpty()) {
      problem = "a " + kind + " has an empty name";
    } else if (name.equals(".") || name.equals("..")) {
      problem = "name '" + name + "' is not a single path component";
    } else if (name.indexOf('/') >= 0) {
      problem = "name '" + name + "' contains '/'; it must be a single path component";
    } else if (name.indexOf('\0') >= 0) {
      problem = "name contains a NUL character";
    } else if (name.getBytes(StandardCharsets.UTF_8).length > NAME_MAX_BYTES) {
      problem = "name is longer than " + NAME_MAX_BYTES + " bytes";
    } else if (previous != null && Names.compare(previous, name) >= 0) {
      problem =
          previous.equals(name)
              ? kind + " '" + name + "' is listed twice"
              : (kind.equals("directory") ? "directories" : kind + "s")
                  + " are not sorted by name: '"
                  + previous
                  + "' comes before '"
                  + name
                  + "'";
    } else if (!names.add(name)) {
      problem = "name '" + name + "' is used by more than one of files, directories and symlinks";
    }
    if (problem != null) {
      throw HearthException.invalidArgument(
          "input tree: %s: %s", Names.show(name.isEmpty() ? parent : path), problem);
    }
    return name;
  }

  private void checkTargetSyntax(String path, String target) {
    String problem = null;
    if (target.isEmpty()) {
      problem = "symlink has an empty target";
    } else if (target.indexOf('\0') >= 0) {
      problem = "symlink target contains a NUL character";
    } else if (target.startsWith("/") && !allowAbsoluteSymlinks) {
      problem =
          "symlink target '" + target + "' is absolute, and this worker allows only relative ones";
    }
    if (problem != null) {
      throw HearthException.invalidArgument("input tree: '%s': %s", path, problem);
    }
  }

  private static Digest digest(String path, build.bazel.remote.execution.v2.Digest proto) {
    try {
      return Digest.fromProto(proto);
    } catch (HearthException e) {
      throw HearthException.invalidArgument("input tree: '%s': %s", path, e.getMessage());
    }
  }

  /**
   * What the distinct directory {@code digest} contributes, whatever path it appears at: computed
   * once per tree, and kept with the checked directories for the next tree.
   */
  private Summary summarize(
      Digest digest, int depth, Fetched fetched, Map<Digest, Summary> summaries) {
    Summary known = summaries.get(digest);
    if (known == null) {
      known = checked.summary(digest);
    }
    if (known == null) {
      if (depth > MAX_DEPTH) {
        throw tooDeep();
      }
      Checked entry = fetched.directories.get(digest);
      Directory directory = entry.directory();
      long entries =
          directory.getFilesCount()
              + directory.getDirectoriesCount()
              + directory.getSymlinksCount();
      int height = 0;
      boolean hasSymlinks = directory.getSymlinksCount() > 0;
      for (Digest child : entry.childDigests()) {
        Summary below = summarize(child, depth + 1, fetched, summaries);
        entries = saturatedAdd(entries, below.entries());
        height = Math.max(height, below.height() + 1);
        hasSymlinks |= below.hasSymlinks();
      }
      known = new Summary(entries, height, hasSymlinks);
      checked.putSummary(digest, known);
    }
    summaries.put(digest, known);
    if (depth + known.height() > MAX_DEPTH) {
      throw tooDeep();
    }
    return known;
  }

  private static HearthException tooDeep() {
    return HearthException.invalidArgument(
        "input tree: directories are nested more than %d deep", MAX_DEPTH);
  }

  private static long saturatedAdd(long a, long b) {
    long sum = a + b;
    return sum < 0 ? Long.MAX_VALUE : sum;
  }

  /** Visits every path to every symlink; only subtrees that hold symlinks are entered. */
  private void checkSymlinks(
      String path, List<Directory> ancestors, Fetched fetched, Map<Digest, Summary> summaries) {
    Directory directory = ancestors.get(ancestors.size() - 1);
    Map<Digest, Checked> directories = fetched.directories;
    for (SymlinkNode symlink : directory.getSymlinksList()) {
      if (escapes(ancestors, symlink.getTarget(), directories)) {
        throw HearthException.invalidArgument(
            "input tree: '%s': symlink target '%s' points outside the exec root",
            Names.join(path, symlink.getName()), symlink.getTarget());
      }
    }
    for (DirectoryNode child : directory.getDirectoriesList()) {
      Digest childDigest = Digest.fromProto(child.getDigest());
      // Below a directory whose summary came from an earlier tree, summarized again here: the
      // whole tree's depth is checked already, so the depth given does not matter.
      Summary below = summaries.get(childDigest);
      if (below == null) {
        below = summarize(childDigest, 0, fetched, summaries);
      }
      if (below.hasSymlinks()) {
        ancestors.add(fetched.directories.get(childDigest).directory());
        checkSymlinks(Names.join(path, child.getName()), ancestors, fetched, summaries);
        ancestors.remove(ancestors.size() - 1);
      }
    }
  }

  /**
   * Where a lookup stands while a target resolves: the known directories from the root down, plus
   * how many levels below the last one it went through names the tree does not define (an action
   * may create them, as directories; a lookup through a file fails, which is no escape either).
   */
  private static final class Cursor {
    final List<Directory> stack;
    int unknownDepth;
    boolean settled;
    int hops;

    Cursor(List<Directory> ancestors) {
      this.stack = new ArrayList<>(ancestors);
    }
  }

  private boolean escapes(
      List<Directory> ancestors, String target, Map<Digest, Checked> directories) {
    return resolve(new Cursor(ancestors), target, directories);
  }

  /** Resolves {@code target} from the cursor; true if it climbs above the root. */
  private boolean resolve(Cursor cursor, String target, Map<Digest, Checked> directories) {
    if (target.startsWith("/")) {
      // Allowed (else refused earlier): it leaves the tree by design, so there is nothing to check.
      cursor.settled = true;
      return false;
    }
    for (String component : target.split("/", -1)) {
      if (cursor.settled) {
        return false;
      }
      if (component.isEmpty() || component.equals(".")) {
        continue;
      }
      if (component.equals("..")) {
        if (cursor.unknownDepth > 0) {
          cursor.unknownDepth--;
        } else if (cursor.stack.size() == 1) {
          return true;
        } else {
          cursor.stack.remove(cursor.stack.size() - 1);
        }
        continue;
      }
      if (cursor.unknownDepth > 0) {
        cursor.unknownDepth++;
        continue;
      }
      Directory here = cursor.stack.get(cursor.stack.size() - 1);
      DirectoryNode child = find(here.getDirectoriesList(), component, DirectoryNode::getName);
      if (child != null) {
        cursor.stack.add(directories.get(Digest.fromProto(child.getDigest())).directory());
        continue;
      }
      SymlinkNode link = find(here.getSymlinksList(), component, SymlinkNode::getName);
      if (link == null) {
        cursor.unknownDepth = 1;
      } else if (++cursor.hops > MAX_SYMLINK_HOPS) {
        // A loop: the kernel gives up with ELOOP, so nothing outside is reached.
        cursor.settled = true;
      } else if (resolve(cursor, link.getTarget(), directories)) {
        return true;
      }
    }
    return false;
  }

  private static <T> T find(List<T> sorted, String name, Function<T, String> nameOf) {
    int low = 0;
    int high = sorted.size() - 1;
    while (low <= high) {
      int mid = (low + high) >>> 1;
      int order = Names.compare(nameOf.apply(sorted.get(mid)), name);
      if (order < 0) {
        low = mid + 1;
      } else if (order > 0) {
        high = mid - 1;
      } else {
        return sorted.get(mid);
      }
    }
    return null;
  }
}
