package build.hearth.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code hearth serve} refuses what it cannot serve, in one line a user can act on and with a
 * non-zero exit code, never with a stack trace. Each case runs the command as its own process, as a
 * user or an init system would.
 */
class ServeCommandTest {
  /** What {@link Main} returns for a {@link build.hearth.api.HearthException}. */
  private static final int USER_ERROR = 2;

  @TempDir Path dir;

  @Test
  void unknownFieldIsReportedWithItsPathAndLine() throws InterruptedException {
    String json =
        """
        {
          "blobStores": {"cas": {"type": "filesystem", "path": %s}},
          "servers": [
            {
              "listen": "127.0.0.1:0",
              "instances": {
                "": {"cas": "cas",
                     "actionCach": "ac"}
              }
            }
          ]
        }
        """
            .formatted(ServerProcess.jsonString(dir.resolve("cas").toString()));
    ServerProcess.Finished run = serve("serve-unknown-field", json);

    assertThat(run.exitCode()).as(run.output()).isEqualTo(USER_ERROR);
    assertThat(run.output())
        .contains(
            "hearth: servers[0].instances.\"\".actionCach (line "
                + lineOf(json, "\"actionCach\"")
                + "): unknown field 'actionCach'; did you mean 'actionCache'?");
    assertNoStackTrace(run);
  }

  @Test
  void danglingStoreReferenceIsReportedWithItsPathAndLine() throws InterruptedException {
    String json =
        """
        {
          "blobStores": {"cas": {"type": "filesystem", "path": %s}},
          "servers": [
            {
              "listen": "127.0.0.1:0",
              "instances": {"": {"cas": "cass"}}
            }
          ]
        }
        """
            .formatted(ServerProcess.jsonString(dir.resolve("cas").toString()));
    ServerProcess.Finished run = serve("serve-dangling-reference", json);

    assertThat(run.exitCode()).as(run.output()).isEqualTo(USER_ERROR);
    assertThat(run.output())
        .contains(
            "hearth: servers[0].instances.\"\".cas (line "
                + lineOf(json, "\"cass\"")
                + "): no blob store named 'cass'; defined: cas");
    assertNoStackTrace(run);
  }

  @Test
  void missingConfigFileIsReported() throws InterruptedException {
    Path missing = dir.resolve("no-such.json");
    ServerProcess.Finished run =
        ServerProcess.run("serve-missing-file", "serve", missing.toString());

    assertThat(run.exitCode()).as(run.output()).isEqualTo(USER_ERROR);
    assertThat(run.output())
        .contains("cannot read the configuration file " + missing.toAbsolutePath())
        .contains("no such file");
    assertNoStackTrace(run);
  }

