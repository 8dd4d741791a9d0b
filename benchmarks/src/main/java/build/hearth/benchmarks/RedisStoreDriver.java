package build.hearth.benchmarks;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import build.hearth.api.ActionCache;
import build.hearth.api.Digest;
import build.hearth.core.Hearth;
import build.hearth.core.config.HearthConfig;
import build.hearth.server.HearthServer;
import com.google.common.util.concurrent.FutureCallback;
import com.google.common.util.concurrent.Futures;
import com.google.common.util.concurrent.MoreExecutors;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.IntSupplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Measures the {@code redis} blob and action-cache stores (issue 16): FindMissingBlobs in digests
 * per second and GetActionResult in calls per second, through a Hearth server's gRPC path over
 * loopback and through the embedding API (no transport, for comparison), against one Redis and a
 * three-node Redis Cluster, all in one run so the figures compare.
 *
 * <p>Unless given {@code --redis-uri} (or {@code --cluster-uri}), it starts its own {@code
 * redis-server} processes on free loopback ports, without persistence, and kills them at the end.
 * From the repository root:
 *
 * <pre>
 * ./mvnw -q -B -pl benchmarks -am package -DskipTests
 * java -jar benchmarks/target/hearth-benchmarks.jar redis [--topology single|cluster|both] [--help]
 * </pre>
 *
 * <p>The exit status is 0 whether or not the target is met; non-zero only if a store gave a wrong
 * answer or the run could not be set up.
 */
@Command(
    name = "hearth-redis-store-driver",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Measures FindMissingBlobs and GetActionResult on the redis stores, over loopback gRPC and"
          + " embedded, on one Redis and a three-node Cluster. Prints a Markdown report on standard"
          + " output and progress on standard error."
    })
public final class RedisStoreDriver implements Callable<Integer> {
  /** The target for FindMissingBlobs on the Redis blob store. */
  static final double FIND_MISSING_TARGET = 200_000;

  private static final int SMALL_BLOB = 64;

  enum Topology {
    single,
    cluster,
    both
  }

  enum Modes {
    grpc,
    embedded,
    both
  }

