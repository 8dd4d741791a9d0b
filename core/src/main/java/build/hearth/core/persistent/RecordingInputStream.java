package build.hearth.core.persistent;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;

/**
 * Remembers the most recent bytes read from a tool process's stdout, so that a response that cannot
 * be parsed can be quoted in the error. Parsers read ahead in buffers, so the bytes of one message
 * are only known by their position in the stream; this keeps the last {@code capacity} bytes
 * together with the position of each.
 *
 * <p>Not thread-safe: one reader thread reads it and quotes from it.
 */
final class RecordingInputStream extends FilterInputStream {
  private final byte[] ring;
  private long position;

  RecordingInputStream(InputStream in, int capacity) {
    super(in);
    if (capacity <= 0) {
      throw new IllegalArgumentException("capacity must be positive: " + capacity);
    }
    this.ring = new byte[capacity];
  }

  /** How many bytes have been read so far. */
  long position() {
    return position;
  }

  @Override
  public int read() throws IOException {
    int b = in.read();
    if (b >= 0) {
      ring[(int) (position % ring.length)] = (byte) b;
      position++;
    }
    return b;
  }

  @Override
  public int read(byte[] buffer, int offset, int length) throws IOException {
    int n = in.read(buffer, offset, length);
    for (int i = 0; i < n; i++) {
      ring[(int) ((position + i) % ring.length)] = buffer[offset + i];
    }
    if (n > 0) {
      position += n;
    }
    return n;
  }

  @Override
  public long skip(long n) throws IOException {
    // Skipped bytes are read instead, so that they can be quoted like the others.
    byte[] scratch = new byte[(int) Math.min(Math.max(n, 0), 8192)];
    long skipped = 0;
    while (skipped < n) {
      int read = read(scratch, 0, (int) Math.min(scratch.length, n - skipped));
      if (read < 0) {
        break;
      }
      skipped += read;
    }
    return skipped;
  }

  @Override
  public boolean markSupported() {
    return false;
  }

  @Override
  public synchronized void mark(int limit) {}

  @Override
  public synchronized void reset() throws IOException {
    throw new IOException("mark/reset is not supported");
  }

  /**
   * Up to {@code maxBytes} of the stream from position {@code from} on, escaped so that it prints
   * safely in a log line, in double quotes; {@code ...} marks bytes left out at either end.
   *
   * <p>A parser often refuses a message after its first few bytes; so that the quote shows more
   * than those, this first reads whatever the stream already holds, without blocking, up to {@code
   * maxBytes} past {@code from}. Only for error messages: the bytes read are gone for a parser.
   */
  String quote(long from, int maxBytes) {
    readAvailable(from + maxBytes);
    long earliest = Math.max(0, position - ring.length);
    long start = Math.max(Math.max(from, earliest), 0);
    long end = Math.min(position, start + maxBytes);
    StringBuilder text = new StringBuilder(maxBytes + 16);
    if (start > from) {
      text.append("...");
    }
    text.append('"');
    for (long i = start; i < end; i++) {
      appendEscaped(text, ring[(int) (i % ring.length)]);
    }
    text.append('"');
    if (end < position) {
      text.append("...");
    }
    return text.toString();
  }

  private void readAvailable(long until) {
    byte[] scratch = new byte[512];
    try {
      while (position < until) {
        int available = in.available();
        if (available <= 0) {
          return;
        }
        int n =
            read(scratch, 0, (int) Math.min(Math.min(available, scratch.length), until - position));
        if (n <= 0) {
          return;
        }
      }
    } catch (IOException e) {
      // Quote what there is.
    }
  }

  /** Escapes one byte the way a Java string literal would show it; anything unusual as hex. */
  static void appendEscaped(StringBuilder text, byte value) {
    int b = value & 0xff;
    switch (b) {
      case '\n' -> text.append("\\n");
      case '\r' -> text.append("\\r");
      case '\t' -> text.append("\\t");
      case '"' -> text.append("\\\"");
      case '\\' -> text.append("\\\\");
      default -> {
        if (b >= 0x20 && b < 0x7f) {
          text.append((char) b);
        } else {
          text.append("\\x")
              .append(Character.forDigit(b >> 4, 16))
              .append(Character.forDigit(b & 0xf, 16));
        }
      }
    }
  }
}
