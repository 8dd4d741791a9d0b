package build.hearth.benchmarks;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.ExecutionGrpc;
import build.hearth.api.Digest;
import com.google.longrunning.Operation;
import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Option;

/**
 * Overload (issue 15): a real {@code hearth serve} started with a small heap ({@code -Xmx256m} by
 * default), the {@code filesystem} stores and an in-process worker, and 64 concurrent clients that
 * for N seconds, each on a connection of its own, upload (ByteStream writes up to 1 MiB,
 * BatchUpdateBlobs), read back what was acknowledged, and execute trivial actions ({@code
 * /bin/true} with an argument of their own, so each is a new execution). It records every call's
 * status and latency per operation, and fails the run if any status other than {@code OK} or {@code
 * RESOURCE_EXHAUSTED} appears, a read returns other bytes, the server logs an {@code
 * OutOfMemoryError} or dies, or, afterwards, an acknowledged blob does not read back and verify.
 * From the repository root:
 *
 * <pre>
 * ./mvnw -q -B -pl benchmarks -am package -DskipTests
 * java -jar benchmarks/target/hearth-benchmarks.jar overload --clients 64 --seconds 60
 * </pre>
 *
 * <p>Prints a Markdown report (calls, statuses, p50 and p99 per operation); exits 1 on a failure.
 */
@picocli.CommandLine.Command(
    name = "overload",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Starts a Hearth server process with a small heap and drives it with many concurrent"
          + " clients uploading, reading and executing; reports statuses and latencies, and"
          + " checks that nothing acknowledged was lost."
    })
public final class OverloadDriver implements Callable<Integer> {
  private static final List<Status.Code> ALLOWED =
      List.of(Status.Code.OK, Status.Code.RESOURCE_EXHAUSTED);

  @Option(names = "--clients", description = "Concurrent clients (default: ${DEFAULT-VALUE}).")
  int clients = 64;

  @Option(names = "--seconds", description = "How long the load runs (default: ${DEFAULT-VALUE}).")
  int seconds = 60;

  @Option(names = "--heap", description = "The server's -Xmx (default: ${DEFAULT-VALUE}).")
  String heap = "256m";

  @Option(
      names = "--slots",
      description = "Slots of the in-process worker (default: ${DEFAULT-VALUE}).")
  int slots = 4;

  @Option(names = "--seed", description = "Random seed (default: ${DEFAULT-VALUE}).")
  long seed = 15;

  @Option(
      names = "--directory",
      description =
          "Where the stores and the server's log go (default: a new temporary directory).")
  Path directory;

  /** The operations a client makes, each timed and counted on its own. */
  public enum Op {
    write,
    batchUpdate,
    read,
    execute
  }

  /** What one operation saw: its statuses and its latencies in nanoseconds. */
  public record OpStats(Map<Status.Code, Long> statuses, long p50Nanos, long p99Nanos) {}

  /** What a run found; {@code problems} is empty when the server held. */
  public record Result(
      int clients,
      int seconds,
      String heap,
      Map<Op, OpStats> ops,
      int blobsVerified,
      long bytesVerified,
      List<String> problems) {
    /** The run as a Markdown table, then the problems, one per line. */
    public String markdown() {
      StringBuilder out = new StringBuilder();
      out.append(
          "%d clients for %d s against a server with -Xmx%s; %d acknowledged blobs (%d bytes)"
                  .formatted(clients, seconds, heap, blobsVerified, bytesVerified)
              + " read back and verified afterwards.\n\n");
      out.append("| operation | calls | OK | RESOURCE_EXHAUSTED | other | p50 ms | p99 ms |\n")
          .append("| --- | ---: | ---: | ---: | --- | ---: | ---: |\n");
      ops.forEach(
          (op, stats) -> {
            long calls = stats.statuses().values().stream().mapToLong(Long::longValue).sum();
            Map<Status.Code, Long> other = new TreeMap<>(stats.statuses());
            other.remove(Status.Code.OK);
            other.remove(Status.Code.RESOURCE_EXHAUSTED);
            out.append(
                String.format(
                    Locale.ROOT,
                    "| %s | %d | %d | %d | %s | %.1f | %.1f |%n",
                    op,
                    calls,
                    stats.statuses().getOrDefault(Status.Code.OK, 0L),
                    stats.statuses().getOrDefault(Status.Code.RESOURCE_EXHAUSTED, 0L),
                    other.isEmpty() ? "none" : other.toString(),
                    stats.p50Nanos() / 1e6,
                    stats.p99Nanos() / 1e6));
          });
      problems.stream().limit(50).forEach(p -> out.append("- ").append(p).append('\n'));
      return out.toString();
    }
  }

