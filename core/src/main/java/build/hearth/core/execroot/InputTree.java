package build.hearth.core.execroot;

import build.bazel.remote.execution.v2.Directory;
import build.hearth.api.Digest;
import build.hearth.core.execroot.CheckedDirectories.Checked;
import java.util.Collections;
import java.util.Map;
import java.util.Set;

/**
 * An input tree that {@link InputTreeValidator} accepted.
 *
 * @param root the digest of the root {@code Directory}
 * @param directories every distinct directory of the tree, by digest, as checked (not copied: the
 *     validator hands over maps it no longer touches)
 * @param files the distinct non-empty file digests the tree needs
 * @param entries how many files, directories and symlinks the materialized tree holds, counting a
 *     directory that appears twice twice
 */
record InputTree(Digest root, Map<Digest, Checked> directories, Set<Digest> files, long entries) {
  InputTree {
    directories = Collections.unmodifiableMap(directories);
    files = Collections.unmodifiableSet(files);
  }

  Directory directory(Digest digest) {
    return checked(digest).directory();
  }

  /** The directory of {@code digest} with its entries' digests, parsed once. */
  Checked checked(Digest digest) {
    Checked checked = directories.get(digest);
    if (checked == null) {
      throw new IllegalStateException("directory " + digest + " was not validated");
    }
    return checked;
  }
}
