package build.hearth.grpc.bytestream;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.spi.transport.ServerLimits;
import org.junit.jupiter.api.Test;

/** The arithmetic of {@link WriteLookahead}, driven as the transport and the service drive it. */
class WriteLookaheadTest {
  private static final long BUDGET = 1 << 20;
  private static final long KIB_16 = 16 << 10;
  private static final long MIB_16 = 16 << 20;

  private static WriteLookaheads server(long streamBudget, long serverBudget) {
    return new WriteLookaheads(
        ServerLimits.newBuilder()
            .writeLookaheadBytes(streamBudget)
            .maxWriteLookaheadBytes(serverBudget)
            .build());
  }

  /**
   * A stream with at most one message asked for and not yet deframed, as the transport sees it: it
   * deframes a message only when one is asked for.
   */
  private static final class Stream {
    final WriteLookahead lookahead;
    boolean asked;

    Stream(WriteLookaheads server) {
      lookahead = new WriteLookahead(BUDGET, server, true);
      lookahead.start();
      asked = true;
    }

    /** The transport deframes the message asked for, if any; returns whether it did. */
    boolean deframe(long size) {
      if (!asked) {
        return false;
      }
      asked = lookahead.deframed(size);
      return true;
    }

    /** The service stores the oldest message. */
    void process() {
      boolean more = lookahead.processed();
      if (more) {
        assertThat(asked).as("a second message asked for before the first arrived").isFalse();
        asked = true;
      }
    }
  }

  @Test
  void smallChunksAreAskedForByTheTransportUpToTheBudget() {
    Stream stream = new Stream(server(BUDGET, 64 * BUDGET));
    int processed = 0;
    // A client faster than the store: three chunks arrive for every one stored.
    for (int round = 0; round < 3000; round++) {
      for (int i = 0; i < 3; i++) {
        stream.deframe(KIB_16);
      }
      if (stream.lookahead.queued() > 0) {
        stream.process();
        processed++;
      }
      assertThat(stream.lookahead.queued()).isLessThan(BUDGET + KIB_16);
    }

    // The queue filled to the budget: tens of chunks ahead of the one being stored.
    assertThat(stream.lookahead.mostQueued())
        .isBetween(BUDGET - KIB_16, BUDGET + KIB_16 + WriteLookahead.MESSAGE_OVERHEAD);
    // The service's thread asked only after the queue drained to half the budget: once per 32
    // chunks, not once per chunk; the transport's thread asked for the rest.
    assertThat(stream.lookahead.askedByService()).isLessThanOrEqualTo(processed / 32 + 2);
    assertThat(stream.lookahead.askedByTransport()).isGreaterThan(processed - processed / 32 - 2);
  }

  @Test
  void messagesLargerThanTheBudgetComeOneAtATime() {
    Stream stream = new Stream(server(BUDGET, 64 * BUDGET));
    for (int i = 0; i < 100; i++) {
      assertThat(stream.deframe(MIB_16)).isTrue();
      // Nothing more is asked for until this one is stored.
      assertThat(stream.deframe(MIB_16)).isFalse();
      stream.process();
    }

    assertThat(stream.lookahead.mostQueued()).isEqualTo(MIB_16 + WriteLookahead.MESSAGE_OVERHEAD);
  }

  @Test
  void aSwitchFromSmallToLargeChunksHoldsAtMostTheBudgetAndOneMessage() {
    Stream stream = new Stream(server(BUDGET, 64 * BUDGET));
    while (stream.lookahead.queued() < BUDGET - KIB_16) {
      stream.deframe(KIB_16);
    }
    // The client now sends the largest messages it may: the one asked for arrives, then nothing.
    for (int i = 0; i < 10; i++) {
      stream.deframe(MIB_16);
    }

    long bound = BUDGET + MIB_16 + WriteLookahead.MESSAGE_OVERHEAD;
    assertThat(stream.lookahead.queued()).isLessThan(bound);
    assertThat(stream.lookahead.mostQueued()).isLessThan(bound);
  }

  @Test
  void pastTheServersBudgetEveryStreamAsksForOneMessageAtATime() {
    WriteLookaheads server = server(BUDGET, BUDGET / 2);
    Stream first = new Stream(server);
    while (first.deframe(KIB_16)) {}
    assertThat(server.held()).isBetween(BUDGET / 2, BUDGET / 2 + KIB_16 + 256);

    // The server's budget is spent: the second stream gets one message, then one per message
    // stored, never two at once; the first asks for nothing while it holds its queue.
    Stream second = new Stream(server);
    for (int i = 0; i < 100; i++) {
      assertThat(second.deframe(KIB_16)).isTrue();
      assertThat(second.asked).isFalse();
      assertThat(first.asked).isFalse();
      second.process();
      assertThat(second.asked).isTrue();
    }
    assertThat(server.mostHeld()).isLessThan(BUDGET / 2 + 2 * KIB_16 + 512);

    // Once the first stream's queue drains below the budget, it asks ahead again.
    while (server.held() >= BUDGET / 2) {
      first.process();
    }
    first.process();
    assertThat(first.asked).isTrue();
  }

  @Test
  void emptyMessagesCountTheirOverhead() {
    Stream stream = new Stream(server(BUDGET, 64 * BUDGET));
    int deframed = 0;
    // Bounded, so that a lookahead that never stops fails instead of running out of memory.
    while (deframed < 1_000_000 && stream.deframe(0)) {
      deframed++;
    }

    assertThat(deframed).isEqualTo((int) (BUDGET / WriteLookahead.MESSAGE_OVERHEAD));
  }

  @Test
  void anEndedStreamReleasesWhatItHeldAndAsksForNothing() {
    WriteLookaheads server = server(BUDGET, 64 * BUDGET);
    Stream stream = new Stream(server);
    for (int i = 0; i < 10; i++) {
      stream.deframe(KIB_16);
    }
    assertThat(server.held()).isEqualTo(10 * (KIB_16 + WriteLookahead.MESSAGE_OVERHEAD));

    stream.lookahead.end();

    assertThat(server.held()).isZero();
    assertThat(stream.lookahead.deframed(KIB_16)).isFalse();
    assertThat(stream.lookahead.processed()).isFalse();
    assertThat(server.held()).isZero();
  }
}
