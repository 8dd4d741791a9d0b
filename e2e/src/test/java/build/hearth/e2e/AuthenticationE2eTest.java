package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bazel 4.2.3 against a Hearth that makes loopback callers authenticate ({@code trustLoopback:
 * false}) with bearer tokens, sent with {@code --remote_header=authorization=Bearer ...}: a
 * full-access token executes remotely; no credentials, a wrong token and a token for another
 * instance fail fast with a message saying why; a read-only token gets cache hits, its uploads and
 * action-cache writes are refused while the build succeeds, and its Execute is refused naming
 * {@code execute}. The server runs as its own process, so the test then reads its whole log and
 * finds no token in it.
 */
class AuthenticationE2eTest {
  private static final String FULL = "e2e-full-access-4f1c9a7b2d";
  private static final String READER = "e2e-read-only-8e3d6c1a5f";
  private static final String TEAM = "e2e-team-a-only-2b7f0e9d4c";
  private static final String WRONG = "e2e-full-access-4f1c9a7b2e";
  private static final String TARGET = "//:platform";
  private static final Pattern LISTENING =
      Pattern.compile("Hearth server '[^']*' listening on 127\\.0\\.0\\.1:(\\d+)");

  @TempDir Path storage;

  private static String sha256(String token) throws Exception {
    return HexFormat.of()
        .formatHex(
            MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8)));
  }

  private static String header(String token) {
    return "--remote_header=authorization=Bearer " + token;
  }

  @Test
  void tokensDecideWhatBazelMayDoAndNoneReachesTheLog() throws Exception {
    Path readerToken = Files.writeString(storage.resolve("reader.token"), READER + "\n");
    WorkerSetup worker = WorkerSetup.linux("local", 2, storage.resolve("workers"));
    String config =
        """
        {
          "blobStores": {"cas": {"type": "filesystem", "path": %s, "maxSize": "1GiB"}},
          "actionCacheStores": {"ac": {"type": "filesystem", "path": %s}, "ac-team": {"type": "memory"}},
          "schedulers": {"main": {"properties": {"OSFamily": "exact"}}},
          "servers": [{
            "listen": "127.0.0.1:0",
            "instances": {
              "": {"cas": "cas", "actionCache": "ac", "execution": {"scheduler": "main"}},
              "team-a": {"cas": "cas", "actionCache": "ac-team", "execution": {"scheduler": "main"}}
            },
            "authentication": {
              "tokens": [
                {"name": "full", "sha256": "%s"},
                {"name": "reader", "file": %s},
                {"name": "team", "sha256": "%s"}
              ],
              "trustLoopback": false
            },
            "permissions": [
              {"identities": ["token:full"], "grant": ["read", "write", "writeActionCache", "execute", "metrics", "admin"]},
              {"identities": ["token:reader"], "grant": ["read"]},
              {"identities": ["token:team"], "instances": ["team-a"], "grant": ["read", "write", "writeActionCache", "execute"]}
            ]
          }],
          "workers": [%s]
        }
        """
            .formatted(
                HearthConfigs.quoted(storage.resolve("cas")),
                HearthConfigs.quoted(storage.resolve("ac")),
                sha256(FULL),
                HearthConfigs.quoted(readerToken),
                sha256(TEAM),
                worker.json("\"scheduler\": \"main\"", "\"instance\": \"\""));
    Path configFile = Files.writeString(storage.resolve("hearth.json"), config);
    Path logDirectory =
        Files.createDirectories(
            E2eDirectories.target().resolve("server-logs").resolve(getClass().getSimpleName()));
    Path log = logDirectory.resolve("server.log");
    Process server =
        Processes.start(
            Processes.logging(
                List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx512m",
                    "-cp",
                    testClassPath(),
                    "build.hearth.server.Main",
                    "serve",
                    configFile.toString()),
                log));
    List<ProcessHandle> leftBehind = new ArrayList<>();
    try {
      Processes.awaitLogLine(server, log, "listening on");
      Matcher listening = LISTENING.matcher(Files.readString(log));
      assertThat(listening.find()).as("the server's log names its port").isTrue();
      int port = Integer.parseInt(listening.group(1));
      String executor = "--remote_executor=grpc://localhost:" + port;
      String cache = "--remote_cache=grpc://localhost:" + port;
      BazelWorkspace workspace = BazelWorkspace.fromTemplate("reapi");
      try (Bazel bazel = Bazel.open(workspace, AuthenticationE2eTest.class)) {
        // A full-access token executes remotely.
        ProcessSummary full = bazel.build(executor, header(FULL), TARGET).processSummary();
        assertThat(full.spawns()).as("%s", full).isPositive();
        assertThat(full.remotelyExecuted()).as("%s", full).isEqualTo(full.spawns());
        bazel.clean();

        // No credentials: refused at once, saying what to send.
        BazelResult anonymous = bazel.run("build", executor, TARGET);
        assertThat(anonymous.exitCode()).isNotZero();
        assertThat(anonymous.output())
            .contains("UNAUTHENTICATED")
            .contains("--remote_header=\"authorization=Bearer <token>\"");

        // A wrong token.
        BazelResult wrong = bazel.run("build", executor, header(WRONG), TARGET);
        assertThat(wrong.exitCode()).isNotZero();
        assertThat(wrong.output())
            .contains("UNAUTHENTICATED")
            .contains("the bearer token is not one this server knows");

        // A token valid only for another instance.
        BazelResult team = bazel.run("build", executor, header(TEAM), TARGET);
        assertThat(team.exitCode()).isNotZero();
        assertThat(team.output())
            .contains("PERMISSION_DENIED")
            .contains("token:team lacks \"read\" on instance \"\"");

        // Read-only: every spawn is a cache hit ...
        ProcessSummary hits = bazel.build(cache, header(READER), TARGET).processSummary();
        assertThat(hits.remoteCacheHits()).as("%s", hits).isEqualTo(hits.spawns()).isPositive();

        // ... Execute is refused naming the permission (every input is already in the CAS) ...
        bazel.clean();
        BazelResult execute =
            bazel.run("build", executor, header(READER), "--noremote_accept_cached", TARGET);
        assertThat(execute.exitCode()).isNotZero();
        assertThat(execute.output())
            .contains("PERMISSION_DENIED")
            .contains("token:reader lacks \"execute\" on instance \"\"");

        // ... and a new action runs locally, its uploads refused, the build still succeeding.
        bazel.clean();
        workspace.writeFile("hello.txt", "changed by the read-only build\n");
        BazelResult local = bazel.build(cache, header(READER), TARGET);
        assertThat(local.processSummary().executedLocally()).isPositive();
        assertThat(local.output())
            .contains("PERMISSION_DENIED")
            .contains("token:reader lacks \"write\" on instance \"\"");

        // The team token works on its own instance, whose action cache is its own: it uploads the
        // same action's outputs to the shared CAS ...
        bazel.clean();
        ProcessSummary teamBuild =
            bazel
                .build(cache, header(TEAM), "--remote_instance_name=team-a", TARGET)
                .processSummary();
        assertThat(teamBuild.executedLocally()).as("%s", teamBuild).isPositive();

        // ... so the read-only build of that action finds its outputs uploaded already, and only
        // its action-cache write is left to be refused; the build succeeds all the same.
        bazel.clean();
        BazelResult actionCacheWrite = bazel.build(cache, header(READER), TARGET);
        assertThat(actionCacheWrite.processSummary().executedLocally()).isPositive();
        assertThat(actionCacheWrite.output())
            .contains("PERMISSION_DENIED")
            .contains("token:reader lacks \"writeActionCache\" on instance \"\"");
      }

      String metrics = metrics(port);
      assertThat(metrics)
          .contains("reason=\"no_credentials\"")
          .contains("reason=\"unknown_token\"")
          .contains("permission=\"execute\",reason=\"permission_denied\"")
          .contains("permission=\"write\",reason=\"permission_denied\"")
          .contains("permission=\"writeActionCache\",reason=\"permission_denied\"");
    } finally {
      Processes.stop(server, Duration.ofSeconds(20), leftBehind);
    }

    String whole = Files.readString(log);
    assertThat(whole).contains("Refused a call").contains("unknown_token");
    for (String secret : List.of(FULL, READER, TEAM, WRONG)) {
      assertThat(whole).as("the server's log holds a token").doesNotContain(secret);
      // Nor a recognisable part of one.
      assertThat(whole).doesNotContain(secret.substring(secret.length() - 10));
    }
    assertThat(whole).doesNotContain("PRIVATE KEY").doesNotContain("Bearer e2e");
  }

  private static String metrics(int port) throws IOException, InterruptedException {
    HttpResponse<String> response =
        HttpClient.newHttpClient()
            .send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                    .header("Authorization", "Bearer " + FULL)
                    .timeout(Duration.ofSeconds(20))
                    .build(),
                HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return response.body();
  }

  private static String testClassPath() {
    String surefire = System.getProperty("surefire.test.class.path");
    return surefire != null && !surefire.isBlank()
        ? surefire
        : System.getProperty("java.class.path");
  }
}
