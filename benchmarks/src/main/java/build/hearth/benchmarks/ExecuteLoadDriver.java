package build.hearth.benchmarks;

import build.bazel.remote.execution.v2.ExecutedActionMetadata;
import build.hearth.core.config.HearthConfig;
import build.hearth.server.HearthServer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Measures what remote execution through Hearth adds to a trivial command: Execute of {@code
 * /bin/true} over a loopback gRPC channel, its inputs already in the CAS, next to starting the same
 * command directly with {@link ProcessBuilder} in the same JVM, at concurrency 1 and 32 by default.
 * Prints a Markdown report with latency percentiles, throughput, the server-side phases of each
 * action and the verdict on the targets of {@code docs/benchmarks.md}.
 *
 * <p>It starts a server in this JVM on {@code 127.0.0.1:0} with a scheduler, an in-process worker
 * and filesystem stores in a temporary directory, uploads every action before the first is timed,
 * runs the direct spawns and then the Execute calls at each concurrency (warm-up, then measured),
 * stops the server and deletes the directory. From the repository root:
 *
 * <pre>
 * ./mvnw -q -B -pl benchmarks -am package -DskipTests
 * java -jar benchmarks/target/hearth-benchmarks.jar execute [--slots 2] [--help]
 * java -jar benchmarks/target/hearth-benchmarks.jar execute --sandbox off,required
 * </pre>
 *
 * <p>With {@code --sandbox}, one server per worker {@code sandbox} setting is started (two servers
 * in this JVM, each with its own stores and worker) and the same actions run against each in turn
 * at every concurrency, so that the sandbox's cost is measured in one run on one machine state; the
 * report then ends with a comparison against the first setting.
 *
 * <p>The exit status is 0 whether or not a target is met; it is non-zero only if an action did not
 * run as it should (a failure status, a non-zero exit code, an answer from the action cache, two
 * calls merged onto one execution) or the run could not be set up.
 */
@Command(
    name = "execute",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Starts Hearth in-process with an in-process worker and measures the per-action overhead of"
          + " Execute over loopback gRPC for /bin/true against spawning it directly. Prints a"
          + " Markdown report on standard output and progress on standard error."
    })
public final class ExecuteLoadDriver implements Callable<Integer> {
  private static final String WORKER = "bench";

  /** The values of a worker's {@code sandbox} setting that {@code --sandbox} accepts. */
  static final List<String> SANDBOX_SETTINGS = List.of("off", "optional", "required");

  /**
   * The deployments {@code --state} compares: one server with its scheduler in memory and
   * filesystem stores (the default deployment), one server with its stores and scheduler state on
   * one Redis, and two servers on one Redis with a worker each, the calls alternating between them.
   */
  static final List<String> STATE_SETTINGS = List.of("memory", "redis", "redis-2");

  /** How the Execute requests keep every call an execution of its own. */
  enum CacheMode {
    /**
     * {@code skip_cache_lookup}: the action cache is not read; results are still written to it, as
     * for a build's actions.
     */
    skipLookup,
    /** Each action says {@code do_not_cache}: no cache read, no cache write, no merging. */
    doNotCache,
    /** A plain Execute: the lookup happens and misses, since every action is new. */
    lookup
  }

  @Option(
      names = "--concurrency",
      split = ",",
      paramLabel = "N",
      description = "Executes in flight at a time, one run per value (default: 1,32).")
  List<Integer> concurrency = List.of(1, 32);

  @Option(
      names = "--actions",
      split = ",",
      paramLabel = "N",
      description =
          "Measured actions per run, one value per --concurrency value (default: 300,2000).")
  List<Integer> actions = List.of(300, 2000);

  @Option(
      names = "--warmup",
      paramLabel = "N",
      description =
          "Actions run before each measured run, Hearth and direct alike, and discarded (default:"
              + " ${DEFAULT-VALUE}).")
  int warmup = 2000;

