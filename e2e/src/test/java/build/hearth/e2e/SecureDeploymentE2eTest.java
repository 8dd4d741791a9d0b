package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Follows {@code examples/secure-deployment/README.md} with this build's Hearth, on a copy of the
 * example in which only the ports and the stores' directory differ:
 *
 * <ol>
 *   <li>{@code ./make-credentials.sh}: a CA, certificates and tokens, made by the real {@code
 *       openssl};
 *   <li>{@code hearth serve hearth-config.json}: TLS on all addresses, the plaintext loopback port
 *       for Bazel 4.2.3, tokens and permissions;
 *   <li>{@code hearth worker --config worker.json} over mutual TLS with the worker's certificate; a
 *       worker with no certificate is refused and never registers;
 *   <li>Bazel with the CI token: a persistent-worker build of the javac workspace, every compile on
 *       that worker; then with the developer's read-only token and {@code --config=dev}: every
 *       compile a remote-cache hit;
 *   <li>{@code hearth admin worker-stats} over https with the operator's certificate; {@code curl}
 *       of {@code /metrics} with the CA alone, and of {@code /admin} refused without credentials.
 * </ol>
 *
 * Then the server's whole log holds neither token nor any private key.
 */
class SecureDeploymentE2eTest {
  private static final int COMPILES = JavacWorkspaceLocalE2eTest.LIBRARIES + 1;
  private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(6);

  @Test
  void theSecureExampleRunsAsItsReadmeSays() throws Exception {
    Path directory =
        E2eDirectories.target()
            .resolve("secure-deployment")
            .resolve(Long.toString(System.nanoTime()));
    Path example = copyExample(directory.resolve("example"));
    Path launcher = DeploymentExample.writeLauncher(directory.resolve("bin"));

    // 1. ./make-credentials.sh
    Path credentialsLog = directory.resolve("make-credentials.log");
    int made =
        DeploymentExample.await(
            Processes.start(
                Processes.logging(
                        List.of("bash", example.resolve("make-credentials.sh").toString()),
                        credentialsLog)
                    .directory(example.toFile())));
    assertThat(made).as("make-credentials.sh: %s", read(credentialsLog)).isZero();
    String ciToken = firstLine(example.resolve("secrets/ci.token"));
    String devToken = firstLine(example.resolve("secrets/dev.token"));
    assertThat(ciToken).hasSize(64).isNotEqualTo(devToken);

    // 2. hearth serve hearth-config.json
    int tlsPort = DeploymentExample.freePort();
    int loopbackPort = DeploymentExample.freePort();
    String config = read(example.resolve("hearth-config.json"));
    config = DeploymentExample.replace(config, "0.0.0.0:8980", "0.0.0.0:" + tlsPort);
    config = DeploymentExample.replace(config, "127.0.0.1:8981", "127.0.0.1:" + loopbackPort);
    config =
        DeploymentExample.replace(
            config, "~/.cache/hearth/secure-example", directory.resolve("stores").toString());
    Files.writeString(example.resolve("hearth-config.json"), config, StandardCharsets.UTF_8);
    Path serverLog = directory.resolve("server.log");
    Process server =
        Processes.start(
            Processes.logging(
                    List.of(launcher.toString(), "serve", "hearth-config.json"), serverLog)
                .directory(example.toFile()));
    List<Process> workers = new ArrayList<>();
    try {
      Processes.awaitLogLine(server, serverLog, "Hearth server 'loopback' listening");
      String tlsEndpoint = "localhost:" + tlsPort;

      // 3. hearth worker over mutual TLS, and one without a client certificate
      String workerConfig =
          DeploymentExample.replace(
              read(example.resolve("worker.json")),
              "\"name\": \"worker-1\",",
              "\"name\": \"worker-1\", \"workDirectory\": "
                  + HearthConfigs.quoted(directory.resolve("worker/work"))
                  + ", \"cache\": {\"path\": "
                  + HearthConfigs.quoted(directory.resolve("worker/cas"))
                  + "},");
      Files.writeString(example.resolve("worker.json"), workerConfig, StandardCharsets.UTF_8);
      Path workerLog = directory.resolve("worker.log");
      Process worker =
          startIn(
              example,
              workerLog,
              launcher.toString(),
              "worker",
              "--scheduler-endpoint",
              "grpcs://" + tlsEndpoint,
              "--config",
              "worker.json");
      workers.add(worker);
      Processes.awaitLogLine(worker, workerLog, WorkerProcess.CONNECTED);

      Files.writeString(
          example.resolve("intruder.json"),
          "{\"name\": \"intruder\", \"slots\": 8, \"workDirectory\": "
              + HearthConfigs.quoted(directory.resolve("intruder/work"))
              + ", \"cache\": {\"path\": "
              + HearthConfigs.quoted(directory.resolve("intruder/cas"))
              + "}, \"tls\": {\"caBundle\": \"pki/ca.pem\"}}",
          StandardCharsets.UTF_8);
      Path intruderLog = directory.resolve("intruder.log");
      Process intruder =
          startIn(
              example,
              intruderLog,
              launcher.toString(),
              "worker",
              "--scheduler-endpoint",
              "grpcs://" + tlsEndpoint,
              "--config",
              "intruder.json");
      workers.add(intruder);
      Processes.awaitLogLine(intruder, intruderLog, "cannot register");
      assertThat(read(intruderLog))
          .contains("UNAUTHENTICATED", "lack \"worker\"")
          .doesNotContain(WorkerProcess.CONNECTED);

      // 4. Bazel with the CI token, then with the developer's read-only token
      BazelWorkspace workspace = JavacWorkspaceLocalE2eTest.prepare();
      JavaWorkspace java =
          JavaWorkspace.generate(workspace.root(), JavacWorkspaceLocalE2eTest.LIBRARIES);
      workspace.writeFile(
          ".bazelrc",
          read(example.resolve(".bazelrc")).replace("localhost:8981", "localhost:" + loopbackPort));
      assertThat(read(example.resolve("ci.bazelrc"))).contains(ciToken);
      workspace.writeFile("token.bazelrc", read(example.resolve("ci.bazelrc")));
      try (Bazel bazel = Bazel.open(workspace, SecureDeploymentE2eTest.class, BUILD_TIMEOUT)) {
        ProcessSummary ci = bazel.build("//...").processSummary();
        assertThat(ci.remotelyExecuted())
            .as("every compile ran on the worker that joined over mTLS: %s", ci)
            .isEqualTo(COMPILES);
        List<Path> jars = java.jars().stream().map(bazel.bazelBin()::resolve).toList();
        assertThat(JavacWorkspaceLocalE2eTest.runApp(jars)).isEqualTo(java.expectedOutput());

        bazel.clean().assertSuccess();
        workspace.writeFile("token.bazelrc", read(example.resolve("dev.bazelrc")));
        ProcessSummary dev = bazel.build("--config=dev", "//...").processSummary();
        assertThat(dev.remoteCacheHits())
            .as("the developer's build took every compile from CI's results: %s", dev)
            .isEqualTo(COMPILES);
        assertThat(JavacWorkspaceLocalE2eTest.runApp(jars)).isEqualTo(java.expectedOutput());
      }

      // 5. hearth admin over https with the operator's certificate; curl with the CA alone
      Path statsLog = directory.resolve("worker-stats.log");
      int stats =
          DeploymentExample.await(
              startIn(
                  example,
                  statsLog,
                  launcher.toString(),
                  "admin",
                  "worker-stats",
                  "--endpoint",
                  "https://" + tlsEndpoint,
                  "--tls-ca-bundle",
                  "pki/ca.pem",
                  "--tls-client-certificate",
                  "pki/admin.pem",
                  "--tls-client-key",
                  "pki/admin.key"));
      assertThat(stats).as("hearth admin worker-stats: %s", read(statsLog)).isZero();
      assertThat(read(statsLog)).contains("worker-1", "javac-example").doesNotContain("intruder");

      String metrics =
          curl(example, directory, "--cacert", "pki/ca.pem", "https://" + tlsEndpoint + "/metrics");
      assertThat(metrics)
          .startsWith("200\n")
          .contains("persistent_worker_requests_total", "hearth_auth_refusals_total");
      String admin =
          curl(
              example,
              directory,
              "--cacert",
              "pki/ca.pem",
              "https://" + tlsEndpoint + "/admin/v1/status");
      assertThat(admin).startsWith("401\n").contains("no credentials");
    } finally {
      for (Process worker : workers) {
        Processes.stop(worker, Duration.ofSeconds(30), new ArrayList<>());
      }
      Processes.stop(server, Duration.ofSeconds(30), new ArrayList<>());
    }

    // No secret reached the server's log.
    String log = read(serverLog);
    assertThat(log).contains("Refused a call").doesNotContain(ciToken).doesNotContain(devToken);
    assertThat(log).doesNotContain("PRIVATE KEY");
    for (String key : List.of("server.key", "worker-1.key", "admin.key", "ca.key")) {
      String body = pemBody(example.resolve("pki").resolve(key));
      assertThat(log).as("the log quotes %s", key).doesNotContain(body.substring(0, 40));
    }
  }

