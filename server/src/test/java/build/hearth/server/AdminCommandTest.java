package build.hearth.server;

import static org.assertj.core.api.Assertions.assertThat;

import build.hearth.api.PoolLimits;
import build.hearth.api.PoolStats;
import build.hearth.api.PoolStats.Counters;
import build.hearth.api.PoolStats.KeyStats;
import build.hearth.api.PoolStats.ProcessState;
import build.hearth.api.PoolStats.ProcessStats;
import build.hearth.api.RetirementReason;
import build.hearth.api.ToolProtocol;
import build.hearth.core.config.SandboxConfig;
import build.hearth.core.ops.AdminRoutes;
import build.hearth.core.ops.WorkerReports;
import build.hearth.core.sandbox.SandboxCapabilities;
import build.hearth.core.sandbox.SandboxCapabilities.Part;
import build.hearth.spi.transport.HttpRoutes;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code hearth admin} against a small HTTP server that answers as a Hearth server would. */
class AdminCommandTest {
  private static final Instant NOW = Instant.parse("2026-03-01T10:00:00Z");

  private static final String STATUS =
      """
      {"version":"1.2.3","startedAt":"2026-03-01T09:00:00Z","uptimeSeconds":3725.5,"ready":true,
       "schedulers":[{"name":"default","queued":3,"executing":2,"workers":1,"slots":4,
                      "busySlots":2,"requeued":0}],
       "stores":[{"name":"cas","kind":"cas","entries":12,"sizeBytes":1572864,
                  "capacityBytes":10737418240,"evictions":7,"evictedBytes":100},
                 {"name":"ac","kind":"action_cache","entries":4,"sizeBytes":900,
                  "capacityBytes":null,"evictions":0,"evictedBytes":0},
                 {"name":"old","kind":"cas","error":"disk gone"}],
       "workers":{"reporting":2,"withPersistentWorkers":1,"persistentProcesses":3},
       "somethingNewer":{"ignored":true}}
      """;

  private final Map<String, Response> answers = new ConcurrentHashMap<>();
  private final List<String> requested = new CopyOnWriteArrayList<>();
  private HttpServer http;

  private record Response(int status, String body) {}