  @Option(
      names = "--topology",
      paramLabel = "T",
      description =
          "Which Redis deployments: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  Topology topology = Topology.both;

  @Option(
      names = "--mode",
      paramLabel = "M",
      description = "Which paths: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  Modes modes = Modes.both;

  @Option(
      names = "--redis-uri",
      paramLabel = "URI",
      description =
          "A running Redis to use for the single-Redis runs, such as redis://127.0.0.1:6379 (its"
              + " keys under a fresh keyPrefix); by default the driver starts its own.")
  String redisUri;

  @Option(
      names = "--cluster-uri",
      paramLabel = "URI",
      split = ",",
      description =
          "Seed nodes of a running Redis Cluster for the Cluster runs; by default the driver"
              + " starts three nodes of its own.")
  List<String> clusterUris;

  @Option(
      names = "--digests",
      paramLabel = "N",
      description = "Digests per FindMissingBlobs call, half present (default: ${DEFAULT-VALUE}).")
  int digests = 10_000;

  @Option(
      names = "--fmb-warmup",
      paramLabel = "N",
      description = "Warm-up FindMissingBlobs calls (default: ${DEFAULT-VALUE}).")
  int findMissingWarmup = 30;

  @Option(
      names = "--fmb-iterations",
      paramLabel = "N",
      description = "Measured FindMissingBlobs calls (default: ${DEFAULT-VALUE}).")
  int findMissingIterations = 30;

  @Option(
      names = "--actions",
      paramLabel = "N",
      description =
          "Distinct cached actions, each with one output file, that GetActionResult cycles"
              + " through (default: ${DEFAULT-VALUE}).")
  int actions = 1_000;

  @Option(
      names = "--ac-calls",
      paramLabel = "N",
      description = "GetActionResult calls per iteration (default: ${DEFAULT-VALUE}).")
  int actionCacheCalls = 5_000;

  @Option(
      names = "--ac-concurrency",
      paramLabel = "N",
      description = "GetActionResult calls in flight at once (default: ${DEFAULT-VALUE}).")
  int concurrency = 16;

  @Option(
      names = "--ac-warmup",
      paramLabel = "N",
      description = "Warm-up GetActionResult iterations (default: ${DEFAULT-VALUE}).")
  int actionCacheWarmup = 5;

  @Option(
      names = "--ac-iterations",
      paramLabel = "N",
      description = "Measured GetActionResult iterations (default: ${DEFAULT-VALUE}).")
  int actionCacheIterations = 10;

  @Option(
      names = "--tmp",
      paramLabel = "DIR",
      description =
          "Where the run's Redis files are kept, and deleted at the end (default: java.io.tmpdir).")
  Path tmp = Path.of(System.getProperty("java.io.tmpdir"));

  @Spec CommandSpec spec;

  private final PrintStream progress = System.err;
  private final SplittableRandom random = new SplittableRandom(System.nanoTime());
  private final AtomicInteger runs = new AtomicInteger();
  // Redis's CPU time per unit of work of each measurement, warm-up included, in microseconds.
  private final Map<Measurement, Double> redisCpu = new LinkedHashMap<>();
  private List<String> redisUris = List.of();
  // Redis's own CPU seconds per wall-clock second while no client asks anything (its timers).
  private double idleCpuPerSecond;

  /** Runs the driver with command-line arguments; see {@code --help}. */
  public static void main(String[] args) {
    Benchmarks.quietServerLogs();
    System.exit(new CommandLine(new RedisStoreDriver()).execute(args));
  }

  @Override
  public Integer call() throws IOException {
    validate();
    String loadBefore = Report.loadAverage();
    List<Measurement> rows = new ArrayList<>();
    List<Measurement> findMissing = new ArrayList<>();
    try (ScratchDirectory dir = ScratchDirectory.create(tmp, "hearth-bench-redis-")) {
      if (topology != Topology.cluster) {
        try (RedisProcesses own = redisUri == null ? RedisProcesses.single(dir.path()) : null) {
          String uri = redisUri != null ? redisUri : own.uris().get(0);
          redisUris = List.of(uri);
          idleCpuPerSecond = idleCpuPerSecond();
          measure("one Redis", Map.of("uri", uri), rows, findMissing);
        }
      }
      if (topology != Topology.single) {
        try (RedisProcesses own = clusterUris == null ? RedisProcesses.cluster(dir.path()) : null) {
          List<String> seeds = clusterUris != null ? clusterUris : own.uris();
          redisUris = seeds;
          idleCpuPerSecond = idleCpuPerSecond();
          measure("3-node Cluster", Map.of("cluster", Map.of("nodes", seeds)), rows, findMissing);
        }
      }
    }
    System.out.print(render(rows, findMissing, loadBefore));
    System.out.flush();
    return 0;
  }

  private void validate() {
    require(digests >= 2 && digests <= 100_000, "--digests must be between 2 and 100000");
    require(
        findMissingWarmup >= 0 && findMissingIterations >= 1,
        "--fmb-warmup must be >= 0 and --fmb-iterations >= 1");
    require(actions >= 1 && actions <= 100_000, "--actions must be between 1 and 100000");
    require(
        actionCacheCalls >= 1 && concurrency >= 1 && concurrency <= 1024,
        "--ac-calls must be >= 1 and --ac-concurrency between 1 and 1024");
    require(
        actionCacheWarmup >= 0 && actionCacheIterations >= 1,
        "--ac-warmup must be >= 0 and --ac-iterations >= 1");
  }

  private void require(boolean condition, String message) {
    if (!condition) {
      throw new CommandLine.ParameterException(spec.commandLine(), message);
    }
  }

  /** Both paths against one deployment; each with a key prefix of its own. */
  private void measure(
      String deployment,
      Map<String, ?> connection,
      List<Measurement> rows,
      List<Measurement> findMissing) {
    if (modes != Modes.embedded) {
      Map<String, Object> cas = storeSettings(connection, "4GiB");
      Map<String, Object> ac = storeSettings(connection, "1GiB");
      String json =
          "{\"blobStores\": {\"cas\": "
              + Json.object(cas)
              + "}, \"actionCacheStores\": {\"ac\": "
              + Json.object(ac)
              + "}, \"servers\": [{\"listen\": \"127.0.0.1:0\", \"instances\": {\"\": {\"cas\":"
              + " \"cas\", \"actionCache\": \"ac\"}}}]}";
      try (HearthServer server =
              HearthServer.start(HearthConfig.parse(json, "the load driver's configuration"));
          GrpcCasTarget target = new GrpcCasTarget("127.0.0.1", server.port(), 0)) {
        String label = deployment + ", gRPC";
        Measurement fmb = measureFindMissing(target, label);
        rows.add(fmb);
        findMissing.add(fmb);
        rows.add(measureGetActionResult(target, new GrpcActionCache(target), label));
      }
    }
    if (modes != Modes.grpc) {
      try (Hearth hearth =
              Hearth.newBuilder()
                  .blobStore("redis", withoutType(storeSettings(connection, "4GiB")))
                  .actionCacheStore("redis", withoutType(storeSettings(connection, "1GiB")))
                  .build();
          EmbeddedTarget target = new EmbeddedTarget(hearth)) {
        String label = deployment + ", embedded";
        Measurement fmb = measureFindMissing(target, label);
        rows.add(fmb);
        findMissing.add(fmb);
        rows.add(measureGetActionResult(target, new EmbeddedActionCache(hearth), label));
      }
    }
  }

  private Map<String, Object> storeSettings(Map<String, ?> connection, String maxSize) {
    Map<String, Object> settings = new LinkedHashMap<>(connection);
    settings.put("type", "redis");
    settings.put("maxSize", maxSize);
    settings.put("keyPrefix", "bench" + runs.incrementAndGet() + ":");
    return settings;
  }

  private static Map<String, Object> withoutType(Map<String, Object> settings) {
    settings.remove("type");
    return settings;
  }

  /**
   * Half the digests name blobs uploaded beforehand, half blobs never uploaded, shuffled; as the
   * CAS load driver measures the local stores.
   */
  private Measurement measureFindMissing(CasTarget target, String label) {
    int present = digests / 2;
    Map<Digest, byte[]> uploaded = new LinkedHashMap<>();
    List<Digest> all = new ArrayList<>(digests);
    for (int i = 0; i < digests; i++) {
      byte[] content = randomBytes(SMALL_BLOB);
      Digest digest = Digest.of(content);
      all.add(digest);
      if (i < present) {
        uploaded.put(digest, content);
      }
    }
    target.putSmall(uploaded);
    Collections.shuffle(all, new Random(random.nextLong()));
    IntSupplier call = target.findMissingCall(all);
    int expectedMissing = digests - present;
    double cpuBefore = RedisProcesses.cpuSeconds(redisUris);
    long wallBefore = System.nanoTime();
    long[] nanos =
        loop(
            "FindMissingBlobs (" + label + ")",
            findMissingWarmup,
            findMissingIterations,
            () -> {
              int missing = call.getAsInt();
              if (missing != expectedMissing) {
                throw new IllegalStateException(
                    "FindMissingBlobs reported "
                        + missing
                        + " missing, expected "
                        + expectedMissing);
              }
            });
    Measurement m =
        new Measurement(
            "FindMissingBlobs, " + label,
            String.format(Locale.ROOT, "%,d digests (%,d present)", digests, present),
            "digests/s",
            digests,
            findMissingWarmup,
            nanos);
    redisCpu.put(
        m,
        busyCpu(cpuBefore, wallBefore)
            * 1e6
            / ((double) digests * (findMissingWarmup + findMissingIterations)));
    return m;
  }

  /**
   * Caches {@link #actions} results, each naming one small output file that is in the CAS, then
   * times batches of GetActionResult calls over them with {@link #concurrency} in flight. Every
   * call must hit: the action cache checks the output is still in the CAS, so each call also reads
   * the blob store.
   */
  private Measurement measureGetActionResult(
      CasTarget cas, ActionCacheClient client, String label) {
    Map<Digest, byte[]> outputs = new LinkedHashMap<>();
    List<Digest> actionDigests = new ArrayList<>(actions);
    for (int i = 0; i < actions; i++) {
      byte[] output = randomBytes(SMALL_BLOB);
      Digest outputDigest = Digest.of(output);
      outputs.put(outputDigest, output);
      Digest action = Digest.of(randomBytes(SMALL_BLOB));
      actionDigests.add(action);
      cas.putSmall(Map.of(outputDigest, output));
      client.put(
          action,
          ActionResult.newBuilder()
              .addOutputFiles(
                  OutputFile.newBuilder().setPath("out/" + i).setDigest(outputDigest.toProto()))
              .build());
    }
    double cpuBefore = RedisProcesses.cpuSeconds(redisUris);
    long wallBefore = System.nanoTime();
    long[] nanos =
        loop(
            "GetActionResult (" + label + ")",
            actionCacheWarmup,
            actionCacheIterations,
            () -> client.getAll(actionDigests, actionCacheCalls, concurrency));
    Measurement m =
        new Measurement(
            "GetActionResult, " + label,
            String.format(
                Locale.ROOT,
                "%,d calls over %,d actions, %d in flight",
                actionCacheCalls,
                actions,
                concurrency),
            "calls/s",
            actionCacheCalls,
            actionCacheWarmup,
            nanos);
    redisCpu.put(
        m,
        busyCpu(cpuBefore, wallBefore)
            * 1e6
            / ((double) actionCacheCalls * (actionCacheWarmup + actionCacheIterations)));
    return m;
  }

  /**
   * Redis's CPU seconds while the deployment is idle, per second, over three seconds: what its own
   * timers cost, which a slow run would otherwise count against its lookups.
   */
  private double idleCpuPerSecond() {
    double before = RedisProcesses.cpuSeconds(redisUris);
    long start = System.nanoTime();
    try {
      Thread.sleep(3_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
    return (RedisProcesses.cpuSeconds(redisUris) - before) / ((System.nanoTime() - start) / 1e9);
  }

  /** Redis's CPU seconds since {@code cpuBefore}, less its idle share of the wall time since. */
  private double busyCpu(double cpuBefore, long wallBefore) {
    double wall = (System.nanoTime() - wallBefore) / 1e9;
    return RedisProcesses.cpuSeconds(redisUris) - cpuBefore - idleCpuPerSecond * wall;
  }

  private long[] loop(String label, int warmups, int measured, Runnable timed) {
    long[] nanos = new long[measured];
    for (int i = -warmups; i < measured; i++) {
      long start = System.nanoTime();
      timed.run();
      long elapsed = System.nanoTime() - start;
      if (i >= 0) {
        nanos[i] = elapsed;
      }
    }
    progress.printf(
        Locale.ROOT, "%s: %d warm-up and %d measured iterations done%n", label, warmups, measured);
    return nanos;
  }

  private byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    for (int i = 0; i < n; i += 8) {
      long value = random.nextLong();
      for (int j = i; j < Math.min(n, i + 8); j++) {
        bytes[j] = (byte) value;
        value >>>= 8;
      }
    }
    return bytes;
  }

  private String render(List<Measurement> rows, List<Measurement> findMissing, String loadBefore) {
    StringBuilder out = new StringBuilder("## Hearth Redis stores load driver\n\n");
    Report.machine().forEach(line -> out.append(line).append('\n'));
    out.append("- Redis: ")
        .append(RedisProcesses.version())
        .append(
            redisUri == null && clusterUris == null
                ? " (started by the driver on loopback, no persistence)"
                : " (given)")
        .append('\n');
    out.append("- Load average (1, 5, 15 min): before ")
        .append(loadBefore)
        .append(", after ")
        .append(Report.loadAverage())
        .append("\n\n");
    out.append("| Measurement | Work per iteration | Iterations (+ warm-up) | Median | Min | Max |")
        .append(" Median time | Redis CPU per digest or call |\n");
    out.append("|---|---|---:|---:|---:|---:|---:|---:|\n");
    for (Measurement m : rows) {
      out.append(
          String.format(
              Locale.ROOT,
              "| %s | %s | %d (+ %d) | %s %s | %s | %s | %.1f ms | %.2f µs |%n",
              m.name(),
              m.work(),
              m.iterations(),
              m.warmups(),
              Report.number(m.medianRate()),
              m.unit(),
              Report.number(m.minRate()),
              Report.number(m.maxRate()),
              m.medianMillis(),
              redisCpu.getOrDefault(m, Double.NaN)));
    }
    out.append(
        "\nRedis CPU: user + system time of the Redis servers (all three nodes of a Cluster)"
            + " from INFO cpu, over warm-up and measured iterations, less what the servers use"
            + " while idle (measured for 3 s before the runs), per digest looked up or per"
            + " GetActionResult call.\n");
    out.append("\n| Target | Measured (median) | Goal | Result |\n|---|---:|---:|---|\n");
    for (Measurement m : findMissing) {
      out.append(
          String.format(
              Locale.ROOT,
              "| %s | %s digests/s | >= %s digests/s | %s |%n",
              m.name(),
              Report.number(m.medianRate()),
              Report.number(FIND_MISSING_TARGET),
              Report.verdict(m.medianRate() >= FIND_MISSING_TARGET)));
    }
    return out.toString();
  }

  /** Puts results and runs many lookups, each of which must hit. */
  private interface ActionCacheClient {
    void put(Digest action, ActionResult result);

    /** Looks up {@code calls} of {@code actions} in turn, {@code concurrency} at a time. */
    void getAll(List<Digest> actions, int calls, int concurrency);
  }

  /** GetActionResult over the server's gRPC channel, asynchronous, bounded by a semaphore. */
  private static final class GrpcActionCache implements ActionCacheClient {
    private final ActionCacheGrpc.ActionCacheBlockingStub blocking;
    private final ActionCacheGrpc.ActionCacheFutureStub async;

    GrpcActionCache(GrpcCasTarget target) {
      this.blocking = ActionCacheGrpc.newBlockingStub(target.channel());
      this.async = ActionCacheGrpc.newFutureStub(target.channel());
    }

    @Override
    public void put(Digest action, ActionResult result) {
      blocking.updateActionResult(
          UpdateActionResultRequest.newBuilder()
              .setActionDigest(action.toProto())
              .setActionResult(result)
              .build());
    }

    @Override
    public void getAll(List<Digest> actions, int calls, int concurrency) {
      Semaphore inFlight = new Semaphore(concurrency);
      AtomicReference<Throwable> failure = new AtomicReference<>();
      List<GetActionResultRequest> requests =
          actions.stream()
              .map(a -> GetActionResultRequest.newBuilder().setActionDigest(a.toProto()).build())
              .toList();
      for (int i = 0; i < calls && failure.get() == null; i++) {
        inFlight.acquireUninterruptibly();
        Futures.addCallback(
            async.getActionResult(requests.get(i % requests.size())),
            new FutureCallback<ActionResult>() {
              @Override
              public void onSuccess(ActionResult result) {
                if (result.getOutputFilesCount() != 1) {
                  failure.compareAndSet(
                      null, new IllegalStateException("GetActionResult lost the output file"));
                }
                inFlight.release();
              }

              @Override
              public void onFailure(Throwable t) {
                failure.compareAndSet(null, t);
                inFlight.release();
              }
            },
            MoreExecutors.directExecutor());
      }
      inFlight.acquireUninterruptibly(concurrency);
      if (failure.get() != null) {
        throw new IllegalStateException("GetActionResult failed: " + failure.get(), failure.get());
      }
    }
  }

  /** The embedding API's action cache, from {@code concurrency} threads. */
  private static final class EmbeddedActionCache implements ActionCacheClient {
    private final ActionCache cache;

    EmbeddedActionCache(Hearth hearth) {
      this.cache = hearth.actionCache();
    }

    @Override
    public void put(Digest action, ActionResult result) {
      cache.put(action, result);
    }

    @Override
    public void getAll(List<Digest> actions, int calls, int concurrency) {
      ExecutorService threads = Executors.newFixedThreadPool(concurrency);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < concurrency; t++) {
          int first = t;
          done.add(
              threads.submit(
                  () -> {
                    for (int i = first; i < calls; i += concurrency) {
                      if (cache.get(actions.get(i % actions.size())).isEmpty()) {
                        throw new IllegalStateException("GetActionResult missed a cached action");
                      }
                    }
                  }));
        }
        for (Future<?> f : done) {
          f.get();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      } catch (java.util.concurrent.ExecutionException e) {
        throw new IllegalStateException("GetActionResult failed: " + e.getCause(), e.getCause());
      } finally {
        threads.shutdownNow();
        try {
          threads.awaitTermination(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
  }

  /** The CAS operations of {@link CasTarget} on the embedding API, for FindMissingBlobs. */
  private static final class EmbeddedTarget implements CasTarget {
    private final Hearth hearth;

    EmbeddedTarget(Hearth hearth) {
      this.hearth = hearth;
    }

    @Override
    public void write(byte[] data, Digest digest, int chunkSize) {
      throw new UnsupportedOperationException("not measured here");
    }

    @Override
    public long read(Digest digest) {
      throw new UnsupportedOperationException("not measured here");
    }

    @Override
    public void putSmall(Map<Digest, byte[]> blobs) {
      Map<Digest, com.google.protobuf.ByteString> wrapped = new LinkedHashMap<>();
      blobs.forEach((d, b) -> wrapped.put(d, com.google.protobuf.ByteString.copyFrom(b)));
      hearth
          .cas()
          .putAll(wrapped)
          .forEach(
              status -> {
                if (!status.ok()) {
                  throw new IllegalStateException(
                      "putAll refused " + status.digest() + ": " + status.message());
                }
              });
    }

    @Override
    public IntSupplier findMissingCall(List<Digest> digests) {
      List<Digest> copy = List.copyOf(digests);
      return () -> hearth.cas().findMissing(copy).size();
    }

    @Override
    public String description() {
      return "embedded";
    }

    @Override
    public void close() {
      // The Hearth instance is closed by its owner.
    }
  }

  /** Just enough JSON for the server's configuration. */
  private static final class Json {
    static String object(Map<String, ?> fields) {
      StringBuilder json = new StringBuilder("{");
      fields.forEach(
          (key, value) -> {
            if (json.length() > 1) {
              json.append(", ");
            }
            json.append(CasLoadDriver.jsonString(key)).append(": ").append(value(value));
          });
      return json.append('}').toString();
    }

    private static String value(Object value) {
      if (value instanceof Map<?, ?> map) {
        Map<String, Object> fields = new LinkedHashMap<>();
        map.forEach((k, v) -> fields.put(String.valueOf(k), v));
        return object(fields);
      }
      if (value instanceof List<?> list) {
        List<String> items = list.stream().map(Json::value).toList();
        return "[" + String.join(", ", items) + "]";
      }
      return CasLoadDriver.jsonString(String.valueOf(value));
    }

    private Json() {}
  }
}