  /** The example's files (not what an earlier run made there) in a fresh directory. */
  private static Path copyExample(Path target) throws IOException {
    Path source = DeploymentExample.directory().resolveSibling("secure-deployment");
    Files.createDirectories(target);
    for (String name :
        List.of("make-credentials.sh", "hearth-config.json", "worker.json", ".bazelrc")) {
      Files.copy(source.resolve(name), target.resolve(name), StandardCopyOption.COPY_ATTRIBUTES);
    }
    return target;
  }

  private static Process startIn(Path directory, Path log, String... command) {
    return Processes.start(Processes.logging(List.of(command), log).directory(directory.toFile()));
  }

  /** The HTTP status, a newline, and the body, as the real curl got them. */
  private static String curl(Path example, Path directory, String... args) throws IOException {
    Path out = Files.createTempFile(directory, "curl", ".txt");
    List<String> command = new ArrayList<>(List.of("curl", "-sS", "-o", out.toString()));
    command.addAll(List.of("-w", "%{http_code}\\n"));
    command.addAll(List.of(args));
    Path log = Files.createTempFile(directory, "curl", ".log");
    Process curl = Processes.start(Processes.logging(command, log).directory(example.toFile()));
    int status = DeploymentExample.await(curl);
    assertThat(status).as("curl %s: %s", List.of(args), read(log)).isZero();
    return read(log).strip() + "\n" + read(out);
  }

  private static String pemBody(Path file) {
    try (Stream<String> lines = Files.lines(file)) {
      return String.join("", lines.filter(line -> !line.startsWith("-----")).toList());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String firstLine(Path file) throws IOException {
    return Files.readAllLines(file, StandardCharsets.UTF_8).get(0).strip();
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