  @BeforeEach
  void startServer() throws IOException {
    http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    http.createContext(
        "/",
        exchange -> {
          String path = exchange.getRequestURI().getPath();
          String query = exchange.getRequestURI().getRawQuery();
          requested.add(path + (query == null ? "" : "?" + query));
          Response answer = answers.getOrDefault(path, new Response(404, "no such path"));
          byte[] body = answer.body().getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(answer.status(), body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    http.start();
  }

  @AfterEach
  void stopServer() {
    http.stop(0);
  }

  private String endpoint() {
    return "http://127.0.0.1:" + http.getAddress().getPort();
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

  /** What a server with one remote worker running two javac processes would answer. */
  private static String workersFromRealRoutes() {
    Clock clock = Clock.fixed(NOW, ZoneOffset.UTC);
    WorkerReports reports = new WorkerReports(clock);
    Instant takenAt = NOW.minusSeconds(2);
    Counters counters =
        new Counters(
            3,
            0,
            40,
            37,
            3,
            2,
            0,
            0,
            1,
            Map.of(RetirementReason.MEMORY, 1L, RetirementReason.IDLE, 2L),
            40,
            Duration.ofSeconds(20));
    KeyStats key =
        new KeyStats(
            "javac-17",
            "javac",
            "f".repeat(64),
            ToolProtocol.PROTO,
            false,
            PoolLimits.DEFAULTS,
            0,
            1,
            1,
            0,
            0,
            2,
            counters,
            List.of(
                new ProcessStats(
                    4711,
                    ProcessState.IDLE,
                    0,
                    30,
                    OptionalLong.of(300L << 20),
                    takenAt.minusSeconds(600),
                    takenAt.minusSeconds(12),
                    Path.of("/pool/1"),
                    Optional.empty()),
                new ProcessStats(
                    4712,
                    ProcessState.BUSY,
                    1,
                    10,
                    OptionalLong.empty(),
                    takenAt.minusSeconds(3700),
                    takenAt.minusSeconds(1),
                    Path.of("/pool/2"),
                    Optional.empty())));
    KeyStats quiet =
        new KeyStats(
            "scalac",
            "",
            "e".repeat(64),
            ToolProtocol.JSON,
            false,
            PoolLimits.DEFAULTS,
            0,
            0,
            0,
            0,
            0,
            1,
            counters,
            List.of());
    reports.update(
        new WorkerReports.Report(
            "builder-1",
            "default",
            true,
            NOW.minusSeconds(4),
            Optional.of(new PoolStats(takenAt, 10, 2, 2, 0, counters, List.of(key, quiet)))));
    reports.update(
        new WorkerReports.Report("plain", "default", true, NOW.minusSeconds(1), Optional.empty()));
    HttpRoutes routes = AdminRoutes.newBuilder().workerReports(reports).clock(clock).build();
    return new String(
        routes.get("/admin/v1/workers", "").orElseThrow().body(), StandardCharsets.UTF_8);
  }

  @Test
  void workerStatsPrintsAnAlignedTableWithPoolTotals() {
    answers.put("/admin/v1/workers", new Response(200, workersFromRealRoutes()));

    Run run = run("admin", "worker-stats", "--endpoint", endpoint());

    assertThat(run.exitCode()).isZero();
    assertThat(run.err()).isEmpty();
    assertThat(requested).containsExactly("/admin/v1/workers");
    assertThat(run.out())
        .isEqualTo(
            """
            WORKER     KEY       TOOL   PID   STATE                  REQUESTS  RSS        AGE     IDLE
            builder-1  javac-17  javac  4711  idle                   30        300.0 MiB  10m00s  12s
            builder-1  javac-17  javac  4712  busy                   10        -          1h01m   -
            builder-1  scalac    -      -     no processes           -         -          -       -
              builder-1: remote, scheduler default, reported 4s ago; pool totals: 2 processes \
            (max 10), 40 requests (37 warm, 3 cold), 3 spawns, 2 waits at cap, retired: idle 2, memory 1
            plain      -         -      -     no persistent workers  -         -          -       -
              plain: remote, scheduler default, reported 1s ago
            """);
  }

  @Test
  void jsonPrintsWhatTheEndpointSaid() {
    answers.put("/admin/v1/workers", new Response(200, "{\"workers\":[]}"));

    Run run = run("admin", "worker-stats", "--endpoint", endpoint() + "/", "--json");

    assertThat(run.exitCode()).isZero();
    assertThat(run.out()).isEqualTo("{\"workers\":[]}\n");
    assertThat(requested).containsExactly("/admin/v1/workers?pretty");
  }

  @Test
  void statusShowsReadinessSchedulersStoresAndWorkers() {
    answers.put("/admin/v1/status", new Response(200, STATUS));

    Run run = run("admin", "status", "--endpoint", endpoint().replace("http://", "grpc://"));

    assertThat(run.exitCode()).isZero();
    assertThat(run.out())
        .isEqualTo(
            """
            Hearth 1.2.3, up 1h02m, ready

            SCHEDULER  QUEUED  EXECUTING  WORKERS  SLOTS  BUSY
            default    3       2          1        4      2

            STORE  KIND          ENTRIES                 SIZE     CAPACITY   EVICTIONS
            cas    cas           12                      1.5 MiB  10.0 GiB   7
            ac     action_cache  4                       900 B    unbounded  0
            old    cas           unavailable: disk gone

            Workers reporting: 2 (1 with persistent workers, 3 persistent processes)
            """);
  }

  @Test
  void statusPrintsEachWorkersSandboxAndEveryRefusedPart() {
    WorkerReports reports = new WorkerReports(Clock.fixed(NOW, ZoneOffset.UTC));
    reports.registerLive(
        "local",
        "default",
        Optional::empty,
        WorkerReports.Sandbox.of(
            new SandboxCapabilities(
                SandboxConfig.Mode.OPTIONAL,
                EnumSet.of(Part.MOUNT, Part.PID, Part.IPC, Part.UTS, Part.USER),
                new EnumMap<>(
                    Map.of(
                        Part.NETWORK,
                        "bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted",
                        Part.MEMORY,
                        "no writable memory cgroup")),
                "none",
                "user namespace of worker (1000)")));
    reports.update(new WorkerReports.Report("old-remote", "default", true, NOW, Optional.empty()));
    reports.markDraining("old-remote");
    HttpRoutes routes =
        AdminRoutes.newBuilder()
            .workerReports(reports)
            .clock(Clock.fixed(NOW, ZoneOffset.UTC))
            .build();
    answers.put(
        "/admin/v1/status",
        new Response(
            200,
            new String(
                routes.get("/admin/v1/status", "").orElseThrow().body(), StandardCharsets.UTF_8)));

    Run run = run("admin", "status", "--endpoint", endpoint());

    assertThat(run.exitCode()).isZero();
    String out = run.out();
    assertThat(out.substring(out.indexOf("Workers reporting")))
        .isEqualTo(
            """
            Workers reporting: 2 (0 with persistent workers, 0 persistent processes)
              local (in-process): sandbox optional; in force: mount, pid, ipc, uts, user; cgroups none; actions run as user namespace of worker (1000)
                refused network: bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted
                refused memory: no writable memory cgroup
              old-remote (remote, draining): sandbox not reported
            """);
  }

  @Test
  void aServerThatIsNotReadySaysWhy() {
    answers.put(
        "/admin/v1/status",
        new Response(200, "{\"ready\":false,\"notReadyReason\":\"the server is shutting down\"}"));

    Run run = run("admin", "status", "--endpoint", endpoint());

    assertThat(run.exitCode()).isZero();
    assertThat(run.out())
        .startsWith("Hearth (unknown version), up -, NOT READY: the server is shutting down\n");
  }

  @Test
  void anUnreachableEndpointIsOneLineAndExitCodeOne() throws IOException {
    int port;
    try (ServerSocket socket = new ServerSocket(0)) {
      port = socket.getLocalPort();
    }

    Run run = run("admin", "worker-stats", "--endpoint", "http://127.0.0.1:" + port);

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.out()).isEmpty();
    assertThat(run.err())
        .isEqualTo(
            "hearth admin: cannot reach http://127.0.0.1:"
                + port
                + ": connection refused; is `hearth serve` running there?\n");
  }

  @Test
  void anErrorStatusIsReportedWithItsBody() {
    Run run = run("admin", "status", "--endpoint", endpoint());

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err())
        .isEqualTo(
            "hearth admin: "
                + endpoint()
                + "/admin/v1/status answered HTTP 404 (no such path); is this a Hearth server with"
                + " the admin endpoint on this port?\n");
  }

  @Test
  void refusalsSayWhichCredentialsToGive() {
    answers.put("/admin/v1/status", new Response(401, "no credentials"));
    Run unauthenticated = run("admin", "status", "--endpoint", endpoint());
    answers.put("/admin/v1/status", new Response(403, "token:dev lacks \"admin\""));
    Run denied = run("admin", "status", "--endpoint", endpoint());

    assertThat(unauthenticated.exitCode()).isEqualTo(1);
    assertThat(unauthenticated.err())
        .contains("answered HTTP 401 (no credentials)")
        .contains("pass --token-file FILE (or set HEARTH_TOKEN)")
        .doesNotContain("is this a Hearth server");
    assertThat(denied.exitCode()).isEqualTo(1);
    assertThat(denied.err())
        .contains("answered HTTP 403")
        .contains("must grant you \"admin\"")
        .doesNotContain("is this a Hearth server");
  }

  @Test
  void anAnswerThatIsNotJsonIsReported() {
    answers.put("/admin/v1/workers", new Response(200, "<html>proxy login</html>"));

    Run run = run("admin", "worker-stats", "--endpoint", endpoint());

    assertThat(run.exitCode()).isEqualTo(1);
    assertThat(run.err())
        .startsWith(
            "hearth admin: "
                + endpoint()
                + "/admin/v1/workers did not answer with the admin JSON (");
    assertThat(run.err().lines()).hasSize(1);
  }

  @Test
  void aBadEndpointNamesTheFix() {
    Run noScheme = run("admin", "status", "--endpoint", "localhost:50052");
    Run ftp = run("admin", "status", "--endpoint", "ftp://localhost:50052");

    assertThat(noScheme.exitCode()).isEqualTo(1);
    assertThat(noScheme.err())
        .isEqualTo(
            "hearth admin: --endpoint 'localhost:50052' needs a scheme, such as"
                + " http://localhost:50052\n");
    assertThat(ftp.exitCode()).isEqualTo(1);
    assertThat(ftp.err()).contains("has scheme ftp; use http://");
  }

  @Test
  void humanUnits() {
    assertThat(AdminTables.bytes(0)).isEqualTo("0 B");
    assertThat(AdminTables.bytes(1023)).isEqualTo("1023 B");
    assertThat(AdminTables.bytes(1536)).isEqualTo("1.5 KiB");
    assertThat(AdminTables.bytes(5L << 40)).isEqualTo("5.0 TiB");
    assertThat(AdminTables.duration(59.9)).isEqualTo("59s");
    assertThat(AdminTables.duration(65.0)).isEqualTo("1m05s");
    assertThat(AdminTables.duration(7380.0)).isEqualTo("2h03m");
    assertThat(AdminTables.duration(3 * 86400.0 + 4 * 3600)).isEqualTo("3d04h");
    assertThat(AdminTables.duration(null)).isEqualTo("-");
  }

  @Test
  void theDefaultEndpointIsTheDefaultServersPort() {
    assertThat(AdminCommand.DEFAULT_ENDPOINT).isEqualTo("http://localhost:50052");
    Run help = run("admin", "worker-stats", "--help");
    assertThat(help.exitCode()).isZero();
    assertThat(help.out()).contains("default: http://localhost:50052");
  }
}