  /**
   * Runs {@code clients} clients for {@code seconds} against a server with {@code -Xmx<heap>} in
   * {@code dir}, as {@code overload --clients C --seconds S --heap H --directory DIR} does; for the
   * end-to-end suite, which runs a bounded version.
   */
  public static Result run(Path dir, int clients, int seconds, String heap, PrintStream progress)
      throws IOException {
    OverloadDriver driver = new OverloadDriver();
    driver.clients = clients;
    driver.seconds = seconds;
    driver.heap = heap;
    return driver.run(dir, progress);
  }

  @Override
  public Integer call() throws IOException {
    Path dir = directory != null ? directory : Files.createTempDirectory("hearth-overload-");
    Result result = run(dir, System.err);
    System.out.print(result.markdown());
    return result.problems().isEmpty() ? 0 : 1;
  }

  Result run(Path dir, PrintStream progress) throws IOException {
    Path config = dir.resolve("hearth.json");
    Files.writeString(config, config(dir), StandardCharsets.UTF_8);
    AcknowledgedWrites acknowledged = new AcknowledgedWrites();
    List<String> problems = Collections.synchronizedList(new ArrayList<>());
    Map<Op, Map<Status.Code, AtomicLong>> statuses = new EnumMap<>(Op.class);
    Map<Op, List<Long>> latencies = new EnumMap<>(Op.class);
    for (Op op : Op.values()) {
      statuses.put(op, new ConcurrentHashMap<>());
      latencies.put(op, Collections.synchronizedList(new ArrayList<>()));
    }
    int blobsVerified;
    long bytesVerified;
    try (ServerProcess server =
            ServerProcess.start(
                config,
                dir.resolve("server.log"),
                List.of("-Xmx" + heap, "-XX:+ExitOnOutOfMemoryError"));
        ReapiClient client = new ReapiClient(server.port(), Duration.ofSeconds(120))) {
      byte[] emptyDirectory = Directory.getDefaultInstance().toByteArray();
      client.batchUpdate(List.of(emptyDirectory));
      Digest inputRoot = Digest.of(emptyDirectory);
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      Random seeds = new Random(seed);
      List<Thread> threads = new ArrayList<>();
      for (int c = 0; c < clients; c++) {
        Random random = new Random(seeds.nextLong());
        int clientIndex = c;
        Thread thread =
            new Thread(
                () -> {
                  // A client of its own: its own connection, as 64 Bazel clients would have.
                  try (ReapiClient own = new ReapiClient(server.port(), Duration.ofSeconds(120))) {
                    drive(
                        own,
                        random,
                        end,
                        clientIndex,
                        acknowledged,
                        inputRoot,
                        statuses,
                        latencies,
                        problems);
                  }
                },
                "overload-" + c);
        thread.start();
        threads.add(thread);
      }
      for (Thread thread : threads) {
        try {
          thread.join(TimeUnit.SECONDS.toMillis(seconds + 300L));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException(e);
        }
        if (thread.isAlive()) {
          problems.add(thread.getName() + " did not finish within 5 minutes of the end");
        }
      }
      progress.printf("overload: load over; verifying %d blobs%n", acknowledged.blobCount());
      if (!server.isAlive()) {
        problems.add("the server died; see " + server.log());
      } else {
        problems.addAll(acknowledged.verify(client, 0));
      }
      if (server.readLog().contains("OutOfMemoryError")) {
        problems.add("the server logged an OutOfMemoryError; see " + server.log());
      }
      blobsVerified = acknowledged.blobCount();
      bytesVerified = acknowledged.blobBytes();
    }
    Map<Op, OpStats> ops = new EnumMap<>(Op.class);
    for (Op op : Op.values()) {
      Map<Status.Code, Long> counts = new TreeMap<>();
      statuses.get(op).forEach((code, count) -> counts.put(code, count.get()));
      List<Long> sorted;
      synchronized (latencies.get(op)) {
        sorted = new ArrayList<>(latencies.get(op));
      }
      Collections.sort(sorted);
      ops.put(op, new OpStats(counts, percentile(sorted, 0.50), percentile(sorted, 0.99)));
    }
    return new Result(
        clients, seconds, heap, ops, blobsVerified, bytesVerified, List.copyOf(problems));
  }

