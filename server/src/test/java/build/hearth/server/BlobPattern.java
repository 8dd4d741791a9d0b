package build.hearth.server;

import build.bazel.remote.execution.v2.Digest;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.SplittableRandom;

/**
 * The content of a test blob of any size, computed rather than stored: chunk {@code i} (of {@link
 * #CHUNK_SIZE} bytes, the last one shorter) is pseudo-random bytes from a generator seeded with the
 * blob's seed and {@code i}. Any range can be recomputed on its own, so a 2 GiB blob can be
 * uploaded, hashed and compared piecewise without ever being held in memory, and every chunk
 * differs, so bytes served from the wrong offset are caught.
 *
 * <p>Immutable and thread-safe; the iterators it returns are not.
 */
final class BlobPattern {
  /** The size of the chunks the blob is generated (and uploaded) in: 1 MiB. */
  static final int CHUNK_SIZE = 1 << 20;

  private static final VarHandle LONGS =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private final long seed;
  private final long size;

  BlobPattern(long seed, long size) {
    if (size < 0) {
      throw new IllegalArgumentException("size must not be negative: " + size);
    }
    this.seed = seed;
    this.size = size;
  }

  long size() {
    return size;
  }

  long chunkCount() {
    return (size + CHUNK_SIZE - 1) / CHUNK_SIZE;
  }

  /** A fresh array holding chunk {@code index}. */
  byte[] chunk(long index) {
    if (index < 0 || index >= chunkCount()) {
      throw new IndexOutOfBoundsException("chunk " + index + " of " + chunkCount());
    }
    int length = (int) Math.min(CHUNK_SIZE, size - index * CHUNK_SIZE);
    byte[] chunk = new byte[length];
    // Mixing the index through a multiplier keeps the seeds of neighbouring chunks far apart.
    SplittableRandom random = new SplittableRandom(seed ^ (index * 0x9E3779B97F4A7C15L));
    int i = 0;
    for (; i + Long.BYTES <= length; i += Long.BYTES) {
      LONGS.set(chunk, i, random.nextLong());
    }
    for (; i < length; i++) {
      chunk[i] = (byte) random.nextInt();
    }
    return chunk;
  }

  /** The bytes from {@code offset} to {@code offset + length}, which must lie within the blob. */
  byte[] bytes(long offset, int length) {
    if (offset < 0 || length < 0 || offset + length > size) {
      throw new IndexOutOfBoundsException(
          "range " + offset + "+" + length + " outside a blob of " + size + " bytes");
    }
    byte[] out = new byte[length];
    int filled = 0;
    while (filled < length) {
      long position = offset + filled;
      byte[] chunk = chunk(position / CHUNK_SIZE);
      int from = (int) (position % CHUNK_SIZE);
      int n = Math.min(chunk.length - from, length - filled);
      System.arraycopy(chunk, from, out, filled, n);
      filled += n;
    }
    return out;
  }

  /** The chunks in order, each a fresh array that the consumer may keep. */
  Iterator<byte[]> chunks() {
    return new Iterator<>() {
      private long next;

      @Override
      public boolean hasNext() {
        return next < chunkCount();
      }

      @Override
      public byte[] next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return chunk(next++);
      }
    };
  }

  /** The blob's SHA-256 digest, computed by generating it once. */
  Digest digest() {
    MessageDigest sha256 = build.hearth.api.Digest.newMessageDigest();
    for (long i = 0; i < chunkCount(); i++) {
      sha256.update(chunk(i));
    }
    return digest(sha256, size);
  }

  /** Finishes {@code sha256} into a REAPI digest of a blob of {@code size} bytes. */
  static Digest digest(MessageDigest sha256, long size) {
    return Digest.newBuilder()
        .setHash(HexFormat.of().formatHex(sha256.digest()))
        .setSizeBytes(size)
        .build();
  }

  /** The REAPI digest of bytes held in memory. */
  static Digest digestOf(byte[] bytes) {
    return build.hearth.api.Digest.of(bytes).toProto();
  }
}
