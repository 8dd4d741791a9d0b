package build.hearth.grpc;

import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.netty.channel.RecvByteBufAllocator;

/**
 * How large the buffers are that a server's connections read the socket into: at most {@link
 * #MAX_READ_BYTES}, so that Netty's pooled allocator keeps them for the next read instead of making
 * and zeroing a new chunk for every few MiB an upload receives.
 *
 * <p>grpc-java's pooled allocator frees a chunk as soon as its last buffer is released. An upload
 * fills read buffers on the event loop and the service releases them in the same order, so every
 * chunk went from empty to full to empty, and the event loop made (and zeroed, page by page) a new
 * chunk for every chunk's worth received: docs/benchmarks.md measured it at more than the socket
 * copy itself. A released buffer goes back to the cache of the thread that allocated it, which
 * keeps it (and so its chunk) for that thread's next read, but only buffers up to the allocator's
 * {@code maxCachedBufferCapacity}, 32 KiB by default; Netty's adaptive reads grow to 64 KiB on a
 * busy connection, past that limit. Capping the reads at 32 KiB keeps every read buffer cacheable.
 *
 * <p>A child-channel option of this server only: other servers and clients in the JVM keep their
 * own settings, and the allocator itself (grpc-java's, shared) is unchanged.
 */
final class ReceiveBuffers {
  /** The allocator's default {@code maxCachedBufferCapacity}: the largest buffer it recycles. */
  static final int MAX_READ_BYTES = 32 << 10;

  /** Netty's own adaptive defaults below the cap: start at 2 KiB, never under 64 bytes. */
  private static final int MIN_READ_BYTES = 64;

  private static final int INITIAL_READ_BYTES = 2 << 10;

  private ReceiveBuffers() {}

  /** Sets the read-buffer sizes of the connections {@code builder}'s server accepts. */
  static NettyServerBuilder applyTo(NettyServerBuilder builder) {
    return builder.withChildOption(ChannelOption.RECVBUF_ALLOCATOR, readSizes());
  }

  /** Netty's adaptive read sizes, growing on busy connections, but never past the cap. */
  static RecvByteBufAllocator readSizes() {
    return new AdaptiveRecvByteBufAllocator(MIN_READ_BYTES, INITIAL_READ_BYTES, MAX_READ_BYTES);
  }
}
