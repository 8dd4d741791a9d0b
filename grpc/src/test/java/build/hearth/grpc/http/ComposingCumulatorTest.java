package build.hearth.grpc.http;

import static build.hearth.grpc.http.ComposingCumulator.MAX_COMPONENTS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import io.grpc.netty.shaded.io.netty.buffer.AbstractByteBufAllocator;
import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.CompositeByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.buffer.UnpooledByteBufAllocator;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Drives the cumulator the way {@link
 * io.grpc.netty.shaded.io.netty.handler.codec.ByteToMessageDecoder} does, over real direct buffers
 * from an unpooled allocator: unpooled buffers are never recycled, so a buffer's refCnt stays
 * meaningful after release, and the allocator counts the direct memory still held, which must be
 * zero at the end of every test.
 */
class ComposingCumulatorTest {
  private final TestAllocator alloc = new TestAllocator();
  private final ComposingCumulator cumulator = ComposingCumulator.INSTANCE;

  /** Every input handed to the cumulator; each must end with refCnt 0. */
  private final List<ByteBuf> inputs = new ArrayList<>();

  @AfterEach
  void nothingLeaks() {
    assertThat(inputs).allSatisfy(in -> assertThat(in.refCnt()).isZero());
    assertThat(alloc.usedDirectMemory()).isZero();
  }

  /** The byte at a position of the test stream: position-dependent, so reordering shows. */
  private static byte expected(long position) {
    return (byte) (Long.hashCode(position * 0x9E3779B97F4A7C15L) >>> 24);
  }

  /** A read from the socket: the stream's bytes at {@code position}, in a roomier buffer. */
  private ByteBuf input(long position, int length, int slack) {
    ByteBuf in = alloc.directBuffer(length + slack);
    for (int i = 0; i < length; i++) {
      in.writeByte(expected(position + i));
    }
    inputs.add(in);
    return in;
  }

  private static void assertStreamBytes(ByteBuf buf, int index, long position, int length) {
    for (int i = 0; i < length; i++) {
      if (buf.getByte(index + i) != expected(position + i)) {
        throw new AssertionError("byte " + (position + i) + " of the stream is wrong");
      }
    }
  }

  private static void assertBounded(ByteBuf cumulation) {
    if (cumulation instanceof CompositeByteBuf composite) {
      assertThat(composite.numComponents()).isLessThanOrEqualTo(MAX_COMPONENTS);
    }
  }

  /** A slice the decoder handed on (as gRPC holds DATA frames), with where its bytes came from. */
  private record Held(ByteBuf slice, long position) {
    void checkAndRelease() {
      assertStreamBytes(slice, slice.readerIndex(), position, slice.readableBytes());
      slice.release();
    }
  }

  @Test
  void bytesArriveIntactAndInOrderAcrossManyCumulations() {
    Random random = new Random(0x5EED);
    Deque<Held> held = new ArrayDeque<>();
    ByteBuf cumulation = null;
    long received = 0;
    long consumed = 0;
    for (int read = 0; read < 2000; read++) {
      int length =
          switch (random.nextInt(4)) {
            case 0 -> 1;
            case 1 -> 1 + random.nextInt(100);
            case 2 -> 64 * 1024;
            default -> 1 + random.nextInt(64 * 1024);
          };
      ByteBuf in = input(received, length, random.nextInt(3) * 512);
      received += length;
      cumulation =
          cumulator.cumulate(alloc, cumulation == null ? Unpooled.EMPTY_BUFFER : cumulation, in);
      assertBounded(cumulation);
      assertThat((long) cumulation.readableBytes()).isEqualTo(received - consumed);

      // Decode: consume part of what is there, either copied out or as a slice held for a while.
      int take = random.nextInt(cumulation.readableBytes() + 1);
      if (random.nextBoolean()) {
        held.add(new Held(cumulation.readRetainedSlice(take), consumed));
      } else {
        assertStreamBytes(cumulation, cumulation.readerIndex(), consumed, take);
        cumulation.skipBytes(take);
      }
      consumed += take;
      while (held.size() > random.nextInt(4)) {
        held.poll().checkAndRelease();
      }
      // Then tidy up as the decoder does after a read.
      if (!cumulation.isReadable()) {
        cumulation.release();
        cumulation = null;
      } else if (random.nextInt(4) == 0 && cumulation.refCnt() == 1) {
        cumulation.discardSomeReadBytes();
      }
    }
    if (cumulation != null) {
      assertStreamBytes(cumulation, cumulation.readerIndex(), consumed, cumulation.readableBytes());
      cumulation.release();
    }
    held.forEach(Held::checkAndRelease);
  }

