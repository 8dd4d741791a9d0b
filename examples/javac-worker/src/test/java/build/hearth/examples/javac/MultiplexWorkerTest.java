package build.hearth.examples.javac;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.hearth.proto.worker.WorkRequest;
import build.hearth.proto.worker.WorkResponse;
import com.sun.source.util.TaskEvent;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The persistent worker in multiplex use, in-process: requests compiled at the same time,
 * cancellation of running and queued requests, and answers that carry javac's diagnostics. The
 * compiler's event observer makes the interleavings deterministic, without sleeping.
 */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class MultiplexWorkerTest {
  @TempDir Path dir;

  @Test
  void eightRequestsCompileAtTheSameTimeAndEachGetsItsOwnAnswer() {
    int requests = 8;
    CountDownLatch allStarted = new CountDownLatch(requests);
    Set<Integer> started = ConcurrentHashMap.newKeySet();
    // Each compilation waits at its first event until all eight have begun: this finishes only if
    // the worker really runs them concurrently.
    Javac.Observer barrier =
        (id, event) -> {
          if (started.add(id)) {
            allStarted.countDown();
            awaitOrFail(allStarted, "all " + requests + " compilations to start");
          }
        };
    try (InProcessWorker worker = new InProcessWorker(requests, barrier)) {
      for (int id = 1; id <= requests; id++) {
        Path source = Sources.simpleClass(dir, "p" + id, "C" + id, id);
        worker.send(request(id, Sources.arguments(jar(id), List.of(), source)));
      }
      Map<Integer, WorkResponse> answers = new HashMap<>();
      for (int i = 0; i < requests; i++) {
        WorkResponse response = worker.receive();
        assertThat(answers.put(response.getRequestId(), response))
            .as("a second answer to request %d", response.getRequestId())
            .isNull();
      }
      assertThat(answers).containsOnlyKeys(1, 2, 3, 4, 5, 6, 7, 8);
      for (int id = 1; id <= requests; id++) {
        WorkResponse answer = answers.get(id);
        assertThat(answer.getExitCode()).as("request %d: %s", id, answer.getOutput()).isZero();
        assertThat(answer.getWasCancelled()).isFalse();
        assertThat(Sources.entryNames(jar(id))).contains("p" + id + "/C" + id + ".class");
      }
      assertThat(worker.finish()).isZero();
    }
  }

  @Test
  void aCancelledCompilationStopsWithoutAJarWhileOthersGoOn() {
    CountDownLatch running = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Javac.Observer holdFirst =
        (id, event) -> {
          if (id == 1) {
            running.countDown();
            awaitOrFail(release, "the test to release request 1");
          }
        };
    try (InProcessWorker worker = new InProcessWorker(4, holdFirst)) {
      Path a = Sources.simpleClass(dir, "a", "A", 1);
      Path b = Sources.simpleClass(dir, "b", "B", 2);
      worker.send(request(1, Sources.arguments(jar(1), List.of(), a)));
      awaitOrFail(running, "request 1 to start compiling");
      worker.send(cancel(1));
      // Read after the cancel, so by the time request 2 is answered the cancel was taken.
      worker.send(request(2, Sources.arguments(jar(2), List.of(), b)));

      WorkResponse second = worker.receive();
      assertThat(second.getRequestId()).isEqualTo(2);
      assertThat(second.getExitCode()).isZero();

      release.countDown();
      WorkResponse first = worker.receive();
      assertThat(first.getRequestId()).isEqualTo(1);
      assertThat(first.getWasCancelled()).isTrue();
      assertThat(jar(1)).doesNotExist();
      assertThat(jar(2)).exists();
      assertThat(worker.finish()).isZero();
    }
  }

  @Test
  void aCancelledQueuedRequestIsAnsweredWithoutCompiling() {
    CountDownLatch release = new CountDownLatch(1);
    List<Integer> compiled = new ArrayList<>();
    Javac.Observer holdFirst =
        (id, event) -> {
          if (event.getKind() == TaskEvent.Kind.COMPILATION) {
            synchronized (compiled) {
              compiled.add(id);
            }
          }
          if (id == 1) {
            awaitOrFail(release, "the test to release request 1");
          }
        };
    // One thread: request 2 waits in the queue behind request 1.
    try (InProcessWorker worker = new InProcessWorker(1, holdFirst)) {
      worker.send(request(1, Sources.arguments(jar(1), List.of(), source("a", "A"))));
      worker.send(request(2, Sources.arguments(jar(2), List.of(), source("b", "B"))));
      worker.send(cancel(2));
      long afterCancel = worker.bytesSent();
      worker.send(request(3, Sources.arguments(jar(3), List.of(), source("c", "C"))));
      // The worker reads one message at a time: once it reads past the cancel, it has taken it.
      await().atMost(Duration.ofSeconds(30)).until(() -> worker.bytesReadByWorker() > afterCancel);
      release.countDown();

      List<WorkResponse> answers = List.of(worker.receive(), worker.receive(), worker.receive());
      assertThat(answers).extracting(WorkResponse::getRequestId).containsExactly(1, 2, 3);
      assertThat(answers)
          .extracting(WorkResponse::getWasCancelled)
          .containsExactly(false, true, false);
      assertThat(jar(2)).doesNotExist();
      synchronized (compiled) {
        assertThat(compiled).doesNotContain(2);
      }
      assertThat(worker.finish()).isZero();
    }
  }

  @Test
  void cancelsForUnknownOrFinishedRequestsAreIgnored() {
    try (InProcessWorker worker = new InProcessWorker(2, Javac.Observer.NONE)) {
      worker.send(request(1, Sources.arguments(jar(1), List.of(), source("a", "A"))));
      assertThat(worker.receive().getRequestId()).isEqualTo(1);
      worker.send(cancel(1));
      worker.send(cancel(99));
      worker.send(request(2, Sources.arguments(jar(2), List.of(), source("b", "B"))));
      WorkResponse next = worker.receive();
      assertThat(next.getRequestId()).isEqualTo(2);
      assertThat(next.getWasCancelled()).isFalse();
      assertThat(worker.finish()).isZero();
    }
  }

  @Test
  void compileErrorsAndBadArgumentsAreAnsweredWithTheirMessagesAndNoJar() {
    Path broken =
        Sources.write(
            dir,
            "src/bad/Broken.java",
            "package bad;\n\npublic class Broken {\n  int x = \"not a number\";\n}\n");
    Sources.write(dir, "out/1.jar", "a jar from an earlier request");
    try (InProcessWorker worker = new InProcessWorker(2, Javac.Observer.NONE)) {
      worker.send(request(1, Sources.arguments(jar(1), List.of(), broken)));
      WorkResponse errors = worker.receive();
      assertThat(errors.getExitCode()).isEqualTo(1);
      assertThat(errors.getOutput())
          .contains("Broken.java:4: error: incompatible types: String cannot be converted to int");
      assertThat(jar(1)).doesNotExist();

      worker.send(request(2, List.of("--output", jar(2).toString(), "--sauce", "x.java")));
      WorkResponse usage = worker.receive();
      assertThat(usage.getExitCode()).isEqualTo(2);
      assertThat(usage.getOutput()).contains("unknown argument '--sauce'");

      worker.send(
          request(
              3,
              List.of(
                  "--output",
                  jar(3).toString(),
                  "--javacopt",
                  "-Xno-such-option",
                  "--source",
                  source("c", "C").toString())));
      assertThat(worker.receive().getExitCode()).isEqualTo(2);
      assertThat(worker.finish()).isZero();
    }
  }

  @Test
  void pathsResolveAgainstTheSandboxDirectory() {
    Path sandbox = dir.resolve("sandbox/7");
    Sources.simpleClass(sandbox, "s", "S", 7);
    try (InProcessWorker worker = new InProcessWorker(2, Javac.Observer.NONE)) {
      worker.send(
          WorkRequest.newBuilder()
              .setRequestId(7)
              .setSandboxDir(sandbox.toString())
              .addAllArguments(List.of("--output", "out/s.jar", "--source", "src/s/S.java"))
              .build());
      WorkResponse answer = worker.receive();
      assertThat(answer.getExitCode()).as(answer.getOutput()).isZero();
      assertThat(Sources.entryNames(sandbox.resolve("out/s.jar"))).contains("s/S.class");
      assertThat(worker.finish()).isZero();
    }
  }

  private Path source(String pkg, String name) {
    return Sources.simpleClass(dir, pkg, name, 0);
  }

  private Path jar(int id) {
    return dir.resolve("out/" + id + ".jar");
  }

  private static WorkRequest request(int id, List<String> arguments) {
    return WorkRequest.newBuilder().setRequestId(id).addAllArguments(arguments).build();
  }

  private static WorkRequest cancel(int id) {
    return WorkRequest.newBuilder().setRequestId(id).setCancel(true).build();
  }

  private static void awaitOrFail(CountDownLatch latch, String what) {
    try {
      if (!latch.await(30, TimeUnit.SECONDS)) {
        throw new AssertionError("timed out waiting for " + what);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }
}