  @Option(
      names = "--slots",
      paramLabel = "N",
      description = "Slots of the in-process worker (default: ${DEFAULT-VALUE}).")
  int slots = 2;

  @Option(
      names = "--cache-mode",
      paramLabel = "MODE",
      description =
          "skipLookup: skip_cache_lookup, results still cached; doNotCache: actions with"
              + " do_not_cache; lookup: a plain Execute that misses (default: ${DEFAULT-VALUE}).")
  CacheMode cacheMode = CacheMode.skipLookup;

  @Option(
      names = "--sandbox",
      split = ",",
      paramLabel = "SETTING",
      description =
          "Worker sandbox settings to compare (off, optional, required), one server each, the"
              + " first the baseline; for example off,required. Default: one server whose worker"
              + " leaves the setting to the server's default.")
  List<String> sandbox = List.of();

  @Option(
      names = "--state",
      split = ",",
      paramLabel = "DEPLOYMENT",
      description =
          "Deployments to compare, the first the baseline: memory (one server, scheduler in"
              + " memory, filesystem stores), redis (one server, stores and scheduler state on a"
              + " redis-server the driver starts), redis-2 (two servers on one Redis, a worker of"
              + " --slots/2 slots each, calls alternating). Not with --sandbox.")
  List<String> state = List.of();

  @Option(
      names = "--tmp",
      paramLabel = "DIR",
      description =
          "Where the run's stores and work directory are made, and deleted at the end"
              + " (default: java.io.tmpdir).")
  Path tmp = Path.of(System.getProperty("java.io.tmpdir"));

  @Spec CommandSpec spec;

  private final PrintStream out;
  private final PrintStream progress;

  /** Reports on standard output, progress on standard error. */
  public ExecuteLoadDriver() {
    this(System.out, System.err);
  }

  ExecuteLoadDriver(PrintStream out, PrintStream progress) {
    this.out = out;
    this.progress = progress;
  }

  /** Runs the driver alone; {@code hearth-benchmarks.jar execute} is the same. */
  public static void main(String[] args) {
    Benchmarks.quietServerLogs();
    System.exit(new CommandLine(new ExecuteLoadDriver()).execute(args));
  }