  @Test
  void aLargeReadIsKeptNotCopied() {
    ByteBuf leftover = input(0, 100, 0).skipBytes(40);
    ByteBuf big = input(100, 64 * 1024, 0);

    ByteBuf cumulation = cumulator.cumulate(alloc, leftover, big);
    assertThat(cumulation).isInstanceOf(CompositeByteBuf.class);
    assertStreamBytes(cumulation, cumulation.readerIndex(), 40, 60 + 64 * 1024);
    assertSharesMemory(cumulation, 60, big);

    // The composite is ours and unshared now, so the next read joins it in place.
    ByteBuf next = input(100 + 64 * 1024, 64 * 1024, 0);
    ByteBuf grown = cumulator.cumulate(alloc, cumulation, next);
    assertThat(grown).isSameAs(cumulation);
    assertSharesMemory(grown, 60 + 64 * 1024, next);
    assertStreamBytes(grown, grown.readerIndex(), 40, 60 + 128 * 1024);
    grown.release();
  }

  /**
   * Writing through the input's own memory after cumulating shows in the cumulation only if the
   * cumulation kept that memory rather than a copy of it.
   */
  private static void assertSharesMemory(ByteBuf cumulation, int offset, ByteBuf input) {
    int probe = cumulation.readerIndex() + offset + 1000;
    byte original = cumulation.getByte(probe);
    input.setByte(input.readerIndex() + 1000, ~original);
    assertThat(cumulation.getByte(probe)).isEqualTo((byte) ~original);
    input.setByte(input.readerIndex() + 1000, original);
  }

  @Test
  void aSharedPlainCumulationIsNeitherCopiedNorChanged() {
    ByteBuf first = input(0, 500, 0);
    ByteBuf frame = first.readRetainedSlice(300); // gRPC keeps a DATA frame
    assertThat(first.refCnt()).isGreaterThan(1);
    ByteBuf big = input(500, 64 * 1024, 0);

    ByteBuf cumulation = cumulator.cumulate(alloc, first, big);

    assertThat(cumulation).isNotSameAs(first);
    assertSharesMemory(cumulation, 200, big);
    assertStreamBytes(cumulation, cumulation.readerIndex(), 300, 200 + 64 * 1024);
    new Held(frame, 0).checkAndRelease();
    cumulation.release();
  }

  @Test
  void aSharedCompositeCumulationIsNeitherCopiedNorChanged() {
    ByteBuf composite =
        cumulator.cumulate(
            alloc, cumulator.cumulate(alloc, input(0, 70, 0), input(70, 30, 0)), input(100, 50, 0));
    assertThat(composite).isInstanceOf(CompositeByteBuf.class);
    ByteBuf frame = composite.readRetainedSlice(90);
    assertThat(composite.refCnt()).isGreaterThan(1);
    int writerIndex = composite.writerIndex();
    ByteBuf big = input(150, 64 * 1024, 0);

    ByteBuf cumulation = cumulator.cumulate(alloc, composite, big);

    assertThat(cumulation).isNotSameAs(composite);
    assertThat(composite.writerIndex()).isEqualTo(writerIndex);
    assertSharesMemory(cumulation, 60, big);
    assertStreamBytes(cumulation, cumulation.readerIndex(), 90, 60 + 64 * 1024);
    // The old composite gave up only the decoder's reference; the frame keeps it alive.
    assertThat(composite.refCnt()).isEqualTo(1);
    new Held(frame, 0).checkAndRelease();
    assertThat(composite.refCnt()).isZero();
    cumulation.release();
  }

  @Test
  void oneByteReadsNeverPileUpPastTheCap() {
    ByteBuf cumulation = Unpooled.EMPTY_BUFFER;
    for (int i = 0; i < 10_000; i++) {
      cumulation = cumulator.cumulate(alloc, cumulation, input(i, 1, 63));
      assertBounded(cumulation);
      assertThat(cumulation.readableBytes()).isEqualTo(i + 1);
    }
    assertStreamBytes(cumulation, cumulation.readerIndex(), 0, 10_000);
    cumulation.release();
  }

  @Test
  void aForeignUnboundedCompositeIsRebuiltUnderTheCap() {
    CompositeByteBuf foreign = alloc.compositeBuffer(Integer.MAX_VALUE);
    for (int i = 0; i < 200; i++) {
      foreign.addComponent(true, input(i, 1, 0));
    }

    ByteBuf cumulation = cumulator.cumulate(alloc, foreign, input(200, 1, 0));

    assertThat(foreign.refCnt()).isZero();
    assertBounded(cumulation);
    assertStreamBytes(cumulation, cumulation.readerIndex(), 0, 201);
    cumulation.release();
  }

