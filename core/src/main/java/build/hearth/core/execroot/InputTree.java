package build.hearth.core.execroot;

import build.bazel.remote.execution.v2.Directory;
import build.hearth.api.Digest;
import java.util.Map;
import java.util.Set;

/**
 * An input tree that {@link InputTreeValidator} accepted.
 *
 * @param root the digest of the root {@code Directory}
 * @param directories every distinct directory of the tree, by digest
 * @param files the distinct non-empty file digests the tree needs
 * @param entries how many files, directories and symlinks the materialized tree holds, counting a
 *     directory that appears twice twice
 */
record InputTree(Digest root, Map<Digest, Directory> directories, Set<Digest> files, long entries) {
  InputTree {
    directories = Map.copyOf(directories);
    files = Set.copyOf(files);
  }

  Directory directory(Digest digest) {
    Directory directory = directories.get(digest);
    if (directory == null) {
      throw new IllegalStateException("directory " + digest + " was not validated");
    }
    return directory;
  }
}
