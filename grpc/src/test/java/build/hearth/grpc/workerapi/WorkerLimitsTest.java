package build.hearth.grpc.workerapi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Platform;
import build.hearth.core.remote.WorkerLimits;
import build.hearth.core.scheduler.PlatformLexicon;
import build.hearth.core.scheduler.Ticket;
import build.hearth.grpc.RawWorker;
import build.hearth.grpc.WorkerTestServer;
import build.hearth.grpc.common.Rpc;
import build.hearth.proto.workerapi.ActionFinished;
import build.hearth.proto.workerapi.AssignAction;
import build.hearth.proto.workerapi.PersistentKeyStats;
import build.hearth.proto.workerapi.PersistentPoolStats;
import build.hearth.proto.workerapi.Register;
import build.hearth.proto.workerapi.SchedulerMessage.KindCase;
import build.hearth.proto.workerapi.WarmKey;
import build.hearth.proto.workerapi.WarmProcesses;
import build.hearth.proto.workerapi.WorkerMessage;
import build.hearth.proto.workerapi.WorkerStatus;
import build.hearth.spi.worker.ActionOutcome;
import io.grpc.Status;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A worker declares no more than the server's bounds allow: hand-made registrations and reports
 * over a real socket, each over one bound, are refused with a status naming the field and the
 * limit, and the server goes on serving well-behaved workers.
 */
class WorkerLimitsTest {
  private static final Duration WAIT = Duration.ofSeconds(10);

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
  void aReattachingWorkerNamingMoreRunningActionsThanItsSlotsIsRefused() throws Exception {
    Status status =
        refused(
            Register.newBuilder()
                .setName("claimer")
                .setSlots(1)
                .addRunning("exec-1")
                .addRunning("exec-2"));
    assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(status.getDescription()).contains("'claimer'", "2 actions", "1 slots");
    assertServes();
  }

  @Test
  void aReattachingWorkerNamingAnOverlongAssignmentIdIsRefused() throws Exception {
    Status status =
        refused(Register.newBuilder().setName("claimer").setSlots(1).addRunning("x".repeat(257)));
    assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
    assertThat(status.getDescription()).contains("'claimer'", "257 characters", "1 to 256");
    assertServes();
  }

  @Test
  void tooManySlotsAreRefused() throws Exception {
    Status status = refused(Register.newBuilder().setName("hoarder").setSlots(1025));
    assertThat(status.getDescription())
        .contains("'hoarder'", "1025 slots", "Register.slots", "at most 1024");
    assertServes();
  }

  @Test
  void theMostSlotsAreAccepted() throws Exception {
    try (RawWorker worker = new RawWorker(server.channel())) {
      worker.register("big", WorkerLimits.MAX_SLOTS);
      worker.next(KindCase.REGISTERED);
      assertThat(server.scheduler.stats().slots()).isEqualTo(WorkerLimits.MAX_SLOTS);
    }
  }

  @Test
  void anOverlongNameIsRefusedWithoutEchoingIt() throws Exception {
    String name = "w".repeat(WorkerLimits.MAX_NAME_LENGTH + 1);
    Status status = refused(Register.newBuilder().setName(name).setSlots(1));
    assertThat(status.getDescription())
        .contains("Register.name is 257 characters long", "at most 256")
        .doesNotContain(name);
    assertServes();
  }

  @Test
  void tooManyPropertiesAreRefused() throws Exception {
    Register.Builder register = Register.newBuilder().setName("crowded").setSlots(1);
    for (int i = 0; i <= PlatformLexicon.MAX_PROPERTIES; i++) {
      register.addProperties(property("capability", "c" + i));
    }
    Status status = refused(register);
    assertThat(status.getDescription())
        .contains("'crowded'", "129 platform properties", "Register.properties", "at most 128");
    assertServes();
  }

  @Test
  void theMostPropertiesAreAccepted() throws Exception {
    Register.Builder register = Register.newBuilder().setName("full").setSlots(1);
    for (int i = 0; i < PlatformLexicon.MAX_PROPERTIES; i++) {
      register.addProperties(property("capability", "c" + i));
    }
    try (RawWorker worker = new RawWorker(server.channel())) {
      worker.send(WorkerMessage.newBuilder().setRegister(register).build());
      worker.next(KindCase.REGISTERED);
      assertThat(server.scheduler.stats().workers()).isEqualTo(1);
    }
  }

