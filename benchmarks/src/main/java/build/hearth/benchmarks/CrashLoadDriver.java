package build.hearth.benchmarks;

import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.OutputFile;
import build.hearth.api.Digest;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Kills a real {@code hearth serve} with SIGKILL at random points of a mixed write load and checks,
 * after each restart, that nothing acknowledged was lost and nothing corrupt is served (issue 15,
 * "Crashes"). The server runs in a process of its own ({@link ServerProcess}) with the {@code
 * filesystem} CAS and action cache in a directory. A few client threads write ByteStream blobs of
 * random sizes (some over 1 MiB), BatchUpdateBlobs batches and UpdateActionResult entries that
 * reference blobs written before, and read back blobs written before; every acknowledged write is
 * recorded ({@link AcknowledgedWrites}). After each restart, before the load resumes:
 *
 * <ul>
 *   <li>every acknowledged blob is present and reads back with its digest's hash (the large ones
 *       read back once, after the crash that followed their write, and all of them at the end);
 *   <li>every acknowledged action-cache entry is the result acknowledged, its blobs present;
 *   <li>the store's accounting ({@code hearth_cas_entries}, {@code hearth_cas_size_bytes}, {@code
 *       hearth_action_cache_entries} in {@code /metrics}) matches the files on disk.
 * </ul>
 *
 * And during the load, a read that succeeds returns the blob's bytes, never others. From the
 * repository root:
 *
 * <pre>
 * ./mvnw -q -B -pl benchmarks -am package -DskipTests
 * java -jar benchmarks/target/hearth-benchmarks.jar crash --kills 100 --clients 4
 * </pre>
 *
 * <p>Exits 0 if nothing was lost or corrupt, 1 otherwise; prints a Markdown report.
 */
@Command(
    name = "crash",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Kills a Hearth server process with SIGKILL at random points of a mixed write load,"
          + " restarts it each time and checks that every acknowledged write is there and"
          + " verifies. Prints a Markdown report; exits 1 if anything was lost or corrupt."
    })
public final class CrashLoadDriver implements Callable<Integer> {
  @Option(names = "--kills", description = "SIGKILLs of the server (default: ${DEFAULT-VALUE}).")
  int kills = 20;

  @Option(
      names = "--clients",
      description = "Client threads writing and reading (default: ${DEFAULT-VALUE}).")
  int clients = 3;

  @Option(
      names = "--max-load-millis",
      description =
          "The longest a load runs after its first acknowledged write before the kill; each kill"
              + " comes at a random point up to it (default: ${DEFAULT-VALUE}).")
  long maxLoadMillis = 1000;

  @Option(names = "--seed", description = "Random seed (default: ${DEFAULT-VALUE}).")
  long seed = 15;

  @Option(
      names = "--directory",
      description =
          "Where the stores and the server's log go (default: a new temporary directory).")
  Path directory;

  /**
   * Runs {@code kills} kills with {@code clients} client threads and random seed {@code seed} in
   * {@code dir}, as {@code crash --kills K --clients C --seed S --directory DIR} does; for the
   * end-to-end suite, which runs a bounded version.
   */
  public static Result run(Path dir, int kills, int clients, long seed, PrintStream progress)
      throws IOException {
    CrashLoadDriver driver = new CrashLoadDriver();
    driver.kills = kills;
    driver.clients = clients;
    driver.seed = seed;
    return driver.run(dir, progress);
  }

  /** What a run found. {@code problems} is empty when nothing was lost, corrupt or miscounted. */
  public record Result(
      int kills,
      int blobs,
      long blobBytes,
      int results,
      long readsDuringLoad,
      Map<String, Long> failedCalls,
      List<String> problems) {
    /** The run as a Markdown table, then the problems, one per line. */
    public String markdown() {
      StringBuilder out = new StringBuilder();
      out.append("| kills | acknowledged blobs | bytes | action-cache entries |")
          .append(" reads checked during load | calls failed by the kills | problems |\n")
          .append("| ---: | ---: | ---: | ---: | ---: | --- | ---: |\n")
          .append(
              "| %d | %d | %d | %d | %d | %s | %d |\n"
                  .formatted(
                      kills,
                      blobs,
                      blobBytes,
                      results,
                      readsDuringLoad,
                      failedCalls,
                      problems.size()));
      problems.stream().limit(50).forEach(p -> out.append("- ").append(p).append('\n'));
      return out.toString();
    }
  }

