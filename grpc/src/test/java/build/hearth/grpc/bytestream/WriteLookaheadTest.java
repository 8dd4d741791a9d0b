package build.hearth.grpc.bytestream;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class WriteLookaheadTest {
  /** Receives {@code count} messages of {@code size} bytes; returns how often it asked for more. */
  private static int receive(WriteLookahead lookahead, int count, int size, int[] outstanding) {
    int asks = 0;
    for (int i = 0; i < count; i++) {
      outstanding[0]--;
      int more = lookahead.received(size);
      assertThat(more).isNotNegative();
      if (more > 0) {
        asks++;
      }
      outstanding[0] += more;
      assertThat(outstanding[0])
          .as("messages asked for but not yet received")
          .isBetween(1, WriteLookahead.MAX_MESSAGES);
    }
    return asks;
  }

  @Test
  void smallChunksAreAskedForInBatchesUpToTheCap() {
    WriteLookahead lookahead = new WriteLookahead();
    int[] outstanding = {lookahead.initial()};

    int asks = receive(lookahead, 1600, 16 * 1024, outstanding);

    // Half the cap at a time, instead of once per message.
    assertThat(asks)
        .isBetween(
            1600 / (WriteLookahead.MAX_MESSAGES / 2), 1600 / (WriteLookahead.MAX_MESSAGES / 2) + 1);
  }

  @Test
  void largeChunksKeepAboutTheTargetBytesAhead() {
    WriteLookahead lookahead = new WriteLookahead();
    int[] outstanding = {lookahead.initial()};

    receive(lookahead, 100, 1024 * 1024, outstanding);

    assertThat((long) outstanding[0] * 1024 * 1024)
        .isLessThanOrEqualTo(WriteLookahead.TARGET_BYTES);
  }

  @Test
  void aSwitchToLargerChunksStopsAskingUntilTheBacklogShrinks() {
    WriteLookahead lookahead = new WriteLookahead();
    int[] outstanding = {lookahead.initial()};
    receive(lookahead, 100, 1024, outstanding);
    assertThat(outstanding[0]).isGreaterThan(WriteLookahead.MAX_MESSAGES / 2);

    // Now 8 MiB chunks: only the minimum is wanted, so nothing more is asked for until the
    // messages already asked for have arrived.
    int asked = 0;
    int before = outstanding[0];
    for (int i = 0; i < before - WriteLookahead.MIN_MESSAGES; i++) {
      outstanding[0]--;
      asked += lookahead.received(8 << 20);
    }
    assertThat(asked).isZero();
    receive(lookahead, 10, 8 << 20, outstanding);
    assertThat(outstanding[0]).isLessThanOrEqualTo(WriteLookahead.MIN_MESSAGES);
  }
}
