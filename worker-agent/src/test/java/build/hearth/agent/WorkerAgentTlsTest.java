package build.hearth.agent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import build.bazel.remote.execution.v2.OutputFile;
import build.hearth.api.Digest;
import build.hearth.core.scheduler.Ticket;
import build.hearth.grpc.WorkerTestServer;
import build.hearth.grpc.tls.ClientTls;
import build.hearth.grpc.tls.TestCertificates;
import build.hearth.grpc.tls.TestCertificates.Authority;
import build.hearth.grpc.tls.TestCertificates.Issued;
import build.hearth.grpc.tls.TestCertificates.KeyType;
import build.hearth.spi.transport.TlsSettings;
import build.hearth.spi.transport.TlsSettings.ClientCertificates;
import build.hearth.spi.worker.ActionOutcome;
import com.google.protobuf.ByteString;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A worker joins a scheduler over TLS and over mutual TLS and runs an action there. */
class WorkerAgentTlsTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  @TempDir Path dir;
  private final TestRunner.Script script = new TestRunner.Script();
  private final List<AutoCloseable> open = new ArrayList<>();
  private Authority ca;
  private Path caFile;
  private TlsSettings.Builder serverTls;

  @BeforeEach
  void certificates() {
    ca = TestCertificates.authority("Hearth test CA");
    caFile = ca.writeCertificate(dir.resolve("ca.pem"));
    Issued server = ca.server("scheduler", KeyType.EC);
    serverTls =
        TlsSettings.newBuilder(
            server.writeChain(dir.resolve("server.pem")),
            server.writeKey(dir.resolve("server.key")));
  }

  @AfterEach
  void close() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private WorkerTestServer server(TlsSettings tls) {
    WorkerTestServer server = new WorkerTestServer(tls);
    open.add(server);
    return server;
  }

  private WorkerAgent agent(WorkerTestServer server, ClientTls tls) {
    WorkerAgent agent =
        WorkerAgent.newBuilder()
            .endpoint(server.endpoint())
            .tls(tls)
            .name("tls-agent")
            .slots(1)
            .runner(script.factory())
            .backOff(Duration.ofMillis(20), Duration.ofMillis(300))
            .random(new Random(7))
            .build();
    open.add(agent);
    agent.start();
    return agent;
  }

  private static void runsAnAction(WorkerTestServer server) throws Exception {
    Digest input = server.cas.put(ByteString.copyFromUtf8("over tls"));
    Ticket<ActionOutcome> ticket = server.submit("upper", input.toString());
    ActionOutcome outcome = ticket.result().get(WAIT.toSeconds(), TimeUnit.SECONDS);

    assertThat(outcome.ran()).isTrue();
    OutputFile out = outcome.result().getOutputFiles(0);
    assertThat(server.cas.get(Digest.fromProto(out.getDigest())).toStringUtf8())
        .isEqualTo("OVER TLS");
  }

  @Test
  void joinsATlsSchedulerAndRunsAnAction() throws Exception {
    WorkerTestServer server = server(serverTls.build());
    assertThat(server.endpoint()).startsWith("grpcs://");

    WorkerAgent agent =
        agent(server, ClientTls.load(Optional.of(caFile), Optional.empty(), Optional.empty()));

    await().atMost(WAIT).until(agent::isConnected);
    runsAnAction(server);
  }

  @Test
  void joinsAnMtlsSchedulerWithItsCertificateAndRunsAnAction() throws Exception {
    WorkerTestServer server =
        server(serverTls.clientCa(caFile).clientCertificates(ClientCertificates.REQUIRED).build());
    Issued worker = ca.client("worker-1", KeyType.RSA);

    WorkerAgent agent =
        agent(
            server,
            ClientTls.load(
                Optional.of(caFile),
                Optional.of(worker.writeChain(dir.resolve("worker.pem"))),
                Optional.of(worker.writeKey(dir.resolve("worker.key")))));

    await().atMost(WAIT).until(agent::isConnected);
    runsAnAction(server);
  }

  @Test
  void tlsFilesWithAPlaintextEndpointAreRefusedAtBuild() {
    ClientTls tls = ClientTls.load(Optional.of(caFile), Optional.empty(), Optional.empty());

    assertThatThrownBy(
            () ->
                WorkerAgent.newBuilder()
                    .endpoint("grpc://localhost:1234")
                    .tls(tls)
                    .runner(script.factory())
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("use grpcs://");
  }
}
