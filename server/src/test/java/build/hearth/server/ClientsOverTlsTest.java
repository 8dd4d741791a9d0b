package build.hearth.server;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.core.config.HearthConfig;
import build.hearth.grpc.tls.TestCertificates;
import build.hearth.grpc.tls.TestCertificates.Authority;
import build.hearth.grpc.tls.TestCertificates.Issued;
import build.hearth.grpc.tls.TestCertificates.KeyType;
import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * {@code hearth admin} against a real server whose port speaks mutual TLS, configured through the
 * configuration file's {@code tls} block, and the bearer token it sends.
 */
class ClientsOverTlsTest {
  @TempDir Path dir;
  private Authority ca;
  private Path caFile;
  private Path config;

  @BeforeEach
  void files() throws Exception {
    ca = TestCertificates.authority("Hearth test CA");
    Path certs = Files.createDirectories(dir.resolve("certs"));
    caFile = ca.writeCertificate(certs.resolve("ca.pem"));
    Issued server = ca.server("hearth", KeyType.RSA);
    server.writeChain(certs.resolve("server.pem"));
    server.writeKey(certs.resolve("server.key"));
    config =
        Files.writeString(
            dir.resolve("hearth.json"),
            """
            {
              "blobStores": { "cas": { "type": "memory" } },
              "servers": [ {
                "listen": "127.0.0.1:0",
                "instances": { "": { "cas": "cas" } },
                "tls": {
                  "certificateChain": "certs/server.pem",
                  "privateKey": "certs/server.key",
                  "clientCa": "certs/ca.pem",
                  "clientCertificates": "required"
                }
              } ]
            }
            """);
  }

  private record Run(int exitCode, String out, String err) {}

  private static Run run(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cli = Main.commandLine();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    int code = cli.execute(args);
    return new Run(code, out.toString(), err.toString());
  }

  @Test
  void adminReadsStatusOverHttpsWithAClientCertificate() {
    Issued admin = ca.client("admin", KeyType.EC);
    Path cert = admin.writeCertificate(dir.resolve("admin.pem"));
    Path key = admin.writeKey(dir.resolve("admin.key"));
    try (HearthServer server = HearthServer.start(HearthConfig.load(config))) {
      String endpoint = "https://localhost:" + server.port();

      Run with =
          run(
              "admin",
              "status",
              "--endpoint",
              endpoint,
              "--json",
              "--tls-ca-bundle",
              caFile.toString(),
              "--tls-client-certificate",
              cert.toString(),
              "--tls-client-key",
              key.toString());
      Run without =
          run("admin", "status", "--endpoint", endpoint, "--tls-ca-bundle", caFile.toString());
      Run plaintext = run("admin", "status", "--endpoint", "http://localhost:" + server.port());

      assertThat(with.exitCode()).as(with.toString()).isZero();
      assertThat(with.out()).contains("\"ready\"");
      assertThat(without.exitCode()).as(without.toString()).isEqualTo(1);
      assertThat(without.err()).startsWith("hearth admin: cannot reach https://localhost:");
      assertThat(plaintext.exitCode()).isEqualTo(1);
    }
  }

