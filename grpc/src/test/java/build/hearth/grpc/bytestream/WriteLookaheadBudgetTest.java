package build.hearth.grpc.bytestream;

import static build.hearth.grpc.TestServer.pattern;
import static build.hearth.grpc.TestServer.uploadName;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.hearth.api.Digest;
import build.hearth.grpc.LoopbackServer;
import build.hearth.grpc.TestServer;
import build.hearth.spi.transport.ServerLimits;
import com.google.protobuf.ByteString;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What Write streams hold over a real Netty transport, while their store is stuck on the first
 * message: measured by the lookahead's own count of what the transport deframed, which the stream
 * tracer takes before the service sees a message.
 */
class WriteLookaheadBudgetTest {
  /** The test server's inbound message limit: its maxBatchSize is small, so the 16 MiB floor. */
  private static final long INBOUND_LIMIT = 16 << 20;

  private static final long BUDGET = ServerLimits.DEFAULTS.writeLookaheadBytes();

  private final CountDownLatch gate = new CountDownLatch(1);
  private final AtomicInteger waiting = new AtomicInteger();
  private TestServer server;

  @BeforeEach
  void start() {
    server = TestServer.start();
    server.blobs.holdContains(gate, waiting);
  }

  @AfterEach
  void stop() {
    gate.countDown();
    server.close();
  }

  /** Sends {@code data} in chunks of {@code chunk} bytes on one stream; returns the stream. */
  private TestServer.Upload send(ByteString data, int chunk) {
    String name = uploadName("", Digest.of(data));
    TestServer.Upload upload = server.new Upload();
    for (int offset = 0; offset < data.size(); offset += chunk) {
      int end = Math.min(data.size(), offset + chunk);
      upload.send(name, offset, data.substring(offset, end), end == data.size());
    }
    return upload;
  }

  @Test
  void bazelsSmallChunksAreDeframedTensAheadUpToTheStreamsBudget() {
    int chunk = 16 << 10;
    TestServer.Upload upload = send(pattern(4 << 20, 1), chunk);
    WriteLookaheads lookaheads = server.writeLookaheads();

    // The service is stuck on the first chunk; the transport goes on deframing the next ones
    // until the stream holds its budget: 64 chunks asked for without the service's thread.
    await().atMost(LoopbackServer.TIMEOUT).until(() -> waiting.get() == 1);
    await().atMost(LoopbackServer.TIMEOUT).until(() -> lookaheads.held() >= BUDGET);

    gate.countDown();
    assertThat(upload.await().getCommittedSize()).isEqualTo(4 << 20);
    // Less than the budget and one message: the stated worst case for a stream.
    assertThat(lookaheads.mostHeld())
        .isLessThan(BUDGET + chunk + 64 + WriteLookahead.MESSAGE_OVERHEAD);
    await().atMost(LoopbackServer.TIMEOUT).until(() -> lookaheads.held() == 0);
  }

  @Test
  void largeMessagesAreAskedForOneAtATime() {
    int chunk = (16 << 20) - (1 << 10);
    TestServer.Upload upload = send(pattern(3 * chunk, 2), chunk);
    WriteLookaheads lookaheads = server.writeLookaheads();

    await().atMost(LoopbackServer.TIMEOUT).until(() -> waiting.get() == 1);
    await().atMost(LoopbackServer.TIMEOUT).until(() -> lookaheads.held() >= chunk);
    // The client has sent all three messages (they fit in the connection's flow-control window);
    // counting messages ahead, the old lookahead would have deframed them all by now.

    gate.countDown();
    assertThat(upload.await().getCommittedSize()).isEqualTo(3L * chunk);
    assertThat(lookaheads.mostHeld())
        .isLessThan(BUDGET + INBOUND_LIMIT + WriteLookahead.MESSAGE_OVERHEAD);
    await().atMost(LoopbackServer.TIMEOUT).until(() -> lookaheads.held() == 0);
  }
}
