package build.hearth.api;

import com.google.protobuf.ByteString;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * The identity of a blob: the lowercase hex SHA-256 of its bytes and its length.
 *
 * <p>Hearth uses SHA-256, the digest function every REAPI client supports. The compact constructor
 * refuses anything that is not 64 lowercase hex characters or a negative size, with {@link
 * StatusCode#INVALID_ARGUMENT}, so a {@code Digest} in hand is always well formed (whether the
 * bytes match it is checked when they are written).
 *
 * <pre>{@code
 * Digest d = Digest.of("hello".getBytes(UTF_8));
 * d.toString(); // "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824/5"
 * Digest same = Digest.parse(d.toString()); // equals d
 * }</pre>
 *
 * <p>Immutable and thread-safe. Two digests are equal when hash and size both are; the size is part
 * of a blob's identity, so the same hash with another size names another (absent) blob. Methods
 * take no null arguments.
 *
 * @param hash the SHA-256 of the blob's bytes, as 64 lowercase hex characters
 * @param sizeBytes the blob's length in bytes; never negative
 */
public record Digest(String hash, long sizeBytes) implements Comparable<Digest> {
  /** Length in hex characters of a SHA-256 hash. */
  public static final int HASH_LENGTH = 64;

  /** The empty blob, which every CAS holds without storing it. */
  public static final Digest EMPTY =
      new Digest("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 0);

  /**
   * Checks that the digest is well formed; it does not (and cannot) check that any bytes match it.
   *
   * @param hash the SHA-256 of the blob's bytes, as 64 lowercase hex characters
   * @param sizeBytes the blob's length in bytes
   * @throws HearthException INVALID_ARGUMENT if {@code hash} is null or not 64 lowercase hex
   *     characters (an upper-case hash is refused, not converted), or {@code sizeBytes} is negative
   */
  public Digest {
    if (hash == null) {
      throw HearthException.invalidArgument("digest hash is missing");
    }
    if (!isValidHash(hash)) {
      throw HearthException.invalidArgument(
          "digest hash '%s' is not a SHA-256 hash: expected %d lowercase hex characters",
          abbreviate(hash), HASH_LENGTH);
    }
    if (sizeBytes < 0) {
      throw HearthException.invalidArgument("digest %s has a negative size %d", hash, sizeBytes);
    }
  }

  /**
   * Hashes a blob held in memory.
   *
   * @param bytes the blob's content
   * @return the digest of {@code bytes}
   */
  public static Digest of(byte[] bytes) {
    MessageDigest sha = newMessageDigest();
    return new Digest(HexFormat.of().formatHex(sha.digest(bytes)), bytes.length);
  }

  /**
   * Hashes a blob held in a {@link ByteString}, piece by piece, without copying it.
   *
   * <pre>{@code
   * Digest d = Digest.of(ByteString.copyFromUtf8("hello"));
   * d.equals(Digest.of("hello".getBytes(UTF_8))); // true
   * }</pre>
   *
   * @param bytes the blob's content
   * @return the digest of {@code bytes}
   */
  public static Digest of(ByteString bytes) {
    MessageDigest sha = newMessageDigest();
    for (ByteBuffer piece : bytes.asReadOnlyByteBufferList()) {
      sha.update(piece);
    }
    return new Digest(HexFormat.of().formatHex(sha.digest()), bytes.size());
  }

  /**
   * Hashes the remaining bytes of a buffer, such as one piece of a {@code ByteString}.
   *
   * @param buffer the blob's content from its position to its limit; its position is left unchanged
   * @return the digest of those bytes
   */
  public static Digest of(ByteBuffer buffer) {
    MessageDigest sha = newMessageDigest();
    long size = buffer.remaining();
    sha.update(buffer.duplicate());
    return new Digest(HexFormat.of().formatHex(sha.digest()), size);
  }

  /**
   * Parses the {@code hash/size} form used in logs, resource names and {@link #toString()}.
   *
   * @param text a digest such as {@code 2cf2...9824/5}; not a resource name ({@code
   *     blobs/2cf2...9824/5}), which is refused with a message that says so
   * @return the digest it names
   * @throws HearthException INVALID_ARGUMENT if the text is not of that form
   */
  public static Digest parse(String text) {
    int slash = text.lastIndexOf('/');
    if (slash < 0) {
      throw HearthException.invalidArgument(
          "'%s' is not a digest of the form hash/size", abbreviate(text));
    }
    String hash = text.substring(0, slash);
    if (hash.indexOf('/') >= 0) {
      throw HearthException.invalidArgument(
          "'%s' is not a digest of the form hash/size: it has more than one '/'; from a resource"
              + " name such as blobs/<hash>/<size>, pass only its last two segments",
          abbreviate(text));
    }
    String size = text.substring(slash + 1);
    try {
      return new Digest(hash, parseSize(size));
    } catch (HearthException e) {
      throw HearthException.invalidArgument(
          "'%s' is not a digest of the form hash/size: %s", abbreviate(text), e.getMessage());
    }
  }

  /**
   * Parses a blob size written in decimal, as in the size segment of a ByteStream resource name.
   * Signs, spaces and units are refused.
   *
   * @param text the size in bytes, in decimal digits only
   * @return the size in bytes
   * @throws HearthException INVALID_ARGUMENT if it is not a non-negative decimal number that fits
   *     in a {@code long}
   */
  public static long parseSize(String text) {
    if (text.isEmpty() || text.length() > 19 || !text.chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw HearthException.invalidArgument("'%s' is not a valid blob size", abbreviate(text));
    }
    try {
      return Long.parseLong(text);
    } catch (NumberFormatException e) {
      throw HearthException.invalidArgument("'%s' is not a valid blob size", text);
    }
  }

  /**
   * Checks a hash's form without building a digest or throwing, for code that wants to answer a bad
   * hash in its own way.
   *
   * @param hash the text to check
   * @return whether {@code hash} is 64 lowercase hex characters, the form the constructor accepts
   */
  public static boolean isValidHash(String hash) {
    if (hash.length() != HASH_LENGTH) {
      return false;
    }
    for (int i = 0; i < HASH_LENGTH; i++) {
      char c = hash.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  /**
   * For hashing a blob that arrives in pieces. A {@link MessageDigest} is not thread-safe, so each
   * caller gets its own.
   *
   * @return a new SHA-256 {@link MessageDigest}, the function behind every {@code Digest}
   */
  public static MessageDigest newMessageDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime provides SHA-256", e);
    }
  }

  /**
   * Converts from the REAPI message, validating it.
   *
   * @param proto a digest received from a client
   * @return the same digest as a value
   * @throws HearthException INVALID_ARGUMENT if the message is malformed, as in the constructor
   */
  public static Digest fromProto(build.bazel.remote.execution.v2.Digest proto) {
    return new Digest(proto.getHash(), proto.getSizeBytes());
  }

  /** {@return this digest as the REAPI message} */
  public build.bazel.remote.execution.v2.Digest toProto() {
    return build.bazel.remote.execution.v2.Digest.newBuilder()
        .setHash(hash)
        .setSizeBytes(sizeBytes)
        .build();
  }

  /**
   * {@return whether this is the digest of the empty blob, which every CAS holds without storing
   * it}
   */
  public boolean isEmpty() {
    return sizeBytes == 0 && EMPTY.hash.equals(hash);
  }

  /**
   * Orders by hash, then by size: a stable order for logs and sorted listings, with no other
   * meaning.
   */
  @Override
  public int compareTo(Digest other) {
    int byHash = hash.compareTo(other.hash);
    return byHash != 0 ? byHash : Long.compare(sizeBytes, other.sizeBytes);
  }

  /** {@return {@code hash/size}, the form {@link #parse(String)} reads} */
  @Override
  public String toString() {
    return hash + "/" + sizeBytes;
  }

  private static String abbreviate(String text) {
    return text.length() <= 80 ? text : text.substring(0, 77) + "...";
  }
}
