package build.hearth.core.scheduler;

import com.google.protobuf.ByteString;

/** Tasks and results that are text, kept in a shared state as their UTF-8 bytes; for tests. */
final class TextCodec implements StateCodec<String> {
  static final TextCodec TEXT = new TextCodec();

  private TextCodec() {}

  @Override
  public ByteString encode(String value) {
    return ByteString.copyFromUtf8(value);
  }

  @Override
  public String decode(ByteString bytes) {
    return bytes.toStringUtf8();
  }
}
