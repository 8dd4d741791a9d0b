package build.hearth.core.persistent;

import static build.hearth.core.persistent.ScriptedTools.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import build.hearth.api.ToolProtocol;
import build.hearth.core.persistent.ToolProcessException.Kind;
import build.hearth.proto.worker.Input;
import build.hearth.proto.worker.WorkRequest;
import build.hearth.proto.worker.WorkResponse;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** {@link PipedToolProcess} driving real {@link ScriptedTool} processes. */
class PipedToolProcessTest {
  private static final Duration PATIENCE = Duration.ofSeconds(60);

  @TempDir Path directory;

  private final List<PipedToolProcess> started = new ArrayList<>();
  private final ExecutorService senders = Executors.newFixedThreadPool(16);

  @AfterEach
  void tearDown() {
    senders.shutdownNow();
    started.forEach(PipedToolProcess::kill);
  }

  private PipedToolProcess start(ToolProtocol protocol, boolean multiplex, String... flags) {
    PipedToolProcess process = ScriptedTools.start(directory, protocol, multiplex, flags);
    started.add(process);
    return process;
  }

  private static WorkResponse answer(CompletableFuture<WorkResponse> future)
      throws InterruptedException, ExecutionException, TimeoutException {
    return future.get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
  }

  private static void assertFails(
      CompletableFuture<WorkResponse> future, Kind kind, Consumer<String> message) {
    assertThatThrownBy(() -> answer(future))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOfSatisfying(
            ToolProcessException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(kind);
              message.accept(e.getMessage());
            });
  }

  private void awaitGone(PipedToolProcess process) {
    await().atMost(PATIENCE).until(() -> !process.isAlive() && process.exitCode().isPresent());
  }

  @ParameterizedTest
  @EnumSource(ToolProtocol.class)
  void aSingleplexProcessAnswersOneRequestAfterTheOther(ToolProtocol protocol) throws Exception {
    PipedToolProcess process = start(protocol, false);

    WorkResponse first = answer(process.send(request(0, "echo", "hello", "wörld")));
    WorkResponse second = answer(process.send(request(0, "exit", "4")));

    assertThat(first.getExitCode()).isZero();
    assertThat(first.getOutput()).isEqualTo("hello wörld");
    assertThat(first.getRequestId()).isZero();
    assertThat(second.getExitCode()).isEqualTo(4);
    assertThat(process.isAlive()).isTrue();
    assertThat(process.pid())
        .isEqualTo(Long.parseLong(answer(process.send(request(0, "pid"))).getOutput()));
  }

  @ParameterizedTest
  @EnumSource(ToolProtocol.class)
  void aMultiplexProcessRoutesConcurrentResponsesByRequestId(ToolProtocol protocol)
      throws Exception {
    PipedToolProcess process = start(protocol, true);
    CountDownLatch go = new CountDownLatch(1);
    List<CompletableFuture<CompletableFuture<WorkResponse>>> sends = new ArrayList<>();
    for (int i = 1; i <= 16; i++) {
      int id = i;
      sends.add(
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  go.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                }
                return process.send(request(id, "echo", "answer", "to", Integer.toString(id)));
              },
              senders));
    }
    go.countDown();

    for (int i = 1; i <= 16; i++) {
      WorkResponse response = answer(sends.get(i - 1).get(PATIENCE.toSeconds(), TimeUnit.SECONDS));
      assertThat(response.getRequestId()).isEqualTo(i);
      assertThat(response.getOutput()).isEqualTo("answer to " + i);
    }
  }

  @ParameterizedTest
  @EnumSource(ToolProtocol.class)
  void manyThreadsSendingRoundAfterRoundEachGetTheirOwnAnswers(ToolProtocol protocol)
      throws Exception {
    PipedToolProcess process = start(protocol, true);
    Random random = new Random(20240611);
    int threads = 16;
    int rounds = 20;
    // Scripts chosen up front from a fixed seed: outputs of varied sizes and exit codes.
    String[][] outputs = new String[threads][rounds];
    for (String[] row : outputs) {
      for (int r = 0; r < rounds; r++) {
        row[r] = "x".repeat(random.nextInt(3000)) + random.nextInt(1000);
      }
    }
    List<CompletableFuture<Void>> senderDone = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int thread = t;
      senderDone.add(
          CompletableFuture.runAsync(
              () -> {
                for (int r = 0; r < rounds; r++) {
                  int id = thread * 1000 + r + 1;
                  WorkResponse response =
                      process.send(request(id, "echo", outputs[thread][r])).join();
                  assertThat(response.getRequestId()).isEqualTo(id);
                  assertThat(response.getOutput()).isEqualTo(outputs[thread][r]);
                }
              },
              senders));
    }

    CompletableFuture.allOf(senderDone.toArray(CompletableFuture[]::new))
        .get(PATIENCE.toSeconds(), TimeUnit.SECONDS);
    assertThat(process.isAlive()).isTrue();
  }

  @ParameterizedTest
  @EnumSource(ToolProtocol.class)
  void aCancelledRequestIsAnsweredWithWasCancelled(ToolProtocol protocol) throws Exception {
    PipedToolProcess process = start(protocol, true, "--cancellable");

    CompletableFuture<WorkResponse> waiting = process.send(request(7, "sleep-until-cancel"));
    CompletableFuture<WorkResponse> other = process.send(request(8, "echo", "still", "served"));
    assertThat(answer(other).getOutput()).isEqualTo("still served");
    assertThat(waiting).isNotDone();
    process.cancel(7);

    WorkResponse response = answer(waiting);
    assertThat(response.getWasCancelled()).isTrue();
    assertThat(response.getRequestId()).isEqualTo(7);
    assertThat(process.isAlive()).isTrue();
    process.cancel(7); // answered already: nothing happens
    assertThat(answer(process.send(request(9, "echo", "after"))).getOutput()).isEqualTo("after");
  }

  @Test
  void aSingleplexRequestCanBeCancelledToo() throws Exception {
    PipedToolProcess process = start(ToolProtocol.PROTO, false, "--cancellable");

    CompletableFuture<WorkResponse> waiting = process.send(request(0, "sleep-until-cancel"));
    process.cancel(0);

    assertThat(answer(waiting).getWasCancelled()).isTrue();
  }

  @ParameterizedTest
  @EnumSource(ToolProtocol.class)
  void garbageOnStdoutIsAProtocolErrorQuotingItWithTheStderrTail(ToolProtocol protocol)
      throws Exception {
    PipedToolProcess process = start(protocol, true, "--startup-stderr=compiler warming up");
    answer(process.send(request(1, "echo", "fine")));
    CompletableFuture<WorkResponse> bystander = process.send(request(2, "sleep-until-cancel"));

    CompletableFuture<WorkResponse> broken =
        process.send(request(3, "garbage", "Note: Some input files use unchecked operations."));

    Consumer<String> message =
        text ->
            assertThat(text)
                .contains("broke the worker protocol")
                .contains("\"Note: Some input files use unchecked operations.\\n")
                .contains("logging belongs on stderr")
                .contains("its stderr (")
                .contains("compiler warming up\n");
    assertFails(broken, Kind.PROTOCOL, message);
    assertFails(bystander, Kind.PROTOCOL, message);
    awaitGone(process);
    assertFails(process.send(request(4, "echo", "late")), Kind.PROTOCOL, message);
  }

  @Test
  void aResponseToNoPendingRequestIsAProtocolError() throws Exception {
    PipedToolProcess process = start(ToolProtocol.JSON, true);
    answer(process.send(request(1, "echo", "fine")));

    assertFails(
        process.send(request(2, "answer-as", "99")),
        Kind.PROTOCOL,
        text -> assertThat(text).contains("it answered request 99, but the pending ones are [2]"));
  }

  @Test
  void aCrashMidRequestFailsEveryPendingRequestWithTheStderrTail() throws Exception {
    PipedToolProcess process = start(ToolProtocol.PROTO, true);
    answer(process.send(request(1, "stderr", "loaded 3 plugins")));
    CompletableFuture<WorkResponse> waiting = process.send(request(2, "sleep-until-cancel"));

    CompletableFuture<WorkResponse> crashing = process.send(request(3, "crash"));

    Consumer<String> message =
        text ->
            assertThat(text)
                .contains("exited with code 3")
                .contains("request(s) [")
                .contains("loaded 3 plugins")
                .endsWith("crashing on purpose in request 3\n");
    assertFails(crashing, Kind.DIED, message);
    assertFails(waiting, Kind.DIED, message);
    awaitGone(process);
    assertThat(process.exitCode()).hasValue(3);
  }

  @ParameterizedTest
  @EnumSource(ToolProtocol.class)
  void exitingAtStartUpIsAStartFailureWithTheExitCodeAndStartupStderr(ToolProtocol protocol) {
    PipedToolProcess process =
        start(
            protocol,
            false,
            "--startup-stderr=error: cannot load the compiler",
            "--exit-at-start=7");

    assertFails(
        process.send(request(0, "echo", "never")),
        Kind.START_FAILED,
        text ->
            assertThat(text)
                .contains("exited at start-up with code 7")
                .endsWith("error: cannot load the compiler\n"));
    awaitGone(process);
    assertThat(process.exitCode()).hasValue(7);
  }

  @Test
  void aProgramThatCannotStartFailsAtOnce() {
    PipedToolProcess.Spec spec =
        PipedToolProcess.Spec.newBuilder()
            .command(List.of(directory.resolve("no-such-tool").toString(), "--persistent_worker"))
            .workingDirectory(directory)
            .logFile(directory.resolve("logs/tool.log"))
            .build();

    assertThatThrownBy(() -> PipedToolProcess.start(spec))
        .isInstanceOfSatisfying(
            ToolProcessException.class, e -> assertThat(e.kind()).isEqualTo(Kind.START_FAILED))
        .hasMessageContaining("cannot start the worker process")
        .hasMessageContaining("no-such-tool");
  }

  @Test
  void theLauncherSeamSeesThePreparedRequestAndCanRefuse() {
    List<List<String>> launched = new ArrayList<>();
    PipedToolProcess.Spec spec =
        PipedToolProcess.Spec.newBuilder()
            .command(List.of("/bin/tool", "--persistent_worker"))
            .environment(Map.of("ONLY", "this"))
            .workingDirectory(directory)
            .logFile(directory.resolve("tool.log"))
            .launcher(
                request -> {
                  launched.add(request.arguments());
                  assertThat(request.environment()).containsExactly(Map.entry("ONLY", "this"));
                  assertThat(request.workingDirectory()).isEqualTo(directory);
                  assertThat(request.stdin()).isEqualTo(Redirect.PIPE);
                  assertThat(request.stdout()).isEqualTo(Redirect.PIPE);
                  assertThat(request.stderr())
                      .isEqualTo(Redirect.appendTo(directory.resolve("tool.log").toFile()));
                  throw new IOException("sandbox refused it");
                })
            .build();

    assertThatThrownBy(() -> PipedToolProcess.start(spec))
        .isInstanceOf(ToolProcessException.class)
        .hasMessageContaining("sandbox refused it");
    assertThat(launched).containsExactly(List.of("/bin/tool", "--persistent_worker"));
  }

  @Test
  void requestIdsMustSuitTheProcess() throws Exception {
    PipedToolProcess singleplex = start(ToolProtocol.PROTO, false, "--cancellable");
    PipedToolProcess multiplex = start(ToolProtocol.PROTO, true);

    assertThatThrownBy(() -> singleplex.send(request(1, "echo")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> multiplex.send(request(0, "echo")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> multiplex.send(WorkRequest.newBuilder().setRequestId(1).setCancel(true).build()))
        .isInstanceOf(IllegalArgumentException.class);

    CompletableFuture<WorkResponse> busy = singleplex.send(request(0, "sleep-until-cancel"));
    assertThatThrownBy(() -> singleplex.send(request(0, "echo")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already has a request pending");
    CompletableFuture<WorkResponse> five = multiplex.send(request(5, "sleep-until-cancel"));
    assertThatThrownBy(() -> multiplex.send(request(5, "echo")))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("request 5 is already pending");

    singleplex.cancel(0);
    assertThat(answer(busy).getWasCancelled()).isTrue();
    assertThat(five).isNotDone();
  }

  @Test
  void theProcessGetsExactlyItsOwnEnvironmentAndDirectory() throws Exception {
    PipedToolProcess process = start(ToolProtocol.PROTO, false);

    assertThat(answer(process.send(request(0, "env", "HEARTH_SCRIPTED_TOOL"))).getOutput())
        .isEqualTo("yes");
    assertThat(answer(process.send(request(0, "env", "PATH"))).getOutput()).isEqualTo("<unset>");
    assertThat(answer(process.send(request(0, "env", "HOME"))).getOutput()).isEqualTo("<unset>");
    assertThat(Path.of(answer(process.send(request(0, "cwd"))).getOutput()))
        .isEqualTo(directory.toRealPath());
  }

  @ParameterizedTest
  @EnumSource(ToolProtocol.class)
  void requestsCarryInputsSandboxAndVerbosityIntact(ToolProtocol protocol) throws Exception {
    PipedToolProcess process = start(protocol, true);
    String hex = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
    WorkRequest request =
        request(3, "inputs").toBuilder()
            .addInputs(
                Input.newBuilder().setPath("src/A.java").setDigest(ByteString.copyFromUtf8(hex)))
            .addInputs(Input.newBuilder().setPath("empty/digest"))
            .setVerbosity(10)
            .setSandboxDir("sandbox/3")
            .build();

    assertThat(answer(process.send(request)).getOutput())
        .isEqualTo("src/A.java " + hex + "\nempty/digest \n");
    assertThat(
            answer(
                    process.send(
                        request.toBuilder().setRequestId(4).setArguments(0, "describe").build()))
                .getOutput())
        .isEqualTo("id=4 verbosity=10 sandbox=sandbox/3 arguments=[describe]");
    answer(
        process.send(
            request(5, "write", "out/a.txt", "from", "the", "sandbox").toBuilder()
                .setSandboxDir("sandbox/5")
                .build()));
    assertThat(directory.resolve("sandbox/5/out/a.txt")).hasContent("from the sandbox");
  }

  @Test
  void shutdownClosesStdinAndAWellBehavedToolLeaves() throws Exception {
    PipedToolProcess process = start(ToolProtocol.PROTO, true);
    answer(process.send(request(1, "echo", "up")));
    CompletableFuture<WorkResponse> pending = process.send(request(2, "sleep-until-cancel"));

    process.shutdown(PATIENCE);

    assertThat(process.isAlive()).isFalse();
    assertThat(process.exitCode()).hasValue(0);
    assertFails(pending, Kind.DIED, text -> assertThat(text).contains("was shut down"));
    assertFails(
        process.send(request(3, "echo")),
        Kind.DIED,
        text -> assertThat(text).contains("was shut down"));
    process.shutdown(PATIENCE); // idempotent
    assertThat(process.residentBytes()).isEmpty();
  }

  @Test
  void shutdownSendsSigtermToAToolThatIgnoresTheEndOfStdin() throws Exception {
    PipedToolProcess process = start(ToolProtocol.PROTO, false, "--ignore-stdin-close");
    answer(process.send(request(0, "echo", "up")));

    process.shutdown(Duration.ofMillis(300));

    assertThat(process.exitCode()).hasValue(128 + 15);
  }

  @Test
  void shutdownKillsAToolThatIgnoresStdinAndSigterm() throws Exception {
    PipedToolProcess process =
        start(ToolProtocol.PROTO, false, "--ignore-stdin-close", "--ignore-sigterm");
    answer(process.send(request(0, "echo", "up")));

    process.shutdown(Duration.ofMillis(300));

    assertThat(process.exitCode()).hasValue(128 + 9);
  }

  @Test
  void shutdownAlsoEndsWhatTheToolStarted() throws Exception {
    PipedToolProcess process = start(ToolProtocol.PROTO, false);
    long child = Long.parseLong(answer(process.send(request(0, "spawn-child"))).getOutput());
    assertThat(ProcessHandle.of(child)).isPresent();

    process.shutdown(PATIENCE);

    await()
        .atMost(PATIENCE)
        .until(() -> ProcessHandle.of(child).map(h -> !h.isAlive()).orElse(true));
  }

  @Test
  void killEndsTheProcessAtOnceAndFailsPendingRequests() throws Exception {
    PipedToolProcess process = start(ToolProtocol.JSON, true);
    answer(process.send(request(1, "echo", "up")));
    CompletableFuture<WorkResponse> pending = process.send(request(2, "sleep-until-cancel"));

    process.kill();

    assertFails(pending, Kind.DIED, text -> assertThat(text).contains("was killed"));
    awaitGone(process);
    assertThat(process.exitCode()).hasValue(128 + 9);
  }

  @Test
  void residentMemoryGrowsWithWhatTheToolHolds() throws Exception {
    PipedToolProcess process = start(ToolProtocol.PROTO, false);
    answer(process.send(request(0, "echo", "up")));
    long before = process.residentBytes().orElseThrow();

    answer(process.send(request(0, "allocate", "100")));

    assertThat(process.residentBytes().orElseThrow()).isGreaterThan(before + (80L << 20));
  }

  @Test
  void theStderrTailIsBoundedAndOnlyThisProcesssOwn() throws Exception {
    Path log = directory.resolve("stderr.log");
    Files.writeString(log, "output of an earlier process\n");
    PipedToolProcess process = start(ToolProtocol.PROTO, false, "--startup-stderr=first line");
    answer(process.send(request(0, "echo", "up")));
    assertThat(process.stderrTail()).isEqualTo("first line\n");
    assertThat(process.logFile()).isEqualTo(log.toAbsolutePath());

    answer(process.send(request(0, "stderr", "é".repeat(3000), "last")));

    String tail = process.stderrTail();
    assertThat(tail).startsWith("...").endsWith("é last\n").doesNotContain("\uFFFD");
    assertThat(tail.getBytes(StandardCharsets.UTF_8).length)
        .isLessThanOrEqualTo(PipedToolProcess.STDERR_TAIL_BYTES + 3);
    assertThat(Files.readString(log)).startsWith("output of an earlier process\nfirst line\n");
  }
}
