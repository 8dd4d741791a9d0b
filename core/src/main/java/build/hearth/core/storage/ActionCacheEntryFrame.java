package build.hearth.core.storage;

import java.nio.ByteBuffer;
import java.util.Optional;
import java.util.zip.CRC32C;

/**
 * The frame of an action-cache entry on disk: a magic number, the payload's length and its CRC32C,
 * then the payload. A serialized {@code ActionResult} has no length or checksum of its own, and an
 * empty or truncated file parses as a valid, empty result, which would be served as a hit with no
 * outputs; with the frame, a file that a crash or a bad disk cut short or changed is told apart and
 * treated as a miss. Stateless.
 */
final class ActionCacheEntryFrame {
  /** "HAC1": Hearth action cache, frame version 1. */
  static final int MAGIC = 0x48414331;

  /** Magic (4 bytes), payload length (8), CRC32C of the payload (4). */
  static final int HEADER_BYTES = 16;

  private ActionCacheEntryFrame() {}

  /** {@code payload} with its header in front. */
  static byte[] frame(byte[] payload) {
    ByteBuffer framed = ByteBuffer.allocate(HEADER_BYTES + payload.length);
    framed.putInt(MAGIC).putLong(payload.length).putInt(crc(payload, 0, payload.length));
    framed.put(payload);
    return framed.array();
  }

  /**
   * The payload of {@code file}'s bytes, or empty with the reason when the frame does not hold: too
   * short, another magic (an entry written before the frame existed, or not an entry), a length
   * that does not match the file, or a checksum that does not match the payload.
   */
  static Optional<byte[]> unframe(byte[] file, StringBuilder whyNot) {
    if (file.length < HEADER_BYTES) {
      whyNot.append("the file has ").append(file.length).append(" bytes, shorter than its header");
      return Optional.empty();
    }
    ByteBuffer header = ByteBuffer.wrap(file, 0, HEADER_BYTES);
    int magic = header.getInt();
    long length = header.getLong();
    int crc = header.getInt();
    if (magic != MAGIC) {
      whyNot.append("the file does not start with an entry header (written by an older Hearth?)");
      return Optional.empty();
    }
    if (length != file.length - HEADER_BYTES) {
      whyNot
          .append("the header promises ")
          .append(length)
          .append(" bytes but the file holds ")
          .append(file.length - HEADER_BYTES);
      return Optional.empty();
    }
    if (crc(file, HEADER_BYTES, (int) length) != crc) {
      whyNot.append("the checksum does not match the entry's bytes");
      return Optional.empty();
    }
    byte[] payload = new byte[(int) length];
    System.arraycopy(file, HEADER_BYTES, payload, 0, payload.length);
    return Optional.of(payload);
  }

  private static int crc(byte[] bytes, int offset, int length) {
    CRC32C crc = new CRC32C();
    crc.update(bytes, offset, length);
    return (int) crc.getValue();
  }
}
