package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import build.hearth.server.HearthServer;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bazel 4.2.3 builds the {@code sandbox} workspace on an in-process worker with {@code "sandbox":
 * "required"}: its actions try to rewrite a cached input, read the server's CAS and the worker's
 * cache, connect to the server's port, leave a process behind, fork past a process limit, allocate
 * past a memory limit, look at a neighbour action's exec root and processes, and write to {@code
 * /tmp}. Each action records how its attempt went in its output, and this test asserts every
 * attempt was denied or contained; the one target that cannot survive its attempt (the memory hog)
 * fails the build for itself only. Afterwards the worker still builds a target, that target and an
 * earlier reader of the shared input see its original bytes, and every blob in the worker's cache
 * and the server's CAS still hashes to its name.
 *
 * <p>Runs as whatever user runs the suite; the expectations are those of a root worker (the CI
 * machine's case), where actions run as {@code nobody} and cannot even {@code chmod} their inputs.
 */
class SandboxE2eTest {
  private static final String WORKER = "isolated";

  /** Every attempt but the memory hog's, which fails. Built in the first build, with the hog. */
  private static final List<String> ATTEMPTS =
      List.of(
          "tamper",
          "reader",
          "peek_stores",
          "connect",
          "linger",
          "fork",
          "neighbour_a",
          "neighbour_b",
          "tmp_write");

  private static final String MEMORY_HOG = "memory_hog";

  /** What {@code linger} leaves behind: {@code sleep 6001}, as its {@code /proc} cmdline. */
  private static final String LINGERING_CMDLINE = "sleep\u00006001\u0000";

  @Test
  void everyAttemptIsDeniedOrContainedAndTheCachesStillVerify(@TempDir Path storage)
      throws Exception {
    // Slots for every action of the first build at once, so that the two neighbours overlap.
    WorkerSetup worker = WorkerSetup.linux(WORKER, 10, storage.resolve("workers"));
    Path serverCas = storage.resolve("cas");
    BazelWorkspace workspace = BazelWorkspace.fromTemplate("sandbox");
    byte[] input = Files.readAllBytes(workspace.resolve("input.txt"));
    String tmpName = "hearth-sandbox-e2e-" + UUID.randomUUID() + ".txt";
    Path hostTmpFile = Path.of("/tmp", tmpName);
    Set<Long> lingeringBefore = lingeringSleeps();
    List<Long> lingeringAfter = new ArrayList<>();
    try (HearthServer hearth =
            HearthServer.start(
                HearthConfigs.remoteExecution(
                    storage, "10m", List.of(worker), "\"sandbox\": \"required\""));
        Bazel bazel = Bazel.open(workspace, SandboxE2eTest.class)) {
      workspace.substitute("BUILD", "@@SERVER_CAS@@", serverCas.toString());
      workspace.substitute("BUILD", "@@WORKER_CACHE@@", worker.cacheDirectory().toString());
      workspace.substitute("BUILD", "@@PORT@@", Integer.toString(hearth.port()));
      workspace.substitute("BUILD", "@@TMP_NAME@@", tmpName);
      String executor = "--remote_executor=grpc://localhost:" + hearth.port();

      List<String> targets = new ArrayList<>();
      ATTEMPTS.forEach(t -> targets.add("//:" + t));
      targets.add("//:" + MEMORY_HOG);
      List<String> args = new ArrayList<>(List.of(executor, "--keep_going", "--jobs=16"));
      args.addAll(targets);
      BazelResult attempts = bazel.run("build", args.toArray(String[]::new));
      lingeringAfter.addAll(newLingeringSleeps(lingeringBefore));

      // The memory hog, and only it, fails.
      attempts.assertExitCode(1);
      assertMemoryHogKilled(attempts);
      Path bin = bazel.bazelBin();
      for (String target : ATTEMPTS) {
        assertThat(bin.resolve(target + ".txt"))
            .as("output of //:%s (see %s)", target, attempts.logFile())
            .isRegularFile();
      }

      assertTamperDenied(bin, input);
      assertStoresHidden(bin, serverCas, worker.cacheDirectory());
      assertThat(read(bin, "connect"))
          .as("connecting to the server's port from an action")
          .startsWith("connect: failed:")
          .contains("Connection refused");
      assertForksRefused(bin);
      assertNeighbourInvisible(bin);
      assertThat(read(bin, "tmp_write"))
          .as("the action could write its own /tmp")
          .isEqualTo("tmp write: ok\n");
      assertThat(hostTmpFile).as("the action's /tmp file on the host").doesNotExist();
      assertThat(read(bin, "linger")).startsWith("started sleep 6001 as pid");
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () ->
                  assertThat(newLingeringSleeps(lingeringBefore))
                      .as("`sleep 6001` processes left by //:linger after its action ended")
                      .isEmpty());

      // The worker keeps serving, and the shared input's blob is still the original.
      bazel.build(executor, "//:after");
      assertThat(Files.readAllBytes(bin.resolve("after.txt")))
          .as("//:after's copy of input.txt, built after the tamper attempt")
          .isEqualTo(input);

      Path workerBlob = worker.cacheDirectory().resolve("blobs").resolve(shard(sha256(input)));
      assertThat(workerBlob).as("input.txt's blob in the worker's cache").isRegularFile();
      assertThat(Files.readAllBytes(workerBlob)).isEqualTo(input);
      assertBlobsVerify(worker.cacheDirectory(), "the worker's cache", 1);
      assertBlobsVerify(worker.workDirectory(), "the worker's executable copies", 1);
      assertBlobsVerify(serverCas, "the server's CAS", 1);

      assertSandboxReported(adminStatus(hearth.port()));
    } finally {
      lingeringAfter.addAll(newLingeringSleeps(lingeringBefore));
      // Only what this test's build started: without a sandbox it would outlive the test.
      for (long pid : lingeringAfter) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
      }
      Files.deleteIfExists(hostTmpFile);
    }
  }

  /**
   * The worker's sandbox as {@code /admin/v1/status} shows it. Assumes the worker's JSON object
   * holds its name as a string and, after it, a member {@code "sandbox"} whose value (an object or
   * a string) names the parts in force with their labels ({@code mount}, {@code pid}, {@code ipc},
   * {@code uts}, {@code net}) and the cgroup controllers ({@code memory}); only substrings are
   * checked, case-insensitively, so renaming the members around them does not break it.
   */
  private static void assertSandboxReported(String status) {
    String entry = sandboxEntry(status, WORKER);
    assertThat(entry.toLowerCase(Locale.ROOT))
        .as("the sandbox of worker %s in /admin/v1/status: %s", WORKER, status)
        .contains("mount", "pid", "ipc", "uts", "net", "memory");
  }

  /** The value of the first {@code "sandbox"} member after {@code "<worker>"} in {@code json}. */
  static String sandboxEntry(String json, String worker) {
    int name = json.indexOf("\"" + worker + "\"");
    assertThat(name).as("worker %s in %s", worker, json).isNotNegative();
    int key = json.indexOf("\"sandbox\"", name);
    assertThat(key).as("a \"sandbox\" member after worker %s in %s", worker, json).isNotNegative();
    int start = key + "\"sandbox\"".length();
    while (start < json.length() && (json.charAt(start) == ':' || json.charAt(start) == ' ')) {
      start++;
    }
    if (start < json.length() && json.charAt(start) == '{') {
      int depth = 0;
      boolean inString = false;
      for (int i = start; i < json.length(); i++) {
        char c = json.charAt(i);
        if (inString) {
          if (c == '\\') {
            i++;
          } else if (c == '"') {
            inString = false;
          }
        } else if (c == '"') {
          inString = true;
        } else if (c == '{') {
          depth++;
        } else if (c == '}' && --depth == 0) {
          return json.substring(start, i + 1);
        }
      }
    }
    int end = json.length();
    for (char stop : new char[] {',', '}'}) {
      int at = json.indexOf(stop, start);
      if (at >= 0) {
        end = Math.min(end, at);
      }
    }
    return json.substring(start, end);
  }

  private static String adminStatus(int port) throws IOException, InterruptedException {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/admin/v1/status"))
                    .timeout(Duration.ofSeconds(20))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return response.body();
  }

  /**
   * Bazel reports the hog's action as failed with Hearth's message naming the limit (Bazel 4.2
   * prints the ExecuteResponse's message of a failed action), and no other action as failed.
   */
  private static void assertMemoryHogKilled(BazelResult result) {
    String output = result.output();
    assertThat(output)
        .as("Bazel's report of //:%s (%s)", MEMORY_HOG, result.logFile())
        .contains("Executing genrule //:" + MEMORY_HOG + " failed");
    assertThat(output)
        .as("why //:%s failed", MEMORY_HOG)
        .contains("the command was killed by its memory limit of 64.0 MiB");
    List<String> failed =
        Pattern.compile("Executing genrule (//:\\w+) failed")
            .matcher(output)
            .results()
            .map(m -> m.group(1))
            .distinct()
            .toList();
    assertThat(failed).as("the targets whose action failed").containsExactly("//:" + MEMORY_HOG);
  }

  private static void assertTamperDenied(Path bin, byte[] input) throws IOException {
    String tamper = read(bin, "tamper");
    assertThat(tamper)
        .as("chmod u+w and append on an input (a hard link into the worker's cache)")
        .contains("chmod: denied:")
        .contains("Operation not permitted")
        .contains("write: denied:")
        .doesNotContain("allowed");
    assertThat(Files.readAllBytes(bin.resolve("reader.txt")))
        .as("//:reader's copy of input.txt, made after the tamper attempt")
        .isEqualTo(input);
  }

  private static void assertStoresHidden(Path bin, Path serverCas, Path workerCache)
      throws IOException {
    Map<String, String> lines = new LinkedHashMap<>();
    for (String line : read(bin, "peek_stores").lines().toList()) {
      int colon = line.indexOf(": ");
      lines.put(line.substring(0, colon), line.substring(colon + 2));
    }
    for (Path store : List.of(serverCas, workerCache)) {
      assertThat(lines.get(store.toString()))
          .as("listing %s from an action", store)
          .startsWith("hidden:")
          .contains("No such file or directory");
    }
  }

  private static void assertForksRefused(Path bin) throws IOException {
    Map<String, String> fork = keyValues(read(bin, "fork"));
    int started = Integer.parseInt(fork.get("started"));
    assertThat(started)
        .as("processes started at once under processLimit=32: %s", fork)
        .isPositive()
        .isLessThan(32);
    assertThat(fork.get("errors")).as("dash's report of the refused fork").contains("Cannot fork");
  }

  private static void assertNeighbourInvisible(Path bin) throws IOException {
    Map<String, String> a = keyValues(read(bin, "neighbour_a"));
    Map<String, String> b = keyValues(read(bin, "neighbour_b"));
    long looked = Long.parseLong(b.get("looked"));
    assertThat(looked)
        .as(
            "neighbour_b looked while neighbour_a ran (%s, %s); otherwise this proves nothing",
            a, b)
        .isBetween(Long.parseLong(a.get("start")), Long.parseLong(a.get("end")));
    assertThat(b.get("parent entries").trim())
        .as("the exec root's parent directory seen by neighbour_b")
        .isEqualTo(b.get("own"));
    assertThat(b.get("markers seen")).as("neighbour_a's marker seen by neighbour_b").isEqualTo("0");
    assertThat(b.get("sleeps seen"))
        .as("neighbour_a's `sleep 20` seen in neighbour_b's /proc")
        .isEqualTo("0");
  }

  /**
   * Every file below {@code root} named like a SHA-256 hash hashes to its name; at least {@code
   * atLeast} such files exist, so the check cannot pass on an empty directory.
   */
  private static void assertBlobsVerify(Path root, String what, int atLeast) throws IOException {
    Pattern hash = Pattern.compile("[0-9a-f]{64}");
    List<Path> blobs;
    try (Stream<Path> walk = Files.walk(root)) {
      blobs =
          walk.filter(Files::isRegularFile)
              .filter(p -> hash.matcher(p.getFileName().toString()).matches())
              .toList();
    }
    assertThat(blobs).as("blobs in %s (%s)", what, root).hasSizeGreaterThanOrEqualTo(atLeast);
    List<String> wrong = new ArrayList<>();
    for (Path blob : blobs) {
      String actual = sha256(Files.readAllBytes(blob));
      if (!actual.equals(blob.getFileName().toString())) {
        wrong.add(blob + " hashes to " + actual);
      }
    }
    assertThat(wrong).as("blobs in %s that no longer match their name", what).isEmpty();
  }

  /** Pids of {@code sleep 6001} processes on the host that were not in {@code before}. */
  private static List<Long> newLingeringSleeps(Set<Long> before) {
    return lingeringSleeps().stream().filter(pid -> !before.contains(pid)).toList();
  }

  private static Set<Long> lingeringSleeps() {
    return Processes.withCommandLine(LINGERING_CMDLINE::equals);
  }

  /** Lines {@code key: value}, as the attempt scripts print them. */
  private static Map<String, String> keyValues(String text) {
    Map<String, String> values = new LinkedHashMap<>();
    for (String line : text.lines().toList()) {
      int colon = line.indexOf(": ");
      if (colon > 0) {
        values.put(line.substring(0, colon), line.substring(colon + 2));
      }
    }
    return values;
  }

  private static String read(Path bin, String target) throws IOException {
    return Files.readString(bin.resolve(target + ".txt"));
  }

  private static String shard(String hash) {
    return hash.substring(0, 2) + "/" + hash;
  }

  private static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