  @Test
  void portInUseFailsWithAClearMessage() throws IOException, InterruptedException {
    try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      int port = taken.getLocalPort();
      String json =
          """
          {
            "blobStores": {"cas": {"type": "filesystem", "path": %s}},
            "servers": [{"listen": "127.0.0.1:%d", "instances": {"": {"cas": "cas"}}}]
          }
          """
              .formatted(ServerProcess.jsonString(dir.resolve("cas").toString()), port);
      ServerProcess.Finished run = serve("serve-port-in-use", json);

      assertThat(run.exitCode()).as(run.output()).isNotZero();
      assertThat(run.output())
          .contains("hearth: ")
          .contains(String.valueOf(port))
          .containsIgnoringCase("in use")
          .doesNotContain("listening on");
      assertNoStackTrace(run);
    }
  }

  @Test
  void listeningOffLoopbackWithoutAuthenticationRefusesToStartAndSaysHow()
      throws InterruptedException {
    String json =
        """
        {
          "blobStores": {"cas": {"type": "filesystem", "path": %s}},
          "servers": [{"listen": "0.0.0.0:0", "instances": {"": {"cas": "cas"}}}]
        }
        """
            .formatted(ServerProcess.jsonString(dir.resolve("cas").toString()));
    ServerProcess.Finished run = serve("serve-unauthenticated-off-loopback", json);

    assertThat(run.exitCode()).as(run.output()).isEqualTo(USER_ERROR);
    assertThat(run.output())
        .contains("hearth: servers[0].listen (line 3): this server listens on 0.0.0.0:0")
        .contains("authenticates no one")
        .contains("docs/security.md")
        .doesNotContain("listening on");
    assertNoStackTrace(run);
  }

  @Test
  void aMissingTokenFileIsReportedWithItsField() throws InterruptedException {
    Path missing = dir.resolve("ci.token");
    String json =
        """
        {
          "blobStores": {"cas": {"type": "filesystem", "path": %s}},
          "servers": [{"listen": "127.0.0.1:0", "instances": {"": {"cas": "cas"}},
            "authentication": {"tokens": [{"name": "ci", "file": %s}]}}]
        }
        """
            .formatted(
                ServerProcess.jsonString(dir.resolve("cas").toString()),
                ServerProcess.jsonString(missing.toString()));
    ServerProcess.Finished run = serve("serve-missing-token-file", json);

    assertThat(run.exitCode()).as(run.output()).isEqualTo(USER_ERROR);
    assertThat(run.output())
        .contains(
            "hearth: servers[0].authentication.tokens[0].file (line 4): cannot read the token file "
                + missing.toAbsolutePath()
                + ": no such file")
        .doesNotContain("listening on");
    assertNoStackTrace(run);
  }

  @Test
  void aWorkerThatCannotStartSaysWhyInOneLine() throws InterruptedException {
    // A worker's runtime that cannot start (here its cache; with "sandbox": "required", a part of
    // the sandbox the kernel refuses) stops `hearth worker` before it connects, as a user error.
    Path config =
        ServerProcess.writeConfig(
            dir.resolve("worker.json"),
            """
            {"name": "w1", "workDirectory": %s, "cache": {"path": "/proc/no-such/cache"},
             "sandbox": "required"}
            """
                .formatted(ServerProcess.jsonString(dir.resolve("work").toString())));

    ServerProcess.Finished run =
        ServerProcess.run(
            "worker-cannot-start",
            "worker",
            "--scheduler-endpoint",
            "http://127.0.0.1:1",
            "--config",
            config.toString());

    assertThat(run.exitCode()).as(run.output()).isEqualTo(USER_ERROR);
    assertThat(run.output()).contains("hearth: workers.w1.cache.path: cannot create the directory");
    assertNoStackTrace(run);
  }

  @Test
  void aRequiredSandboxThatCannotBeHadStopsTheServerInOneLine() throws InterruptedException {
    String json =
        """
        {
          "blobStores": {"cas": {"type": "filesystem", "path": %s}},
          "schedulers": {"main": {}},
          "servers": [{"listen": "127.0.0.1:0",
                       "instances": {"": {"cas": "cas", "execution": {"scheduler": "main"}}}}],
          "workers": [{"name": "local", "scheduler": "main", "workDirectory": %s,
                       "cache": {"path": %s},
                       "sandbox": {"mode": "required", "bubblewrap": "/no/such/bwrap"}}]
        }
        """
            .formatted(
                ServerProcess.jsonString(dir.resolve("cas").toString()),
                ServerProcess.jsonString(dir.resolve("work").toString()),
                ServerProcess.jsonString(dir.resolve("worker-cache").toString()));

    ServerProcess.Finished run = serve("serve-sandbox-required", json);

    assertThat(run.exitCode()).as(run.output()).isEqualTo(USER_ERROR);
    assertThat(run.output()).contains("hearth: ").contains("/no/such/bwrap");
    assertNoStackTrace(run);
  }

  @Test
  void aMistakeInATieredStoresTierIsReportedWithItsFullPathAndLine() throws InterruptedException {
    String json =
        """
        {
          "blobStores": {
            "cas": {
              "type": "tiered",
              "local": {"type": "filesystem", "path": %s},
              "shared": {"maxSize": "1GiB"}
            }
          },
          "actionCacheStores": {"ac": {"type": "memory"}},
          "servers": [
            {"listen": "127.0.0.1:0", "instances": {"": {"cas": "cas", "actionCache": "ac"}}}
          ]
        }
        """
            .formatted(ServerProcess.jsonString(dir.resolve("cas").toString()));
    ServerProcess.Finished run = serve("serve-tiered-no-type", json);

    assertThat(run.exitCode()).as(run.output()).isEqualTo(USER_ERROR);
    assertThat(run.output())
        .contains(
            "hearth: blobStores.cas.shared.type (line "
                + lineOf(json, "\"shared\"")
                + "): missing required field 'type'");
    assertNoStackTrace(run);
  }

  private ServerProcess.Finished serve(String label, String json) throws InterruptedException {
    Path config = ServerProcess.writeConfig(dir.resolve("hearth.json"), json);
    return ServerProcess.run(label, "serve", config.toString());
  }

  private static void assertNoStackTrace(ServerProcess.Finished run) {
    assertThat(run.output()).as("output without a stack trace").doesNotContain("\tat ");
  }

  /** The 1-based line of the first occurrence of {@code token} in {@code text}. */
  private static int lineOf(String text, String token) {
    int index = text.indexOf(token);
    assertThat(index).as("%s in the test's configuration", token).isNotNegative();
    return (int) text.substring(0, index).chars().filter(c -> c == '\n').count() + 1;
  }
}