  @Override
  public Integer call() throws IOException {
    validate();
    ExecuteReport report = new ExecuteReport();
    report.setting(
        "Server",
        "Hearth in this JVM on 127.0.0.1, filesystem CAS and action cache, one scheduler, one"
            + " in-process worker with "
            + slots
            + (slots == 1 ? " slot" : " slots")
            + "; client: one plaintext gRPC channel, a blocking Execute call per action");
    report.setting(
        "Action",
        "`"
            + TrivialActions.PROGRAM
            + " action-N` (a distinct argument per action, so no two merge), env PATH="
            + TrivialActions.PATH
            + ", empty input root, every blob uploaded before the runs; "
            + describe(cacheMode));
    report.setting(
        "Direct spawn",
        "`ProcessBuilder` of `"
            + TrivialActions.PROGRAM
            + " direct-N` from the same JVM, env PATH="
            + TrivialActions.PATH
            + ", stdin /dev/null, output discarded, `waitFor()`; at concurrency N, N threads");
    report.setting(
        "Worker sandbox",
        sandbox.isEmpty()
            ? "not set (the server's default)"
            : "one server per setting, in this order: "
                + String.join(", ", sandbox)
                + "; the tables above the comparison are of `"
                + sandbox.get(0)
                + "`");
    report.setting(
        "Concurrency",
        "closed loop: N client threads, each starting its next call when its last returned");
    String loadBefore = Report.loadAverage();

    int total = 0;
    for (int count : actions) {
      total += warmup + count;
    }
    TrivialActions trivial = TrivialActions.create(total, cacheMode == CacheMode.doNotCache);

    boolean byState = !state.isEmpty();
    List<String> settings = byState ? state : sandbox.isEmpty() ? List.of("") : sandbox;
    SandboxComparison comparison = new SandboxComparison();
    StateComparison states = new StateComparison();
    try (ScratchDirectory dir = ScratchDirectory.create(tmp, "hearth-bench-exec-");
        Targets targets = new Targets()) {
      for (String setting : settings) {
        Path root =
            setting.isEmpty()
                ? dir.path()
                : Files.createDirectory(
                    dir.path().resolve((byState ? "state-" : "sandbox-") + setting));
        List<HearthConfig> configs =
            byState ? stateConfigs(root, setting, targets) : List.of(config(root, setting));
        List<ExecuteClient> clients = new ArrayList<>();
        for (HearthConfig config : configs) {
          HearthServer server = targets.add(HearthServer.start(config));
          GrpcCasTarget target = targets.add(new GrpcCasTarget("127.0.0.1", server.port(), 0));
          if (clients.isEmpty()) {
            // Servers of one deployment share their CAS: one upload serves them all.
            target.putSmall(trivial.blobs());
          }
          clients.add(
              new ExecuteClient(
                  target.channel(), cacheMode == CacheMode.skipLookup, Clock.systemUTC()));
        }
        progress.printf(
            Locale.ROOT,
            "uploaded %,d actions (%,d blobs)%s%n",
            trivial.size(),
            trivial.blobs().size(),
            setting.isEmpty() ? "" : " for " + setting);
        targets.clients.add(clients);
      }
      DirectSpawn direct = new DirectSpawn(Files.createDirectory(dir.path().resolve("direct")));
      int next = 0;
      for (int i = 0; i < concurrency.size(); i++) {
        int level = concurrency.get(i);
        int count = actions.get(i);
        LoadRun spawned = measure("direct spawn", level, next, count, direct::run, false);
        for (int s = 0; s < settings.size(); s++) {
          List<ExecuteClient> clients = targets.clients.get(s);
          String label =
              settings.get(s).isEmpty()
                  ? "Hearth Execute"
                  : (byState ? "state " : "sandbox ") + settings.get(s);
          LoadRun executed =
              measure(
                  label,
                  level,
                  next,
                  count,
                  n -> clients.get(n % clients.size()).execute(trivial.action(n)),
                  true);
          if (s == 0) {
            report.add(new ExecuteReport.Pair(spawned, executed));
          }
          if (byState) {
            states.add(settings.get(s), executed);
          } else {
            comparison.add(settings.get(s), executed);
          }
        }
        next += warmup + count;
      }
    }
    report.setting(
        "Load average (1, 5, 15 min)", "before " + loadBefore + ", after " + Report.loadAverage());
    int cores = Runtime.getRuntime().availableProcessors();
    report.note(
        "CPU per action adds the JVM's own time and the spawned commands' (their user + system"
            + " time as children of this JVM, from /proc/self/stat, in 10 ms ticks); with "
            + cores
            + (cores == 1 ? " core, 1 s" : " cores, " + cores + " s")
            + " divided by it bounds the actions per second.");
    out.print(report.render());
    if (byState) {
      out.print(states.render());
    } else if (settings.size() > 1) {
      out.print(comparison.render());
    }
    out.flush();
    return 0;
  }