  @Override
  public Integer call() throws IOException {
    Path dir = directory != null ? directory : Files.createTempDirectory("hearth-crash-");
    Result result = run(dir, System.err);
    System.out.print(result.markdown());
    return result.problems().isEmpty() ? 0 : 1;
  }

  /**
   * Runs the kills in {@code dir} (its stores, configuration and server log); progress on {@code
   * progress}.
   */
  Result run(Path dir, PrintStream progress) throws IOException {
    Path config = dir.resolve("hearth.json");
    Files.writeString(config, config(dir), StandardCharsets.UTF_8);
    Random random = new Random(seed);
    AcknowledgedWrites acknowledged = new AcknowledgedWrites();
    List<String> problems = java.util.Collections.synchronizedList(new ArrayList<>());
    Map<String, Long> failures = new ConcurrentHashMap<>();
    AtomicLong reads = new AtomicLong();
    // Each check reads back the blobs acknowledged since the previous one; the last reads all.
    int readFrom = 0;
    try (ServerProcess server =
        ServerProcess.start(config, dir.resolve("server.log"), List.of("-Xmx512m"))) {
      for (int kill = 1; kill <= kills; kill++) {
        long started = System.nanoTime();
        long checked;
        try (ReapiClient client = new ReapiClient(server.port(), Duration.ofSeconds(30))) {
          int acknowledgedBefore = acknowledged.blobCount();
          problems.addAll(check(server, client, acknowledged, readFrom, dir));
          readFrom = acknowledgedBefore;
          checked = System.nanoTime();
          AtomicBoolean stop = new AtomicBoolean();
          List<Thread> threads = new ArrayList<>();
          for (int c = 0; c < clients; c++) {
            Random own = new Random(random.nextLong());
            Thread thread =
                new Thread(
                    () -> load(client, own, stop, acknowledged, reads, failures, problems),
                    "crash-load-" + c);
            thread.start();
            threads.add(thread);
          }
          // The kill comes at a random point once the load is under way: after the first write
          // this server acknowledged (a fresh JVM takes a while to answer its first calls).
          int before = acknowledged.blobCount() + acknowledged.resultCount();
          long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
          while (acknowledged.blobCount() + acknowledged.resultCount() == before
              && System.nanoTime() < deadline) {
            ServerProcess.pause(Duration.ofMillis(5));
          }
          ServerProcess.pause(Duration.ofMillis((long) (random.nextDouble() * maxLoadMillis)));
          server.kill();
          stop.set(true);
          for (Thread thread : threads) {
            join(thread);
          }
        }
        long killed = System.nanoTime();
        server.start();
        progress.printf(
            "crash: kill %d of %d; %d blobs and %d action-cache entries acknowledged so far"
                + " (check %d ms, load %d ms, restart %d ms)%n",
            kill,
            kills,
            acknowledged.blobCount(),
            acknowledged.resultCount(),
            (checked - started) / 1_000_000,
            (killed - checked) / 1_000_000,
            (System.nanoTime() - killed) / 1_000_000);
      }
      try (ReapiClient client = new ReapiClient(server.port(), Duration.ofSeconds(60))) {
        problems.addAll(check(server, client, acknowledged, 0, dir));
      }
      if (server.readLog().contains("OutOfMemoryError")) {
        problems.add("the server logged an OutOfMemoryError; see " + server.log());
      }
    }
    return new Result(
        kills,
        acknowledged.blobCount(),
        acknowledged.blobBytes(),
        acknowledged.resultCount(),
        reads.get(),
        new TreeMap<>(failures),
        List.copyOf(problems));
  }

  private static String config(Path dir) {
    return """
        {
          "blobStores": {"cas": {"type": "filesystem", "path": %s, "maxSize": "4GiB"}},
          "actionCacheStores": {"ac": {"type": "filesystem", "path": %s}},
          "servers": [{"listen": "127.0.0.1:0", "instances": {"": {"cas": "cas", "actionCache": "ac"}}}]
        }
        """
        .formatted(
            CasLoadDriver.jsonString(dir.resolve("cas").toString()),
            CasLoadDriver.jsonString(dir.resolve("ac").toString()));
  }

  /**
   * The checks after a restart, with the server idle: every acknowledged write is there, the blobs
   * acknowledged from the {@code readFrom}-th on read back, and the accounting matches the files.
   */
  private static List<String> check(
      ServerProcess server,
      ReapiClient client,
      AcknowledgedWrites acknowledged,
      int readFrom,
      Path dir) {
    List<String> problems = new ArrayList<>(acknowledged.verify(client, readFrom));
    problems.addAll(accounting(server, dir));
    return problems;
  }

