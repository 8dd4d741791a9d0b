package build.hearth.grpc.bytestream;

import build.hearth.api.Digest;
import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.grpc.common.Instances;
import java.util.Arrays;
import java.util.Set;

/**
 * A parsed ByteStream resource name: {@code {instance}/blobs/{hash}/{size}} for reads and {@code
 * {instance}/uploads/{uuid}/blobs/{hash}/{size}[/{metadata}]} for writes.
 *
 * <p>The instance name may be empty or span several segments; REAPI forbids it to contain the
 * reserved segments ({@code blobs}, {@code uploads}, ...), so the first reserved segment ends it.
 * Parsing is strict, since a name that is almost right usually means a client bug that is better
 * reported than guessed at: every malformed name is INVALID_ARGUMENT quoting it, and a
 * compressed-blobs name is UNIMPLEMENTED because this server advertises no compressors.
 *
 * @param instance the instance name, {@code ""} for the default instance
 * @param uploadId the {@code uuid} segment of a write, {@code ""} for a read
 * @param digest the blob
 */
record ResourceName(String instance, String uploadId, Digest digest) {
  private static final String READ_FORM = "'{instance}/blobs/{hash}/{size}'";
  private static final String WRITE_FORM = "'{instance}/uploads/{uuid}/blobs/{hash}/{size}'";

  private static final Set<String> RESERVED =
      Set.of(
          "blobs",
          "uploads",
          "compressed-blobs",
          "actions",
          "actionResults",
          "operations",
          "capabilities");

  /** Digest-function names a newer client may put before the hash; only sha256 is ours. */
  private static final Set<String> DIGEST_FUNCTIONS =
      Set.of(
          "sha256",
          "sha1",
          "md5",
          "vso",
          "sha384",
          "sha512",
          "murmur3",
          "sha256tree",
          "blake3",
          "gitsha1");

  /** Parses the name of a blob to read. */
  static ResourceName parseRead(String name) {
    String[] segments = split(name, READ_FORM);
    int reserved = instanceEnd(name, segments, READ_FORM);
    expect(name, segments, reserved, "blobs", READ_FORM);
    int[] next = {reserved + 1};
    Digest digest = digest(name, segments, next, READ_FORM);
    if (next[0] != segments.length) {
      throw malformed(
          name,
          "unexpected '" + join(segments, next[0], segments.length) + "' after the size",
          READ_FORM);
    }
    return new ResourceName(join(segments, 0, reserved), "", digest);
  }

  /** Parses the name of a blob to write; anything after the size is metadata and ignored. */
  static ResourceName parseWrite(String name) {
    String[] segments = split(name, WRITE_FORM);
    int reserved = instanceEnd(name, segments, WRITE_FORM);
    expect(name, segments, reserved, "uploads", WRITE_FORM);
    if (reserved + 1 >= segments.length || segments[reserved + 1].isEmpty()) {
      throw malformed(name, "the upload id after 'uploads/' is missing", WRITE_FORM);
    }
    String uploadId = segments[reserved + 1];
    if (RESERVED.contains(uploadId)) {
      throw malformed(name, "the upload id after 'uploads/' is missing", WRITE_FORM);
    }
    expect(name, segments, reserved + 2, "blobs", WRITE_FORM);
    int[] next = {reserved + 3};
    Digest digest = digest(name, segments, next, WRITE_FORM);
    return new ResourceName(join(segments, 0, reserved), uploadId, digest);
  }

  private static String[] split(String name, String form) {
    if (name.isEmpty()) {
      throw HearthException.invalidArgument("resource_name is empty; expected %s", form);
    }
    return name.split("/", -1);
  }

  /** The index of the first reserved segment, which ends the instance name. */
  private static int instanceEnd(String name, String[] segments, String form) {
    for (int i = 0; i < segments.length; i++) {
      if (RESERVED.contains(segments[i])) {
        return i;
      }
      if (segments[i].isEmpty()) {
        throw malformed(
            name,
            i == 0
                ? "it starts with '/' (the default instance has no name, not an empty one)"
                : "it has an empty path segment",
            form);
      }
    }
    throw malformed(name, "it has no 'blobs' or 'uploads' segment", form);
  }

  private static void expect(
      String name, String[] segments, int index, String wanted, String form) {
    String found = index < segments.length ? segments[index] : null;
    if (wanted.equals(found)) {
      return;
    }
    if ("compressed-blobs".equals(found)) {
      String compressor = index + 1 < segments.length ? segments[index + 1] : "?";
      throw new HearthException(
          StatusCode.UNIMPLEMENTED,
          "resource name '"
              + Instances.abbreviate(name)
              + "' asks for "
              + compressor
              + "-compressed data; this server supports no compression (its capabilities list"
              + " no compressors), use 'blobs/' instead of 'compressed-blobs/"
              + compressor
              + "/'");
    }
    throw malformed(
        name,
        found == null
            ? "it ends where '" + wanted + "' should follow"
            : "'" + wanted + "' expected where it has '" + found + "'",
        form);
  }

  /** Reads {@code [digest function/]hash/size} from {@code next[0]}, advancing it. */
  private static Digest digest(String name, String[] segments, int[] next, String form) {
    int i = next[0];
    if (i < segments.length
        && !Digest.isValidHash(segments[i])
        && DIGEST_FUNCTIONS.contains(segments[i])) {
      if (!segments[i].equals("sha256")) {
        throw HearthException.invalidArgument(
            "resource name '%s' uses digest function %s; this server supports sha256 only",
            Instances.abbreviate(name), segments[i]);
      }
      i++;
    }
    if (i + 1 >= segments.length) {
      throw malformed(name, "the hash or the size is missing", form);
    }
    String hash = segments[i];
    if (!Digest.isValidHash(hash)) {
      throw malformed(
          name,
          "'"
              + Instances.abbreviate(hash)
              + "' is not a SHA-256 hash ("
              + Digest.HASH_LENGTH
              + " lowercase hex characters)",
          form);
    }
    long size;
    try {
      size = Digest.parseSize(segments[i + 1]);
    } catch (HearthException e) {
      throw malformed(name, e.getMessage(), form);
    }
    next[0] = i + 2;
    return new Digest(hash, size);
  }

  private static HearthException malformed(String name, String problem, String form) {
    return HearthException.invalidArgument(
        "resource name '%s' is malformed: %s; expected %s",
        Instances.abbreviate(name), problem, form);
  }

  private static String join(String[] segments, int from, int to) {
    return String.join("/", Arrays.asList(segments).subList(from, to));
  }
}