  private void validate() {
    require(!concurrency.isEmpty(), "--concurrency needs at least one value");
    require(
        concurrency.size() == actions.size(),
        "--actions needs one value per --concurrency value, got "
            + actions.size()
            + " for "
            + concurrency.size());
    for (int level : concurrency) {
      require(level >= 1 && level <= 1024, "--concurrency values must be between 1 and 1024");
    }
    for (int count : actions) {
      require(count >= 1 && count <= 100_000, "--actions values must be between 1 and 100000");
    }
    require(warmup >= 0 && warmup <= 100_000, "--warmup must be between 0 and 100000");
    require(slots >= 1 && slots <= 1024, "--slots must be between 1 and 1024");
    for (String setting : sandbox) {
      require(
          SANDBOX_SETTINGS.contains(setting),
          "--sandbox values must be among " + SANDBOX_SETTINGS + ", got '" + setting + "'");
    }
    require(
        sandbox.stream().distinct().count() == sandbox.size(),
        "--sandbox names a setting twice: " + sandbox);
    require(state.isEmpty() || sandbox.isEmpty(), "--state and --sandbox cannot be combined");
    for (String setting : state) {
      require(
          STATE_SETTINGS.contains(setting),
          "--state values must be among " + STATE_SETTINGS + ", got '" + setting + "'");
    }
    require(state.stream().distinct().count() == state.size(), "--state names a deployment twice");
    require(
        !state.contains("redis-2") || slots >= 2,
        "--state redis-2 splits --slots between two workers; give at least 2");
  }

  private void require(boolean condition, String message) {
    if (!condition) {
      throw new CommandLine.ParameterException(spec.commandLine(), message);
    }
  }

  private static String describe(CacheMode mode) {
    return switch (mode) {
      case skipLookup -> "Execute with skip_cache_lookup (results are written to the action cache)";
      case doNotCache -> "actions with do_not_cache (no action cache read or write)";
      case lookup -> "plain Execute (the action cache lookup runs and misses)";
    };
  }

  /**
   * A scheduler with no properties (the actions ask for none), the default instance executing on
   * it, and one in-process worker whose cache and work directory share the file system of the
   * stores, so inputs could be hard-linked.
   */
  HearthConfig config(Path dir) {
    return config(dir, "");
  }

  /**
   * {@link #config(Path)} with the worker's {@code "sandbox"} set to {@code sandboxSetting}, or not
   * set when it is empty.
   */
  HearthConfig config(Path dir, String sandboxSetting) {
    String json =
        "{\"blobStores\": {\"cas\": {\"type\": \"filesystem\", \"path\": "
            + CasLoadDriver.jsonString(dir.resolve("cas").toString())
            + ", \"maxSize\": \"1GiB\"}},"
            + " \"actionCacheStores\": {\"ac\": {\"type\": \"filesystem\", \"path\": "
            + CasLoadDriver.jsonString(dir.resolve("ac").toString())
            + ", \"maxSize\": \"256MiB\"}},"
            + " \"schedulers\": {\"main\": {}},"
            + " \"servers\": [{\"listen\": \"127.0.0.1:0\", \"instances\": {\"\": {\"cas\": \"cas\","
            + " \"actionCache\": \"ac\", \"execution\": {\"scheduler\": \"main\"}}}}],"
            + " \"workers\": [{\"name\": \""
            + WORKER
            + "\", \"scheduler\": \"main\", \"instance\": \"\","
            + (sandboxSetting.isEmpty()
                ? ""
                : " \"sandbox\": " + CasLoadDriver.jsonString(sandboxSetting) + ",")
            + " \"slots\": "
            + slots
            + ", \"workDirectory\": "
            + CasLoadDriver.jsonString(dir.resolve("work").toString())
            + ", \"cache\": {\"path\": "
            + CasLoadDriver.jsonString(dir.resolve("worker-cache").toString())
            + ", \"maxSize\": \"1GiB\"}}]}";
    return HearthConfig.parse(json, "the Execute load driver's configuration");
  }