  /** The store's counts in {@code /metrics} against the files on disk. */
  private static List<String> accounting(ServerProcess server, Path dir) {
    List<String> problems = new ArrayList<>();
    String metrics = server.metrics();
    long[] blobFiles = files(dir.resolve("cas").resolve("blobs"));
    long[] acFiles = files(dir.resolve("ac").resolve("ac"));
    double entries = ServerProcess.metric(metrics, "hearth_cas_entries", "store=\"cas\"");
    double bytes = ServerProcess.metric(metrics, "hearth_cas_size_bytes", "store=\"cas\"");
    double acEntries = ServerProcess.metric(metrics, "hearth_action_cache_entries", "store=\"ac\"");
    if (entries != blobFiles[0] || bytes != blobFiles[1]) {
      problems.add(
          "the CAS counts %.0f blobs of %.0f bytes; its directory holds %d files of %d bytes"
              .formatted(entries, bytes, blobFiles[0], blobFiles[1]));
    }
    if (acEntries != acFiles[0]) {
      problems.add(
          "the action cache counts %.0f entries; its directory holds %d files"
              .formatted(acEntries, acFiles[0]));
    }
    return problems;
  }

  /** The number of regular files under {@code dir} and the sum of their sizes. */
  private static long[] files(Path dir) {
    if (!Files.isDirectory(dir)) {
      return new long[] {0, 0};
    }
    try (Stream<Path> walk = Files.walk(dir)) {
      long[] counts = new long[2];
      walk.filter(Files::isRegularFile)
          .forEach(
              file -> {
                counts[0]++;
                try {
                  counts[1] += Files.size(file);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
      return counts;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
  }

  /** One client thread's writes and reads until {@code stop}; calls that fail are counted. */
  private static void load(
      ReapiClient client,
      Random random,
      AtomicBoolean stop,
      AcknowledgedWrites acknowledged,
      AtomicLong reads,
      Map<String, Long> failures,
      List<String> problems) {
    while (!stop.get()) {
      int choice = random.nextInt(100);
      try {
        if (choice < 40) {
          boolean large = random.nextInt(10) == 0;
          byte[] data =
              randomBytes(
                  random,
                  large ? (1 << 20) + random.nextInt(2 << 20) : 1 + random.nextInt(64 << 10));
          acknowledged.blob(client.write(data));
        } else if (choice < 70) {
          List<byte[]> blobs = new ArrayList<>();
          int count = 1 + random.nextInt(10);
          for (int i = 0; i < count; i++) {
            blobs.add(randomBytes(random, 1 + random.nextInt(4096)));
          }
          List<Status> statuses = client.batchUpdate(blobs);
          for (int i = 0; i < statuses.size(); i++) {
            if (statuses.get(i).isOk()) {
              acknowledged.blob(Digest.of(blobs.get(i)));
            }
          }
        } else if (choice < 85) {
          ActionResult.Builder result = ActionResult.newBuilder().setExitCode(random.nextInt(2));
          int outputs = 1 + random.nextInt(3);
          for (int i = 0; i < outputs; i++) {
            var blob = acknowledged.anyBlob(random);
            if (blob.isEmpty()) {
              break;
            }
            result.addOutputFiles(
                OutputFile.newBuilder().setPath("out/" + i).setDigest(blob.get().toProto()));
          }
          Digest action = Digest.of(randomBytes(random, 32));
          ActionResult sent = result.build();
          client.updateActionResult(action, sent);
          acknowledged.result(action, sent);
        } else {
          var blob = acknowledged.anyBlob(random);
          if (blob.isPresent() && blob.get().sizeBytes() <= (64 << 10)) {
            byte[] bytes = client.read(blob.get());
            reads.incrementAndGet();
            if (!Digest.of(bytes).equals(blob.get())) {
              problems.add("a read of " + blob.get() + " during the load returned other bytes");
            }
          }
        }
      } catch (StatusRuntimeException e) {
        failures.merge(e.getStatus().getCode().name(), 1L, Long::sum);
      }
    }
  }

  private static byte[] randomBytes(Random random, int size) {
    byte[] bytes = new byte[size];
    random.nextBytes(bytes);
    return bytes;
  }

  private static void join(Thread thread) {
    try {
      thread.join(120_000);
      if (thread.isAlive()) {
        throw new IllegalStateException(thread.getName() + " did not stop within 2 minutes");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
