package build.hearth.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.UnpooledByteBufAllocator;
import io.grpc.netty.shaded.io.netty.channel.RecvByteBufAllocator;
import org.junit.jupiter.api.Test;

class ReceiveBuffersTest {
  /** The pooled allocator's default {@code maxCachedBufferCapacity}, the largest it recycles. */
  private static final int LARGEST_CACHED_BUFFER = 32 << 10;

  @Test
  void aBusyConnectionNeverReadsIntoBuffersTooLargeForTheAllocatorsCache() {
    RecvByteBufAllocator.Handle handle = ReceiveBuffers.readSizes().newHandle();
    UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(true);
    int largest = 0;
    // Every read fills its buffer, as on an upload: Netty's adaptive sizes grow each time.
    for (int read = 0; read < 100; read++) {
      handle.reset(null);
      ByteBuf buffer = handle.allocate(alloc);
      largest = Math.max(largest, buffer.capacity());
      handle.lastBytesRead(buffer.capacity());
      handle.readComplete();
      buffer.release();
    }
    assertThat(largest).isEqualTo(ReceiveBuffers.MAX_READ_BYTES);
    assertThat(ReceiveBuffers.MAX_READ_BYTES).isLessThanOrEqualTo(LARGEST_CACHED_BUFFER);
  }
}