  /**
   * The servers of one {@code --state} deployment, their workers without a sandbox: {@code memory}
   * is {@link #config(Path, String)}; {@code redis} and {@code redis-2} start a {@code
   * redis-server} (closed with the targets) that holds the CAS, the action cache and the scheduler
   * state of their one or two servers.
   */
  private List<HearthConfig> stateConfigs(Path dir, String setting, Targets targets) {
    // No sandbox anywhere: its namespaces cost tens of milliseconds per action here, which would
    // hide what the scheduler state costs.
    if (setting.equals("memory")) {
      return List.of(config(dir, "off"));
    }
    RedisProcesses redis = targets.add(RedisProcesses.single(dir));
    String uri = CasLoadDriver.jsonString(redis.uris().get(0));
    int servers = setting.equals("redis-2") ? 2 : 1;
    List<HearthConfig> configs = new ArrayList<>();
    for (int i = 0; i < servers; i++) {
      String worker = servers == 1 ? WORKER : WORKER + "-" + (char) ('a' + i);
      Path own = dir.resolve("server-" + i);
      String json =
          "{\"blobStores\": {\"cas\": {\"type\": \"redis\", \"uri\": "
              + uri
              + ", \"maxSize\": \"1GiB\"}},"
              + " \"actionCacheStores\": {\"ac\": {\"type\": \"redis\", \"uri\": "
              + uri
              + ", \"keyPrefix\": \"ac:\", \"maxSize\": \"256MiB\"}},"
              + " \"schedulers\": {\"main\": {\"state\": {\"type\": \"redis\", \"uri\": "
              + uri
              + "}}},"
              + " \"servers\": [{\"listen\": \"127.0.0.1:0\", \"instances\": {\"\": {\"cas\":"
              + " \"cas\", \"actionCache\": \"ac\", \"execution\": {\"scheduler\": \"main\"}}}}],"
              + " \"workers\": [{\"name\": \""
              + worker
              + "\", \"scheduler\": \"main\", \"instance\": \"\", \"sandbox\": \"off\","
              + " \"slots\": "
              + (slots / servers)
              + ", \"workDirectory\": "
              + CasLoadDriver.jsonString(own.resolve("work").toString())
              + ", \"cache\": {\"path\": "
              + CasLoadDriver.jsonString(own.resolve("worker-cache").toString())
              + ", \"maxSize\": \"1GiB\"}}]}";
      configs.add(
          HearthConfig.parse(json, "the Execute load driver's " + setting + " configuration"));
    }
    return configs;
  }

  /**
   * The servers and CAS connections of a run, closed in reverse order of opening, and one Execute
   * client per server in the order of the settings.
   */
  private static final class Targets implements AutoCloseable {
    private final ArrayDeque<AutoCloseable> opened = new ArrayDeque<>();
    // One list per setting: the clients of its servers, which the calls alternate between.
    final List<List<ExecuteClient>> clients = new ArrayList<>();

    <T extends AutoCloseable> T add(T resource) {
      opened.push(resource);
      return resource;
    }

    @Override
    public void close() throws IOException {
      RuntimeException failure = null;
      while (!opened.isEmpty()) {
        try {
          opened.pop().close();
        } catch (Exception e) {
          if (failure == null) {
            failure = new IllegalStateException("cannot close a benchmark target", e);
          } else {
            failure.addSuppressed(e);
          }
        }
      }
      if (failure != null) {
        throw failure;
      }
    }
  }

  /**
   * Warms up with operations {@code first} onwards, then measures the next {@code count}; with
   * {@code execute} the samples are Execute samples, checked for merged calls and turned into
   * phases.
   */
  private <T> LoadRun measure(
      String what,
      int level,
      int first,
      int count,
      ClosedLoop.Operation<T> operation,
      boolean execute) {
    ClosedLoop loop = new ClosedLoop("bench-driver");
    if (warmup > 0) {
      loop.run(level, first, warmup, operation, null);
    }
    CpuTimes cpu = new CpuTimes();
    ProcessCpu before = ProcessCpu.read();
    ClosedLoop.Result<T> result = loop.run(level, first + warmup, count, operation, cpu);
    ProcessCpu after = ProcessCpu.read();
    Measurement latencies =
        new Measurement(what, "1 action", "actions/s", 1, warmup, result.nanos());
    Optional<Phases> phases = Optional.empty();
    if (execute) {
      List<ExecuteClient.Sample> samples =
          result.samples().stream().map(ExecuteClient.Sample.class::cast).toList();
      checkNotMerged(samples);
      phases = Optional.of(Phases.of(samples));
    }
    LoadRun run =
        new LoadRun(
            level,
            latencies,
            result.wallNanos(),
            cpu.describe() + before.describeUntil(after, count) + clientShare(cpu, count),
            phases);
    progress.printf(
        Locale.ROOT,
        "%-15s concurrency %3d: %,d (+ %,d warm-up) done, p50 %s ms, %s /s%n",
        what,
        level,
        count,
        warmup,
        ExecuteReport.millis(latencies.medianMillis()),
        Report.number(run.throughput()));
    return run;
  }