  @Test
  void aHearthWorkerProcessJoinsAnMtlsServerWithTheCredentialsOfItsFile() throws Exception {
    Path workerConfig =
        Files.writeString(
            dir.resolve("scheduler.json"),
            """
            {
              "blobStores": { "cas": { "type": "memory" } },
              "schedulers": { "main": {} },
              "servers": [ {
                "listen": "127.0.0.1:0",
                "workerApi": { "scheduler": "main" },
                "instances": { "": { "cas": "cas", "execution": { "scheduler": "main" } } },
                "tls": {
                  "certificateChain": "certs/server.pem",
                  "privateKey": "certs/server.key",
                  "clientCa": "certs/ca.pem",
                  "clientCertificates": "required"
                }
              } ]
            }
            """);
    Issued worker = ca.client("worker-1", KeyType.EC);
    worker.writeChain(dir.resolve("certs/worker.pem"));
    worker.writeKey(dir.resolve("certs/worker.key"));
    Files.writeString(dir.resolve("worker.token"), "worker-token\n");
    Path workerFile =
        Files.writeString(
            dir.resolve("worker.json"),
            """
            {
              "name": "tls-worker",
              "slots": 1,
              "workDirectory": "%s",
              "cache": { "path": "%s" },
              "tls": { "caBundle": "certs/ca.pem", "clientCertificate": "certs/worker.pem",
                       "clientKey": "certs/worker.key" },
              "tokenFile": "worker.token"
            }
            """
                .formatted(dir.resolve("work"), dir.resolve("cache")));
    Issued admin = ca.client("admin", KeyType.EC);
    Path cert = admin.writeCertificate(dir.resolve("admin.pem"));
    Path key = admin.writeKey(dir.resolve("admin.key"));
    try (HearthServer server = HearthServer.start(HearthConfig.load(workerConfig))) {
      Process process =
          ServerProcess.background(
              "tls-worker",
              "worker",
              "--scheduler-endpoint",
              "grpcs://localhost:" + server.port(),
              "--config",
              workerFile.toString(),
              "--drain-timeout",
              "0");
      try {
        java.util.regex.Pattern oneWorker =
            java.util.regex.Pattern.compile("\"workers\"\\s*:\\s*1\\b");
        org.awaitility.Awaitility.await("the worker process registered")
            .atMost(java.time.Duration.ofSeconds(60))
            .pollInterval(java.time.Duration.ofMillis(200))
            .until(
                () -> {
                  assertThat(process.isAlive()).as(ServerProcess.output("tls-worker")).isTrue();
                  Run status =
                      run(
                          "admin",
                          "status",
                          "--json",
                          "--endpoint",
                          "https://localhost:" + server.port(),
                          "--tls-ca-bundle",
                          caFile.toString(),
                          "--tls-client-certificate",
                          cert.toString(),
                          "--tls-client-key",
                          key.toString());
                  return oneWorker.matcher(status.out()).find();
                });
      } finally {
        process.destroy();
        process.waitFor(20, java.util.concurrent.TimeUnit.SECONDS);
        process.destroyForcibly();
      }
      assertThat(ServerProcess.output("tls-worker")).doesNotContain("worker-token");
    }
  }

  @Test
  void adminRefusesTlsFilesForAPlaintextEndpointAndNamesABadFile() {
    Run plaintext =
        run(
            "admin",
            "status",
            "--endpoint",
            "http://127.0.0.1:1",
            "--tls-ca-bundle",
            caFile.toString());
    Path missing = dir.resolve("missing.pem");
    Run bad =
        run(
            "admin",
            "status",
            "--endpoint",
            "https://127.0.0.1:1",
            "--tls-ca-bundle",
            missing.toString());

    assertThat(plaintext.err()).contains("is plaintext; use https://");
    assertThat(bad.err())
        .contains("cannot use the TLS CA bundle " + missing.toAbsolutePath() + ": no such file");
  }

  @Test
  void adminSendsTheTokenFromItsFileAsABearerHeader() throws Exception {
    List<String> authorizations = new CopyOnWriteArrayList<>();
    HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    http.createContext(
        "/",
        exchange -> {
          authorizations.add(
              String.valueOf(exchange.getRequestHeaders().getFirst("Authorization")));
          byte[] body = "{\"workers\":[]}".getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    http.start();
    try {
      Path tokenFile = Files.writeString(dir.resolve("token"), "s3cr3t-token\nignored line\n");

      Run run =
          run(
              "admin",
              "worker-stats",
              "--json",
              "--endpoint",
              "http://127.0.0.1:" + http.getAddress().getPort(),
              "--token-file",
              tokenFile.toString());

      assertThat(run.exitCode()).as(run.toString()).isZero();
      assertThat(authorizations).containsExactly("Bearer s3cr3t-token");
    } finally {
      http.stop(0);
    }
  }
}
