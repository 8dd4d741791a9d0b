package build.hearth.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Objects;

/**
 * A clock that moves only when a test says so, for the injectable clocks of Hearth's stores,
 * scheduler and services: tests of expiry, eviction order and timeouts then need no sleeps.
 *
 * <pre>{@code
 * FakeClock clock = new FakeClock();
 * Scheduler<?, ?> scheduler = Scheduler.newBuilder().clock(clock).build();
 * clock.advance(Duration.ofHours(2));
 * scheduler.expireOverdue();
 * }</pre>
 *
 * <p>Thread-safe. Always in UTC.
 */
public final class FakeClock extends Clock {
  /** Where a clock made with the no-argument constructor starts. */
  public static final Instant DEFAULT_START = Instant.parse("2024-01-01T00:00:00Z");

  private volatile Instant now;

  /** A clock at {@link #DEFAULT_START}. */
  public FakeClock() {
    this(DEFAULT_START);
  }

  /**
   * A clock at {@code start}.
   *
   * @param start the instant the clock shows until it is moved
   * @throws NullPointerException if {@code start} is null
   */
  public FakeClock(Instant start) {
    this.now = Objects.requireNonNull(start, "start");
  }

  /**
   * Moves the clock forward (or back, for a negative duration). Atomic: two threads advancing at
   * once both count.
   *
   * @param duration how far to move
   */
  public synchronized void advance(Duration duration) {
    now = now.plus(duration);
  }

  /**
   * Sets the clock to {@code instant}, forward or back.
   *
   * @param instant the instant the clock shows from now on
   * @throws NullPointerException if {@code instant} is null
   */
  public void set(Instant instant) {
    now = Objects.requireNonNull(instant, "instant");
  }

  @Override
  public Instant instant() {
    return now;
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  /**
   * {@return this clock} A fake clock has one zone, UTC, so that tests never depend on the
   * machine's time zone.
   */
  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }
}
