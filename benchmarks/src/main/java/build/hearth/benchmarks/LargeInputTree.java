package build.hearth.benchmarks;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import com.google.protobuf.ByteString;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;

/**
 * A synthetic input tree shaped like a large action's (a big classpath, many headers): {@code
 * files} distinct small files spread evenly over {@code directories} directories, two levels deep
 * below the root (about one top-level directory per 25), and the same tree with a fixed share of
 * its files changed, as the next request of a persistent worker sees it. Every blob, directories
 * included, is stored in each CAS given, so that both trees are "already in the worker's cache".
 *
 * <p>Deterministic for one set of arguments (a fixed seed picks the changed files). Immutable.
 * Public for the JMH benchmarks in {@code build.hearth.benchmarks.jmh.execroot}.
 */
public final class LargeInputTree {
  private final Digest root;
  private final Digest changedRoot;
  private final int files;
  private final int directories;
  private final int changedFiles;

  private LargeInputTree(
      Digest root, Digest changedRoot, int files, int directories, int changedFiles) {
    this.root = root;
    this.changedRoot = changedRoot;
    this.files = files;
    this.directories = directories;
    this.changedFiles = changedFiles;
  }

  /**
   * Builds both trees and stores their blobs in every CAS of {@code stores}.
   *
   * @param changedPercent the share of files whose content differs in the changed tree
   */
  public static LargeInputTree build(
      int files,
      int directories,
      int fileBytes,
      double changedPercent,
      List<ContentAddressableStorage> stores) {
    if (files < 1 || directories < 1 || fileBytes < 16) {
      throw new IllegalArgumentException("need at least 1 file, 1 directory and 16 bytes a file");
    }
    int changedFiles = (int) Math.round(files * changedPercent / 100);
    Random random = new Random(42);
    Set<Integer> changed = new HashSet<>();
    while (changed.size() < Math.min(changedFiles, files)) {
      changed.add(random.nextInt(files));
    }
    Digest root = store(shape(files, directories, fileBytes, Set.of(), stores), stores);
    Digest changedRoot = store(shape(files, directories, fileBytes, changed, stores), stores);
    return new LargeInputTree(root, changedRoot, files, directories, changed.size());
  }

  public Digest root() {
    return root;
  }

  public Digest changedRoot() {
    return changedRoot;
  }

  public int files() {
    return files;
  }

  public int directories() {
    return directories;
  }

  public int changedFiles() {
    return changedFiles;
  }

  /** Top-level directories, each with its share of the rest as subdirectories; files in all. */
  private static Directory shape(
      int files,
      int directories,
      int fileBytes,
      Set<Integer> changed,
      List<ContentAddressableStorage> stores) {
    int top = Math.max(1, directories / 25);
    List<List<FileNode>> filesOf = new ArrayList<>();
    for (int d = 0; d < directories; d++) {
      filesOf.add(new ArrayList<>());
    }
    for (int f = 0; f < files; f++) {
      byte[] content = content(f, fileBytes, changed.contains(f));
      Digest digest = store(ByteString.copyFrom(content), stores);
      filesOf
          .get(f % directories)
          .add(
              FileNode.newBuilder()
                  .setName(String.format(Locale.ROOT, "F%06d.java", f))
                  .setDigest(digest.toProto())
                  .build());
    }
    // Directories 0..top-1 are top-level; the others are spread over them as subdirectories.
    List<List<DirectoryNode>> subdirectoriesOf = new ArrayList<>();
    for (int t = 0; t < top; t++) {
      subdirectoriesOf.add(new ArrayList<>());
    }
    for (int d = top; d < directories; d++) {
      Directory sub = Directory.newBuilder().addAllFiles(filesOf.get(d)).build();
      subdirectoriesOf
          .get(d % top)
          .add(node(String.format(Locale.ROOT, "s%04d", d), store(sub.toByteString(), stores)));
    }
    Directory.Builder rootDirectory = Directory.newBuilder();
    for (int t = 0; t < top; t++) {
      Directory topDirectory =
          Directory.newBuilder()
              .addAllFiles(filesOf.get(t))
              .addAllDirectories(subdirectoriesOf.get(t))
              .build();
      rootDirectory.addDirectories(
          node(String.format(Locale.ROOT, "d%04d", t), store(topDirectory.toByteString(), stores)));
    }
    return rootDirectory.build();
  }

  private static Digest store(Directory directory, List<ContentAddressableStorage> stores) {
    return store(directory.toByteString(), stores);
  }

  private static Digest store(ByteString bytes, List<ContentAddressableStorage> stores) {
    Digest digest = null;
    for (ContentAddressableStorage cas : stores) {
      digest = cas.put(bytes);
    }
    return digest;
  }

  private static DirectoryNode node(String name, Digest digest) {
    return DirectoryNode.newBuilder().setName(name).setDigest(digest.toProto()).build();
  }

  /** Distinct for every file index and variant; padded with bytes from a per-file seed. */
  private static byte[] content(int index, int size, boolean changed) {
    byte[] bytes = new byte[size];
    new Random(index * 31L + (changed ? 7 : 0)).nextBytes(bytes);
    byte[] head =
        ("file " + index + (changed ? " changed" : "") + "\n").getBytes(StandardCharsets.UTF_8);
    System.arraycopy(head, 0, bytes, 0, Math.min(head.length, size));
    return bytes;
  }
}
