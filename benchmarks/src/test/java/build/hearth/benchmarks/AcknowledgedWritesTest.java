package build.hearth.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.OutputFile;
import build.hearth.api.Digest;
import build.hearth.core.config.HearthConfig;
import build.hearth.server.HearthServer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The fault and load drivers' check of acknowledged writes, against a real in-process server with
 * the memory stores: it passes when the server holds what it acknowledged and names each write it
 * does not hold, so a crash or overload run that lost something cannot pass.
 */
class AcknowledgedWritesTest {
  private HearthServer server;
  private ReapiClient client;

  @BeforeEach
  void start() {
    server =
        HearthServer.start(
            HearthConfig.parse(
                """
                {
                  "blobStores": {"cas": {"type": "memory"}},
                  "actionCacheStores": {"ac": {"type": "memory"}},
                  "servers": [{"listen": "127.0.0.1:0",
                    "instances": {"": {"cas": "cas", "actionCache": "ac"}}}]
                }
                """,
                "AcknowledgedWritesTest"));
    client = new ReapiClient(server.port(), Duration.ofSeconds(20));
  }

  @AfterEach
  void stop() {
    client.close();
    server.close();
  }

  @Test
  void writesTheServerHoldsVerify() {
    AcknowledgedWrites acknowledged = new AcknowledgedWrites();
    byte[] large = new byte[(3 << 20) + 7];
    new java.util.Random(15).nextBytes(large);
    acknowledged.blob(client.write(large));
    byte[] small = "small".getBytes(StandardCharsets.UTF_8);
    client.batchUpdate(java.util.List.of(small));
    acknowledged.blob(Digest.of(small));
    Digest action = Digest.of("action".getBytes(StandardCharsets.UTF_8));
    ActionResult result = resultWith(Digest.of(small), 0);
    client.updateActionResult(action, result);
    acknowledged.result(action, result);

    assertThat(acknowledged.verify(client, 0)).isEmpty();
    assertThat(acknowledged.blobCount()).isEqualTo(2);
    assertThat(acknowledged.blobBytes()).isEqualTo(large.length + small.length);
  }

  @Test
  void aLostBlobALostEntryAndAChangedEntryAreEachNamed() {
    AcknowledgedWrites acknowledged = new AcknowledgedWrites();
    Digest neverWritten = Digest.of("never written".getBytes(StandardCharsets.UTF_8));
    acknowledged.blob(neverWritten);
    Digest lostAction = Digest.of("lost".getBytes(StandardCharsets.UTF_8));
    acknowledged.result(lostAction, resultWith(Digest.EMPTY, 0));
    byte[] small = "small".getBytes(StandardCharsets.UTF_8);
    client.batchUpdate(java.util.List.of(small));
    Digest changedAction = Digest.of("changed".getBytes(StandardCharsets.UTF_8));
    client.updateActionResult(changedAction, resultWith(Digest.of(small), 1));
    acknowledged.result(changedAction, resultWith(Digest.of(small), 0));

    assertThat(acknowledged.verify(client, 0))
        .hasSize(4)
        .anySatisfy(p -> assertThat(p).contains(neverWritten + " is missing"))
        .anySatisfy(p -> assertThat(p).contains(neverWritten + " cannot be read"))
        .anySatisfy(p -> assertThat(p).contains("entry " + lostAction + " is missing"))
        .anySatisfy(
            p ->
                assertThat(p)
                    .contains("entry " + changedAction + " is not the acknowledged result"));
  }

  @Test
  void metricsAreSummedOverTheSamplesWithTheLabel() {
    String exposition =
        """
        # HELP hearth_cas_entries Blobs the CAS store holds.
        hearth_cas_entries{store="cas"} 12.0
        hearth_cas_entries{store="other"} 5.0
        hearth_cas_size_bytes{store="cas"} 4096.0
        """;

    assertThat(ServerProcess.metric(exposition, "hearth_cas_entries", "store=\"cas\""))
        .isEqualTo(12.0);
    assertThat(ServerProcess.metric(exposition, "hearth_cas_size_bytes", "store=\"cas\""))
        .isEqualTo(4096.0);
    assertThat(ServerProcess.metric(exposition, "hearth_action_cache_entries", "store=\"ac\""))
        .isEqualTo(-1);
  }

  private static ActionResult resultWith(Digest output, int exitCode) {
    return ActionResult.newBuilder()
        .setExitCode(exitCode)
        .addOutputFiles(OutputFile.newBuilder().setPath("out").setDigest(output.toProto()))
        .build();
  }
}
