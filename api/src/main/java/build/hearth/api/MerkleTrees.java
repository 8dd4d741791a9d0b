package build.hearth.api;

import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.SymlinkNode;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * Builds REAPI input trees, the Merkle trees of {@code Directory} messages an {@code Action}'s
 * {@code input_root_digest} names, and uploads them: the work behind {@link
 * ContentAddressableStorage#putDirectory} and {@link ContentAddressableStorage#putTree}.
 *
 * <p>Entries are sorted as REAPI prescribes (by Unicode code point, which is UTF-8 byte order),
 * every directory is listed once per distinct content, and blobs already in the store are not sent
 * again (one {@code findMissing} for the whole tree). Local files are hashed and then uploaded in
 * 64 KiB pieces, so no file is ever held in memory whole.
 */
final class MerkleTrees {
  private static final int CHUNK_BYTES = 64 * 1024;
  private static final Comparator<String> NAME_ORDER = MerkleTrees::compareNames;

  private MerkleTrees() {}

  static Digest putDirectory(ContentAddressableStorage cas, Path directory) {
    Path root = directory.toAbsolutePath().normalize();
    if (!Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
      throw new IllegalArgumentException(
          "putDirectory needs a directory, but " + directory + " is not one (or is a symlink)");
    }
    Blobs blobs = new Blobs();
    Digest digest = walk(root, root, blobs);
    blobs.upload(cas);
    return digest;
  }

  static Digest putTree(ContentAddressableStorage cas, Map<String, InputFile> files) {
    Node root = new Node();
    for (Map.Entry<String, InputFile> entry : new TreeMap<>(files).entrySet()) {
      root.add(entry.getKey(), entry.getValue());
    }
    Blobs blobs = new Blobs();
    Digest digest = root.encode(blobs);
    blobs.upload(cas);
    return digest;
  }

  private static Digest walk(Path root, Path dir, Blobs blobs) {
    List<Path> entries;
    try (Stream<Path> listing = Files.list(dir)) {
      entries = new ArrayList<>(listing.toList());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the input directory " + dir + ": " + e, e);
    }
    entries.sort(Comparator.comparing(p -> p.getFileName().toString(), NAME_ORDER));
    Directory.Builder message = Directory.newBuilder();
    for (Path entry : entries) {
      String name = entry.getFileName().toString();
      BasicFileAttributes attributes;
      try {
        attributes =
            Files.readAttributes(entry, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the input file " + entry + ": " + e, e);
      }
      if (attributes.isSymbolicLink()) {
        message.addSymlinks(
            SymlinkNode.newBuilder().setName(name).setTarget(symlinkTarget(root, entry)));
      } else if (attributes.isDirectory()) {
        message.addDirectories(
            DirectoryNode.newBuilder().setName(name).setDigest(walk(root, entry, blobs).toProto()));
      } else if (attributes.isRegularFile()) {
        Digest digest = hash(entry);
        blobs.files.putIfAbsent(digest, entry);
        message.addFiles(
            FileNode.newBuilder()
                .setName(name)
                .setDigest(digest.toProto())
                .setIsExecutable(Files.isExecutable(entry)));
      } else {
        throw new IllegalArgumentException(
            "input "
                + entry
                + " is not a regular file, a directory or a symlink; an input tree holds only"
                + " those");
      }
    }
    return blobs.message(message.build());
  }

  /**
   * The target of a symlink, as the action will see it, if it stays inside the tree: an absolute
   * target, or a relative one that climbs out of the root, would make the action read whatever the
   * worker's machine has there.
   */
  private static String symlinkTarget(Path root, Path link) {
    Path target;
    try {
      target = Files.readSymbolicLink(link);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the symlink " + link + ": " + e, e);
    }
    Path resolved = link.getParent().resolve(target).normalize();
    if (target.isAbsolute() || !resolved.startsWith(root)) {
      throw new IllegalArgumentException(
          "input symlink "
              + link
              + " points to "
              + target
              + ", outside the input directory "
              + root
              + "; an input tree may only link within itself: copy the file in, or make the"
              + " link relative and inside the tree");
    }
    return target.toString();
  }

  private static Digest hash(Path file) {
    MessageDigest sha = Digest.newMessageDigest();
    long size = 0;
    byte[] buffer = new byte[CHUNK_BYTES];
    try (InputStream in = Files.newInputStream(file)) {
      int n;
      while ((n = in.read(buffer)) > 0) {
        sha.update(buffer, 0, n);
        size += n;
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read the input file " + file + ": " + e, e);
    }
    return new Digest(HexFormat.of().formatHex(sha.digest()), size);
  }

  private static int compareNames(String a, String b) {
    int i = 0;
    int j = 0;
    while (i < a.length() && j < b.length()) {
      int ca = a.codePointAt(i);
      int cb = b.codePointAt(j);
      if (ca != cb) {
        return Integer.compare(ca, cb);
      }
      i += Character.charCount(ca);
      j += Character.charCount(cb);
    }
    return Boolean.compare(i < a.length(), j < b.length());
  }

  /** The blobs of one tree, uploaded together once it is built. */
  private static final class Blobs {
    final Map<Digest, Path> files = new LinkedHashMap<>();
    final Map<Digest, ByteString> inMemory = new LinkedHashMap<>();

    Digest message(Directory directory) {
      ByteString bytes = directory.toByteString();
      Digest digest = Digest.of(bytes);
      inMemory.putIfAbsent(digest, bytes);
      return digest;
    }

    void upload(ContentAddressableStorage cas) {
      List<Digest> all = new ArrayList<>(files.keySet());
      all.addAll(inMemory.keySet());
      Set<Digest> missing = cas.findMissing(all);
      for (Map.Entry<Digest, Path> file : files.entrySet()) {
        if (missing.contains(file.getKey())) {
          uploadFile(cas, file.getKey(), file.getValue());
        }
      }
      for (Map.Entry<Digest, ByteString> blob : inMemory.entrySet()) {
        if (missing.contains(blob.getKey())) {
          cas.put(blob.getKey(), blob.getValue());
        }
      }
    }

    private static void uploadFile(ContentAddressableStorage cas, Digest digest, Path file) {
      byte[] buffer = new byte[CHUNK_BYTES];
      try (InputStream in = Files.newInputStream(file);
          BlobUpload upload = cas.startUpload(digest)) {
        int n;
        while ((n = in.read(buffer)) > 0) {
          upload.write(ByteString.copyFrom(buffer, 0, n));
        }
        upload.commit();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read the input file " + file + ": " + e, e);
      } catch (HearthException e) {
        if (e.code() == StatusCode.INVALID_ARGUMENT) {
          throw new HearthException(
              e.code(),
              "input file " + file + " changed while it was uploaded: " + e.getMessage(),
              e);
        }
        throw e;
      }
    }
  }

  /** A directory of an in-memory tree, whose entries are kept in REAPI's order. */
  private static final class Node {
    final Map<String, Node> directories = new TreeMap<>(NAME_ORDER);
    final Map<String, InputFile> files = new TreeMap<>(NAME_ORDER);

    void add(String path, InputFile file) {
      String[] parts = checkPath(path);
      Node node = this;
      StringBuilder prefix = new StringBuilder();
      for (int i = 0; i < parts.length - 1; i++) {
        prefix.append(i == 0 ? "" : "/").append(parts[i]);
        if (node.files.containsKey(parts[i])) {
          throw new IllegalArgumentException(
              "input paths '"
                  + prefix
                  + "' and '"
                  + path
                  + "' clash: '"
                  + prefix
                  + "' cannot be both a file and a directory");
        }
        node = node.directories.computeIfAbsent(parts[i], name -> new Node());
      }
      String name = parts[parts.length - 1];
      if (node.directories.containsKey(name)) {
        throw new IllegalArgumentException(
            "input path '" + path + "' is a file, but other paths put files under it");
      }
      node.files.put(name, file);
    }

    Digest encode(Blobs blobs) {
      Directory.Builder message = Directory.newBuilder();
      for (Map.Entry<String, InputFile> file : files.entrySet()) {
        ByteString content = file.getValue().content();
        Digest digest = Digest.of(content);
        blobs.inMemory.putIfAbsent(digest, content);
        message.addFiles(
            FileNode.newBuilder()
                .setName(file.getKey())
                .setDigest(digest.toProto())
                .setIsExecutable(file.getValue().executable()));
      }
      for (Map.Entry<String, Node> dir : directories.entrySet()) {
        message.addDirectories(
            DirectoryNode.newBuilder()
                .setName(dir.getKey())
                .setDigest(dir.getValue().encode(blobs).toProto()));
      }
      return blobs.message(message.build());
    }

    private static String[] checkPath(String path) {
      String[] parts = path.split("/", -1);
      for (String part : parts) {
        if (part.isEmpty() || part.equals(".") || part.equals("..") || part.indexOf('\0') >= 0) {
          throw new IllegalArgumentException(
              "input path '"
                  + path
                  + "' is not a relative path of plain names separated by '/' (no leading or"
                  + " doubled '/', no '.' or '..')");
        }
      }
      return parts;
    }
  }
}
