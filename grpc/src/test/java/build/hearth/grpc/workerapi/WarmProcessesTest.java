package build.hearth.grpc.workerapi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.hearth.grpc.RawWorker;
import build.hearth.grpc.WorkerTestServer;
import build.hearth.proto.workerapi.SchedulerMessage.KindCase;
import build.hearth.proto.workerapi.WarmKey;
import build.hearth.proto.workerapi.WarmProcesses;
import build.hearth.proto.workerapi.WorkerMessage;
import io.grpc.Status;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Hand-made WarmProcesses reports over a real socket, from a worker stream to the scheduler's
 * {@link build.hearth.core.scheduler.WarmWorkers}. Reports from the worker agent are tested in
 * hearth-worker-agent's {@code build.hearth.agent.WarmProcessesTest}.
 */
class WarmProcessesTest {
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final String KEY = "javac-17";

  private WorkerTestServer server;

  @BeforeEach
  void start() {
    server = new WorkerTestServer();
  }

  @AfterEach
  void stop() {
    server.close();
  }

  @Test
  void aHandDrivenStreamsReportIsSummedPerKeyAndForgottenWhenItEnds() throws Exception {
    RawWorker raw = new RawWorker(server.channel());
    raw.register("raw-warm", 1);
    raw.next(KindCase.REGISTERED);

    raw.send(
        warmProcesses(
            warmKey(KEY, 1), warmKey(KEY, 2), warmKey("none", 0), warmKey("negative", -4)));

    await().atMost(WAIT).until(() -> server.warm.idle("raw-warm").equals(Map.of(KEY, 3)));
    raw.send(warmProcesses());
    await().atMost(WAIT).until(() -> server.warm.idle("raw-warm").isEmpty());

    raw.send(warmProcesses(warmKey(KEY, 1)));
    await().atMost(WAIT).until(() -> !server.warm.idle("raw-warm").isEmpty());
    raw.close();
    await().atMost(WAIT).until(() -> server.warm.idle("raw-warm").isEmpty());
    assertThat(server.warm.report("raw-warm", Map.of(KEY, 1))).isFalse();
  }

  @Test
  void warmProcessesBeforeRegisterIsRefused() throws Exception {
    try (RawWorker raw = new RawWorker(server.channel())) {
      raw.send(warmProcesses(warmKey(KEY, 1)));

      Status status = raw.awaitEnd(WAIT);
      assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(status.getDescription())
          .contains("the first message on a worker stream must be Register, not WarmProcesses");
    }
  }

  private static WarmKey warmKey(String key, int idle) {
    return WarmKey.newBuilder().setClientKey(key).setIdle(idle).build();
  }

  private static WorkerMessage warmProcesses(WarmKey... keys) {
    return WorkerMessage.newBuilder()
        .setWarmProcesses(WarmProcesses.newBuilder().addAllKeys(List.of(keys)))
        .build();
  }
}
