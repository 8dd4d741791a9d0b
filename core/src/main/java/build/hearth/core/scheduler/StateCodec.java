package build.hearth.core.scheduler;

import com.google.protobuf.ByteString;

/**
 * Turns a scheduler's tasks or results into the bytes a shared {@link
 * build.hearth.spi.scheduler.SchedulerState} keeps, and back. Every server of one service must use
 * the same codec: one server's bytes are read by another.
 *
 * @param <V> the type of the values
 */
public interface StateCodec<V> {

  /**
   * {@return the bytes of {@code value}}
   *
   * @param value a task or a result
   */
  ByteString encode(V value);

  /**
   * {@return the value of {@code bytes}}
   *
   * @param bytes what {@link #encode} made, maybe on another server
   * @throws IllegalArgumentException if the bytes are not a value of this codec
   */
  V decode(ByteString bytes);
}