  @Test
  void overlongPropertyNamesAndValuesAreRefused() throws Exception {
    Status name =
        refused(
            Register.newBuilder()
                .setName("long-name")
                .setSlots(1)
                .addProperties(property("n".repeat(PlatformLexicon.MAX_NAME_LENGTH + 1), "x")));
    assertThat(name.getDescription())
        .contains("'long-name'", "name is 257 characters long", "at most 256");

    Status value =
        refused(
            Register.newBuilder()
                .setName("long-value")
                .setSlots(1)
                .addProperties(
                    property("capability", "v".repeat(PlatformLexicon.MAX_VALUE_LENGTH + 1))));
    assertThat(value.getDescription())
        .contains("'long-value'", "'capability'", "4097 characters long", "at most 4096");
    assertServes();
  }

  @Test
  void aWarmProcessesReportOverTheBoundsEndsTheStreamAndRequeuesItsAction() throws Exception {
    try (RawWorker worker = new RawWorker(server.channel())) {
      worker.register("warm-flood", 1);
      worker.next(KindCase.REGISTERED);
      Ticket<ActionOutcome> ticket = server.submit("upper", "flood");
      worker.next(KindCase.ASSIGN);

      WarmProcesses.Builder warm = WarmProcesses.newBuilder();
      for (int i = 0; i <= WorkerLimits.MAX_PERSISTENT_KEYS; i++) {
        warm.addKeys(WarmKey.newBuilder().setClientKey("key-" + i).setIdle(1));
      }
      worker.send(WorkerMessage.newBuilder().setWarmProcesses(warm).build());

      Status status = worker.awaitEnd(WAIT);
      assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(status.getDescription())
          .contains("'warm-flood'", "1025 persistent-worker keys", "WarmProcesses.keys");
      assertThat(server.warm.idle("warm-flood")).isEmpty();
      await().atMost(WAIT).until(() -> server.scheduler.stats().requeued() == 1);
      assertThat(ticket.stage()).isEqualTo(Ticket.Stage.QUEUED);
    }
    assertServes();
  }

  @Test
  void aStatusReportOverTheBoundsIsDroppedAndTheWorkerStays() throws Exception {
    try (RawWorker worker = new RawWorker(server.channel())) {
      worker.register("chatty-stats", 1);
      worker.next(KindCase.REGISTERED);
      PersistentPoolStats.Builder stats = PersistentPoolStats.newBuilder();
      for (int i = 0; i <= WorkerLimits.MAX_PERSISTENT_KEYS; i++) {
        stats.addKeys(
            PersistentKeyStats.newBuilder().setClientKey("key-" + i).setProtocol("proto"));
      }
      worker.send(
          WorkerMessage.newBuilder()
              .setStatus(WorkerStatus.newBuilder().setPersistentWorkers(stats))
              .build());
      worker.keepAlive();

      // Still connected and still listed, without the report it could not keep.
      server.submit("upper", "still");
      worker.next(KindCase.ASSIGN);
      assertThat(worker.isEnded()).isFalse();
      assertThat(server.reports.snapshot().get("chatty-stats").persistentWorkers()).isEmpty();
    }
  }

  private Status refused(Register.Builder register) throws Exception {
    try (RawWorker worker = new RawWorker(server.channel())) {
      worker.send(WorkerMessage.newBuilder().setRegister(register).build());
      Status status = worker.awaitEnd(WAIT);
      assertThat(status.getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(server.scheduler.stats().workers()).isZero();
      return status;
    }
  }

  /** A well-behaved worker still registers and runs an action. */
  private void assertServes() throws Exception {
    try (RawWorker worker = new RawWorker(server.channel())) {
      worker.register("well-behaved", 2);
      worker.next(KindCase.REGISTERED);
      Ticket<ActionOutcome> ticket = server.submit("upper", "ok");
      // An action a refused worker lost may come first; answer whatever arrives.
      boolean answeredOk = false;
      while (!answeredOk) {
        AssignAction assign = worker.next(KindCase.ASSIGN).getAssign();
        worker.finished(
            ActionFinished.newBuilder()
                .setAssignmentId(assign.getAssignmentId())
                .setStatus(Rpc.OK)
                .setResult(ActionResult.getDefaultInstance())
                .build());
        answeredOk = assign.getCommand().getArgumentsList().contains("ok");
      }
      assertThat(ticket.result().get(10, TimeUnit.SECONDS).ran()).isTrue();
    }
  }

  private static Platform.Property property(String name, String value) {
    return Platform.Property.newBuilder().setName(name).setValue(value).build();
  }
}
