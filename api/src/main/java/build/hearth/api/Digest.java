package build.hearth.api;

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
 * }</pre>
 */
public record Digest(String hash, long sizeBytes) implements Comparable<Digest> {
  /** Length in hex characters of a SHA-256 hash. */
  public static final int HASH_LENGTH = 64;

  /** The empty blob, which every CAS holds without storing it. */
  public static final Digest EMPTY =
      new Digest("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 0);

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

  /** The digest of {@code bytes}. */
  public static Digest of(byte[] bytes) {
    MessageDigest sha = newMessageDigest();
    return new Digest(HexFormat.of().formatHex(sha.digest(bytes)), bytes.length);
  }

  /** The digest of the remaining bytes of {@code buffer}, leaving its position unchanged. */
  public static Digest of(ByteBuffer buffer) {
    MessageDigest sha = newMessageDigest();
    long size = buffer.remaining();
    sha.update(buffer.duplicate());
    return new Digest(HexFormat.of().formatHex(sha.digest()), size);
  }

  /**
   * Parses the {@code hash/size} form used in logs, resource names and {@link #toString()}.
   *
   * @throws HearthException INVALID_ARGUMENT if the text is not of that form
   */
  public static Digest parse(String text) {
    int slash = text.indexOf('/');
    if (slash < 0) {
      throw HearthException.invalidArgument("'%s' is not a digest of the form hash/size", text);
    }
    return new Digest(text.substring(0, slash), parseSize(text.substring(slash + 1)));
  }

  /**
   * Parses a blob size written in decimal.
   *
   * @throws HearthException INVALID_ARGUMENT if it is not a non-negative decimal number
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

  /** Whether {@code hash} is 64 lowercase hex characters. */
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

  /** A new SHA-256 {@link MessageDigest}, the function behind every {@code Digest}. */
  public static MessageDigest newMessageDigest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime provides SHA-256", e);
    }
  }

  /** Converts from the REAPI message, validating it. */
  public static Digest fromProto(build.bazel.remote.execution.v2.Digest proto) {
    return new Digest(proto.getHash(), proto.getSizeBytes());
  }

  /** Converts to the REAPI message. */
  public build.bazel.remote.execution.v2.Digest toProto() {
    return build.bazel.remote.execution.v2.Digest.newBuilder()
        .setHash(hash)
        .setSizeBytes(sizeBytes)
        .build();
  }

  /** Whether this is the digest of the empty blob. */
  public boolean isEmpty() {
    return sizeBytes == 0 && EMPTY.hash.equals(hash);
  }

  @Override
  public int compareTo(Digest other) {
    int byHash = hash.compareTo(other.hash);
    return byHash != 0 ? byHash : Long.compare(sizeBytes, other.sizeBytes);
  }

  /** {@code hash/size}, the form {@link #parse(String)} reads. */
  @Override
  public String toString() {
    return hash + "/" + sizeBytes;
  }

  private static String abbreviate(String text) {
    return text.length() <= 80 ? text : text.substring(0, 77) + "...";
  }
}