  /**
   * The part of the JVM's CPU per action that is the driver's own client (its gRPC transport and
   * its calling threads), which a real build runs on another machine, and the JIT compiler's: what
   * is left of the JVM's figure is the server's steady-state cost, which issue 18's "JVM CPU per
   * action" target is about.
   */
  private static String clientShare(CpuTimes cpu, int actions) {
    double client =
        cpu.nanosOf(
                CpuTimes.pool(GrpcCasTarget.CLIENT_THREADS),
                CpuTimes.pool("bench-driver"),
                CpuTimes.pool("main"))
            / 1e6
            / actions;
    double jit = cpu.nanosOf(CpuTimes.pool("C2 Compiler")) / 1e6 / actions;
    return String.format(
        Locale.ROOT,
        "; of the JVM's, the driver's client %s ms and the JIT compiler %s ms",
        ExecuteReport.millis(client),
        ExecuteReport.millis(jit));
  }

  /**
   * Each call must have had an execution of its own. Every call has an operation name of its own,
   * also when merged onto another's execution, so merged calls are told by their execution
   * metadata: one run of a command, with the very same timestamps, answered both.
   */
  private static void checkNotMerged(List<ExecuteClient.Sample> samples) {
    Set<ExecutedActionMetadata> runs = new HashSet<>();
    for (ExecuteClient.Sample sample : samples) {
      if (!runs.add(sample.metadata())) {
        throw new IllegalStateException(
            "two Execute calls were answered by one execution (same execution metadata), the"
                + " second "
                + sample.operation()
                + "; the actions were meant to be distinct");
      }
      String worker = sample.metadata().getWorker();
      if (!worker.equals(WORKER) && !worker.startsWith(WORKER + "-")) {
        throw new IllegalStateException(
            sample.operation() + " ran on worker '" + worker + "', not one of the driver's");
      }
    }
  }

  /**
   * The CPU clock ticks of this process and of its waited-for children (the commands it spawned),
   * from {@code /proc/self/stat}; absent elsewhere.
   */
  private record ProcessCpu(long selfTicks, long childTicks) {
    private static final double NANOS_PER_TICK = 1e9 / 100; // USER_HZ is 100 on Linux

    static ProcessCpu read() {
      try {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        // The command name may hold spaces; the fields after it are separated by single spaces.
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split(" ");
        // Fields 14 to 17 of proc(5) (utime, stime, cutime, cstime), counted from field 3 here.
        return new ProcessCpu(
            Long.parseLong(fields[11]) + Long.parseLong(fields[12]),
            Long.parseLong(fields[13]) + Long.parseLong(fields[14]));
      } catch (IOException | RuntimeException e) {
        return new ProcessCpu(-1, -1);
      }
    }

    String describeUntil(ProcessCpu after, int actions) {
      if (selfTicks < 0 || after.selfTicks < 0) {
        return "";
      }
      double jvm = (after.selfTicks - selfTicks) * NANOS_PER_TICK / 1e6 / actions;
      double children = (after.childTicks - childTicks) * NANOS_PER_TICK / 1e6 / actions;
      return String.format(
          Locale.ROOT,
          "; CPU per action: JVM %s ms + spawned commands %s ms = %s ms",
          ExecuteReport.millis(jvm),
          ExecuteReport.millis(children),
          ExecuteReport.millis(jvm + children));
    }
  }
}