  /** One client's calls until {@code end}, each timed and counted. */
  private static void drive(
      ReapiClient client,
      Random random,
      long end,
      int clientIndex,
      AcknowledgedWrites acknowledged,
      Digest inputRoot,
      Map<Op, Map<Status.Code, AtomicLong>> statuses,
      Map<Op, List<Long>> latencies,
      List<String> problems) {
    int sequence = 0;
    while (System.nanoTime() < end) {
      Op op = pick(random);
      long started = System.nanoTime();
      Status.Code code;
      try {
        code =
            call(
                op,
                client,
                random,
                acknowledged,
                inputRoot,
                "client-" + clientIndex + "-" + sequence++,
                problems);
      } catch (StatusRuntimeException e) {
        code = e.getStatus().getCode();
        if (!ALLOWED.contains(code)) {
          problems.add(op + " failed with " + e.getStatus());
        }
      }
      if (code != null) {
        latencies.get(op).add(System.nanoTime() - started);
        statuses.get(op).computeIfAbsent(code, k -> new AtomicLong()).incrementAndGet();
      }
    }
  }

  private static long percentile(List<Long> sorted, double quantile) {
    if (sorted.isEmpty()) {
      return 0;
    }
    return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(quantile * sorted.size()) - 1));
  }

  private static Op pick(Random random) {
    int choice = random.nextInt(100);
    if (choice < 25) {
      return Op.write;
    } else if (choice < 40) {
      return Op.batchUpdate;
    } else if (choice < 70) {
      return Op.read;
    }
    return Op.execute;
  }

  /**
   * One call of {@code op}; returns its status code, or null if there was nothing to do (a read
   * before any write was acknowledged). Throws {@link StatusRuntimeException} if the call failed.
   */
  private static Status.Code call(
      Op op,
      ReapiClient client,
      Random random,
      AcknowledgedWrites acknowledged,
      Digest inputRoot,
      String unique,
      List<String> problems) {
    switch (op) {
      case write -> {
        byte[] data = new byte[1 + random.nextInt(1 << 20)];
        random.nextBytes(data);
        acknowledged.blob(client.write(data));
        return Status.Code.OK;
      }
      case batchUpdate -> {
        List<byte[]> blobs = new ArrayList<>();
        int count = 1 + random.nextInt(20);
        for (int i = 0; i < count; i++) {
          byte[] blob = new byte[1 + random.nextInt(16 << 10)];
          random.nextBytes(blob);
          blobs.add(blob);
        }
        Status.Code worst = Status.Code.OK;
        List<Status> statuses = client.batchUpdate(blobs);
        for (int i = 0; i < statuses.size(); i++) {
          Status status = statuses.get(i);
          if (status.isOk()) {
            acknowledged.blob(Digest.of(blobs.get(i)));
          } else {
            worst = status.getCode();
            if (!ALLOWED.contains(worst)) {
              problems.add("a blob of BatchUpdateBlobs was refused with " + status);
            }
          }
        }
        return worst;
      }
      case read -> {
        var blob = acknowledged.anyBlob(random);
        if (blob.isEmpty()) {
          return null;
        }
        byte[] bytes = client.read(blob.get());
        if (!Digest.of(bytes).equals(blob.get())) {
          problems.add("a read of " + blob.get() + " returned other bytes");
        }
        return Status.Code.OK;
      }
      case execute -> {
        return execute(client, inputRoot, unique, problems);
      }
      default -> throw new AssertionError(op);
    }
  }

  /** Uploads a new trivial action and executes it, reading its stream to the end. */
  private static Status.Code execute(
      ReapiClient client, Digest inputRoot, String unique, List<String> problems) {
    byte[] command =
        Command.newBuilder()
            .addArguments(TrivialActions.PROGRAM)
            .addArguments(unique)
            .addEnvironmentVariables(
                Command.EnvironmentVariable.newBuilder()
                    .setName("PATH")
                    .setValue(TrivialActions.PATH))
            .build()
            .toByteArray();
    byte[] action =
        Action.newBuilder()
            .setCommandDigest(Digest.of(command).toProto())
            .setInputRootDigest(inputRoot.toProto())
            .build()
            .toByteArray();
    for (Status status : client.batchUpdate(List.of(command, action))) {
      if (!status.isOk()) {
        if (!ALLOWED.contains(status.getCode())) {
          problems.add("uploading an action was refused with " + status);
        }
        return status.getCode();
      }
    }
    Iterator<Operation> stream =
        ExecutionGrpc.newBlockingStub(client.channel())
            .withDeadlineAfter(300, TimeUnit.SECONDS)
            .execute(
                ExecuteRequest.newBuilder()
                    .setActionDigest(Digest.of(action).toProto())
                    .setSkipCacheLookup(true)
                    .build());
    Operation done = null;
    while (stream.hasNext()) {
      Operation operation = stream.next();
      if (operation.getDone()) {
        done = operation;
      }
    }
    if (done == null) {
      problems.add("an Execute stream ended without a result");
      return Status.Code.UNKNOWN;
    }
    Status.Code code;
    if (done.hasError()) {
      code = Status.fromCodeValue(done.getError().getCode()).getCode();
      if (!ALLOWED.contains(code)) {
        problems.add("Execute failed: " + done.getError());
      }
      return code;
    }
    try {
      ExecuteResponse response = done.getResponse().unpack(ExecuteResponse.class);
      code = Status.fromCodeValue(response.getStatus().getCode()).getCode();
      if (!ALLOWED.contains(code)) {
        problems.add("Execute answered " + code + ": " + response.getStatus().getMessage());
      } else if (code == Status.Code.OK && response.getResult().getExitCode() != 0) {
        problems.add("an action exited with " + response.getResult().getExitCode());
      }
      return code;
    } catch (InvalidProtocolBufferException e) {
      problems.add("an Execute response is no ExecuteResponse: " + e.getMessage());
      return Status.Code.UNKNOWN;
    }
  }

  private String config(Path dir) {
    return """
        {
          "blobStores": {"cas": {"type": "filesystem", "path": %s, "maxSize": "40GiB"}},
          "actionCacheStores": {"ac": {"type": "filesystem", "path": %s}},
          "schedulers": {"main": {}},
          "servers": [{"listen": "127.0.0.1:0", "instances": {"": {
            "cas": "cas", "actionCache": "ac", "execution": {"scheduler": "main"}}}}],
          "workers": [{"name": "overload", "scheduler": "main", "instance": "", "slots": %d,
            "workDirectory": %s, "cache": {"path": %s, "maxSize": "1GiB"}}]
        }
        """
        .formatted(
            CasLoadDriver.jsonString(dir.resolve("cas").toString()),
            CasLoadDriver.jsonString(dir.resolve("ac").toString()),
            slots,
            CasLoadDriver.jsonString(dir.resolve("work").toString()),
            CasLoadDriver.jsonString(dir.resolve("worker-cache").toString()));
  }
}