  @Test
  void anEmptyCumulationIsReleasedAndTheInputReturnedAsIs() {
    ByteBuf in = input(0, 10, 0);
    assertThat(cumulator.cumulate(alloc, Unpooled.EMPTY_BUFFER, in)).isSameAs(in);

    ByteBuf consumed = input(0, 10, 0).skipBytes(10);
    ByteBuf next = input(10, 10, 0);
    assertThat(cumulator.cumulate(alloc, consumed, next)).isSameAs(next);
    assertThat(consumed.refCnt()).isZero();

    ByteBuf empty = input(20, 0, 16);
    assertThat(cumulator.cumulate(alloc, in, empty)).isSameAs(in);
    assertThat(empty.refCnt()).isZero();
    in.release();
    next.release();
  }

  @Test
  void whenNoCompositeCanBeMadeTheInputIsReleasedAndTheCumulationKept() {
    ByteBuf leftover = input(0, 10, 0);
    ByteBuf in = input(10, 10, 0);
    alloc.failComposites = true;

    assertThat(catchThrowable(() -> cumulator.cumulate(alloc, leftover, in)))
        .isInstanceOf(OutOfMemoryError.class);

    assertThat(in.refCnt()).isZero();
    assertThat(leftover.refCnt()).isEqualTo(1);
    assertStreamBytes(leftover, leftover.readerIndex(), 0, 10);
    leftover.release();
  }

  /** A composite of ours with the cap's worth of two-byte components, each in its own buffer. */
  private ByteBuf fullComposite() {
    ByteBuf cumulation = Unpooled.EMPTY_BUFFER;
    for (int i = 0; i < MAX_COMPONENTS; i++) {
      cumulation = cumulator.cumulate(alloc, cumulation, input(2 * i, 2, 0));
    }
    assertThat(((CompositeByteBuf) cumulation).numComponents()).isEqualTo(MAX_COMPONENTS);
    return cumulation;
  }

  @Test
  void whenConsolidatingAnOwnCompositeFailsTheInputBelongsToIt() {
    ByteBuf cumulation = fullComposite();
    ByteBuf in = input(2 * MAX_COMPONENTS, 1, 0);
    alloc.failBuffers = true;

    assertThat(catchThrowable(() -> cumulator.cumulate(alloc, cumulation, in)))
        .isInstanceOf(OutOfMemoryError.class);

    // The decoder still holds the composite, which holds the input: one release frees both.
    alloc.failBuffers = false;
    assertThat(cumulation.refCnt()).isEqualTo(1);
    assertThat(in.refCnt()).isEqualTo(1);
    cumulation.release();
  }

  @Test
  void whenConsolidatingANewCompositeFailsTheSharedCumulationIsUntouched() {
    ByteBuf cumulation = fullComposite();
    // Half of the first component stays unread, so all components carry over to a new composite.
    ByteBuf frame = cumulation.readRetainedSlice(1);
    ByteBuf in = input(2 * MAX_COMPONENTS, 1, 0);
    alloc.failBuffers = true;

    assertThat(catchThrowable(() -> cumulator.cumulate(alloc, cumulation, in)))
        .isInstanceOf(OutOfMemoryError.class);

    alloc.failBuffers = false;
    assertThat(in.refCnt()).isZero();
    assertThat(cumulation.refCnt()).isEqualTo(2); // the decoder's and the frame's
    assertStreamBytes(cumulation, cumulation.readerIndex(), 1, 2 * MAX_COMPONENTS - 1);
    new Held(frame, 0).checkAndRelease();
    cumulation.release();
  }

  /**
   * Unpooled direct buffers with a switch to fail allocations as an exhausted direct memory would.
   */
  private static final class TestAllocator extends AbstractByteBufAllocator {
    private final UnpooledByteBufAllocator delegate = new UnpooledByteBufAllocator(true);
    boolean failComposites;
    boolean failBuffers;

    TestAllocator() {
      super(true);
    }

    long usedDirectMemory() {
      return delegate.metric().usedDirectMemory();
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
      throw new UnsupportedOperationException("direct buffers only, as on the server");
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
      if (failBuffers) {
        throw new OutOfMemoryError("test: no direct memory left");
      }
      return delegate.directBuffer(initialCapacity, maxCapacity);
    }

    @Override
    public CompositeByteBuf compositeDirectBuffer(int maxNumComponents) {
      if (failComposites) {
        throw new OutOfMemoryError("test: no memory left");
      }
      return super.compositeDirectBuffer(maxNumComponents);
    }

    @Override
    public boolean isDirectBufferPooled() {
      return false;
    }
  }
}
