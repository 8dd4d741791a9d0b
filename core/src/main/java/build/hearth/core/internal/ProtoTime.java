package build.hearth.core.internal;

import com.google.protobuf.Timestamp;
import java.time.Duration;
import java.time.Instant;

/** Conversions between {@code java.time} and protobuf's well-known time messages. */
public final class ProtoTime {
  private ProtoTime() {}

  /** {@return {@code instant} as a protobuf Timestamp} */
  public static Timestamp of(Instant instant) {
    return Timestamp.newBuilder()
        .setSeconds(instant.getEpochSecond())
        .setNanos(instant.getNano())
        .build();
  }

  /** {@return {@code duration} as a protobuf Duration} */
  public static com.google.protobuf.Duration of(Duration duration) {
    return com.google.protobuf.Duration.newBuilder()
        .setSeconds(duration.getSeconds())
        .setNanos(duration.getNano())
        .build();
  }

  /** {@return the protobuf Duration {@code proto} as a {@code java.time.Duration}} */
  public static Duration toDuration(com.google.protobuf.Duration proto) {
    return Duration.ofSeconds(proto.getSeconds(), proto.getNanos());
  }
}
