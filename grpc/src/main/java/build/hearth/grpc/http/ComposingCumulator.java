package build.hearth.grpc.http;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.ByteBufAllocator;
import io.grpc.netty.shaded.io.netty.buffer.CompositeByteBuf;
import io.grpc.netty.shaded.io.netty.handler.codec.ByteToMessageDecoder;
import java.util.ArrayList;
import java.util.List;

/**
 * Keeps the bytes an HTTP/2 decoder has not consumed yet as components of a {@link
 * CompositeByteBuf} instead of copying them into one buffer.
 *
 * <p>Netty's default merging cumulator copies the leftover of a partial frame and the next read
 * into a fresh buffer whenever the cumulation is shared, and gRPC always shares it while it holds
 * slices of DATA frames; on a bulk upload that copies every byte once more on the event loop.
 * Netty's composite cumulator avoids the copy but lets a composite grow without limit, so a peer
 * that trickles single bytes of an unfinished frame costs a buffer and a few objects per byte. This
 * one caps the components at {@link #MAX_COMPONENTS}: past the cap {@link CompositeByteBuf} itself
 * consolidates them into one buffer, so trickled input costs one bounded copy per {@code
 * MAX_COMPONENTS} reads, while bulk reads, which the decoder consumes long before the cap, are not
 * copied.
 *
 * <p>Reference counts, as {@link ByteToMessageDecoder} expects of a cumulator: the reference to
 * {@code in} is always taken over, also when this method throws; the decoder's reference to {@code
 * cumulation} passes to the returned buffer, and after a failure the decoder's {@code cumulation}
 * is still live (possibly holding {@code in} by then), since the decoder releases it later.
 *
 * <p>Stateless and thread-safe: one instance serves every connection.
 */
final class ComposingCumulator implements ByteToMessageDecoder.Cumulator {
  /**
   * The most components a cumulation made here holds. Bulk reads leave only a handful unconsumed
   * (the decoder drops consumed components after each read burst, and a new composite takes only
   * unread bytes), so only tiny reads of one unfinished frame reach it; a peer sending those can
   * pin at most this many read buffers before they are merged.
   */
  static final int MAX_COMPONENTS = 64;

  static final ComposingCumulator INSTANCE = new ComposingCumulator();

  private ComposingCumulator() {}

  @Override
  public ByteBuf cumulate(ByteBufAllocator alloc, ByteBuf cumulation, ByteBuf in) {
    if (!cumulation.isReadable()) {
      cumulation.release();
      return in;
    }
    if (!in.isReadable()) {
      // Not worth a component: an empty one would still count towards the cap.
      in.release();
      return cumulation;
    }
    if (cumulation instanceof CompositeByteBuf own && isExclusivelyOurs(own)) {
      appendToOwn(own, in);
      return own;
    }
    return compose(alloc, cumulation, in);
  }

  /**
   * A composite may only grow in place when nobody else can see it; one made with another cap (or
   * by someone else) is rebuilt under ours.
   */
  private static boolean isExclusivelyOurs(CompositeByteBuf composite) {
    return composite.refCnt() == 1 && composite.maxNumComponents() == MAX_COMPONENTS;
  }

  private static void appendToOwn(CompositeByteBuf own, ByteBuf in) {
    ByteBuf pending = in;
    try {
      // A new component lands at capacity() while the writer index grows from where it is, so any
      // gap between the two would be read as data and the new bytes' tail lost.
      if (own.writerIndex() != own.capacity()) {
        own.capacity(own.writerIndex());
      }
      pending = null;
      appendConsuming(own, in);
    } finally {
      if (pending != null) {
        pending.release();
      }
    }
  }

  /**
   * The old cumulation is shared (gRPC holds slices of it) or not a composite of ours, so it must
   * not change: a new composite takes its own reference to the unconsumed part, and the decoder's
   * reference is dropped only once everything is in place.
   */
  private static ByteBuf compose(ByteBufAllocator alloc, ByteBuf cumulation, ByteBuf in) {
    ByteBuf pending = in;
    CompositeByteBuf composite = null;
    boolean done = false;
    try {
      composite = alloc.compositeBuffer(MAX_COMPONENTS);
      appendConsuming(composite, cumulation.retain());
      pending = null;
      appendConsuming(composite, in);
      done = true;
    } finally {
      if (pending != null) {
        pending.release();
      }
      if (!done && composite != null) {
        // Releases whatever it took: our extra reference to the old cumulation and, if added, in.
        composite.release();
      }
    }
    cumulation.release();
    return composite;
  }

  /**
   * Appends the readable bytes of {@code source} to {@code target} without copying and consumes the
   * caller's reference to {@code source} whether or not this throws. Composites are flattened into
   * their parts so that a cumulation never nests, and holds only bytes still to be read.
   *
   * <p>{@code addFlattenedComponents} is not used for composites because (in Netty 4.2) on failure
   * it keeps the caller's reference to a composite, unlike to any other buffer; the documented
   * {@code addComponent(s)} always take ownership, so consuming is uniform here.
   */
  private static void appendConsuming(CompositeByteBuf target, ByteBuf source) {
    if (!(source instanceof CompositeByteBuf nested)) {
      target.addComponent(true, source);
      return;
    }
    try {
      List<ByteBuf> parts = nested.decompose(nested.readerIndex(), nested.readableBytes());
      target.addComponents(true, retainAll(parts));
    } finally {
      source.release();
    }
  }

  /**
   * The parts are slices that borrow {@code source}'s components; each needs a reference of its own
   * to outlive {@code source}.
   */
  private static List<ByteBuf> retainAll(List<ByteBuf> parts) {
    List<ByteBuf> retained = new ArrayList<>(parts.size());
    try {
      for (ByteBuf part : parts) {
        retained.add(part.retain());
      }
      return retained;
    } catch (RuntimeException | Error e) {
      for (ByteBuf part : retained) {
        part.release();
      }
      throw e;
    }
  }
}
