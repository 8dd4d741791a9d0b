package build.hearth.benchmarks;

import build.hearth.api.Digest;
import build.hearth.core.config.HearthConfig;
import build.hearth.server.HearthServer;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.function.IntSupplier;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * Measures Hearth's content-addressable storage over a loopback gRPC connection: ByteStream Write
 * and Read of a large blob and FindMissingBlobs of many digests, next to the machine's single-core
 * SHA-256 speed measured in the same run, and prints a Markdown report with the verdict on the
 * targets of {@code docs/benchmarks.md}.
 *
 * <p>It starts a server in this JVM on {@code 127.0.0.1:0} with a fresh store in a temporary
 * directory, runs a fixed number of warm-up and measured iterations of each operation, stops the
 * server and deletes the directory. From the repository root:
 *
 * <pre>
 * ./mvnw -q -B -pl benchmarks -am package -DskipTests
 * java -Xmx3g -jar benchmarks/target/hearth-benchmarks.jar cas [--store memory|filesystem] [--help]
 * </pre>
 *
 * <p>The exit status is 0 whether or not a target is met (the verdict is in the report); it is
 * non-zero only if the server gave a wrong answer or the run could not be set up.
 */
@Command(
    name = "hearth-cas-load-driver",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Starts Hearth in-process and measures its CAS over loopback gRPC against the single-core"
          + " SHA-256 speed of this machine. Prints a Markdown report on standard output and"
          + " progress on standard error."
    })
public final class CasLoadDriver implements Callable<Integer> {
  private static final int MIB = 1024 * 1024;

  /**
   * The reference hashes its buffer in pieces of this size, as a server hashes an upload (a gRPC
   * frame is 16 KiB, a chunk at most a few MiB). Whole-buffer updates are about 11% slower on Java
   * 17: the digest's update method is then called too rarely for the JIT to compile it with the
   * multi-block SHA intrinsic, and the reference would understate the machine.
   */
  private static final int SHA_PIECE_BYTES = 64 * 1024;

  private static final int SMALL_BLOB = 64;

  enum Store {
    filesystem,
    memory
  }

  enum Mode {
    grpc,
    embedded
  }

  @Option(
      names = "--store",
      paramLabel = "TYPE",
      description = "Blob store: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  Store store = Store.filesystem;

  @Option(
      names = "--mode",
      paramLabel = "MODE",
      description =
          "grpc: a client over loopback (the benchmark); embedded: the same calls on the"
              + " embedding API without a transport, to see what the transport costs"
              + " (default: ${DEFAULT-VALUE}).")
  Mode mode = Mode.grpc;

  @Option(
      names = "--blob-mib",
      paramLabel = "MIB",
      description = "Size of the ByteStream blob (default: ${DEFAULT-VALUE}).")
  int blobMib = 256;

  @Option(
      names = "--store-mib",
      paramLabel = "MIB",
      description =
          "The store's maxSize; 0 means four blobs (full after four Writes, so each evicts the"
              + " oldest) (default: ${DEFAULT-VALUE}).")
  long storeMib = 0;

  @Option(
      names = "--chunk-kib",
      paramLabel = "KIB",
      description = "ByteStream Write chunk size (default: ${DEFAULT-VALUE}).")
  int chunkKib = 1024;

  @Option(
      names = "--client-ready-kib",
      paramLabel = "KIB",
      description =
          "Bytes a Write may queue in the client's transport and still accept more; 0 keeps"
              + " gRPC's default of 32 KiB (default: ${DEFAULT-VALUE}).")
  int clientReadyKib = 0;

  @Option(
      names = "--warmup",
      paramLabel = "N",
      description =
          "Warm-up iterations of SHA-256, Write and Read; enough for the JIT to finish compiling"
              + " the server's write path, whose per-message code runs only 256 times per 256 MiB"
              + " Write (default: ${DEFAULT-VALUE}).")
  int warmup = 40;

  @Option(
      names = "--iterations",
      paramLabel = "N",
      description = "Measured iterations of SHA-256, Write and Read (default: ${DEFAULT-VALUE}).")
  int iterations = 10;

  @Option(
      names = "--digests",
      paramLabel = "N",
      description = "Digests per FindMissingBlobs call, half present (default: ${DEFAULT-VALUE}).")
  int digests = 10_000;

  @Option(
      names = "--fmb-warmup",
      paramLabel = "N",
      description = "Warm-up FindMissingBlobs calls (default: ${DEFAULT-VALUE}).")
  int findMissingWarmup = 50;

  @Option(
      names = "--fmb-iterations",
      paramLabel = "N",
      description = "Measured FindMissingBlobs calls (default: ${DEFAULT-VALUE}).")
  int findMissingIterations = 50;

  @Option(
      names = "--sha-mib",
      paramLabel = "MIB",
      description = "Heap buffer hashed for the SHA-256 reference (default: ${DEFAULT-VALUE}).")
  int shaMib = 64;

  @Option(
      names = "--sha-passes",
      paramLabel = "N",
      description = "Passes over that buffer per SHA-256 iteration (default: ${DEFAULT-VALUE}).")
  int shaPasses = 4;

  @Option(
      names = "--tmp",
      paramLabel = "DIR",
      description =
          "Where the run's store directory is made, and deleted at the end"
              + " (default: java.io.tmpdir).")
  Path tmp = Path.of(System.getProperty("java.io.tmpdir"));

  @Option(
      names = "--tls",
      description =
          "Also measure Write and Read over TLS, against a second server in this JVM whose port"
              + " speaks TLS (a certificate made with openssl for the run), and report the"
              + " ratio of the TLS rates to the plaintext ones.")
  boolean tls;

  @Spec CommandSpec spec;

  private final PrintStream progress = System.err;
  private final SplittableRandom random = new SplittableRandom(System.nanoTime());

  /** Runs the driver with command-line arguments; see {@code --help}. */
  public static void main(String[] args) {
    Benchmarks.quietServerLogs();
    System.exit(new CommandLine(new CasLoadDriver()).execute(args));
  }

  @Override
  public Integer call() throws IOException {
    validate();
    warnIfHeapTooSmall();
    Report report = new Report();
    report.setting(
        "Mode",
        mode == Mode.grpc
            ? "grpc (Hearth server in this JVM, client over 127.0.0.1)"
            : "embedded (the embedding API in this JVM, no transport)");
    report.setting("Store", store + storeNote());
    report.setting(
        "ByteStream",
        blobMib
            + " MiB blob, "
            + chunkKib
            + " KiB chunks, fresh random content per iteration"
            + (mode == Mode.grpc
                ? ", client ready threshold "
                    + (clientReadyKib == 0 ? "gRPC's default (32 KiB)" : clientReadyKib + " KiB")
                : ""));

    String loadBefore = Report.loadAverage();
    Measurement sha = measureSha("SHA-256, one thread (reference, before)");
    report.add(sha);

    Measurement write;
    Measurement findMissing;
    try (ScratchDirectory dir = ScratchDirectory.create(tmp, "hearth-bench-");
        Running running = start(dir.path())) {
      report.setting("Client", running.target().description());
      CasTarget target = running.target();
      byte[] blob = new byte[blobMib * MIB];
      CpuTimes writeCpu = new CpuTimes();
      WriteResult written = measureWrite(target, blob, writeCpu);
      write = written.measurement();
      report.add(write, writeCpu);
      CpuTimes readCpu = new CpuTimes();
      report.add(measureRead(target, written.last(), readCpu), readCpu);
      CpuTimes findMissingCpu = new CpuTimes();
      findMissing = measureFindMissing(target, findMissingCpu);
      report.add(findMissing, findMissingCpu);
      if (tls && mode == Mode.grpc) {
        measureOverTls(report, target, blob);
      }
    }
    report.add(measureSha("SHA-256, one thread (again, after)"));
    report.setting(
        "Load average (1, 5, 15 min)", "before " + loadBefore + ", after " + Report.loadAverage());
    System.out.print(report.render(sha, write, findMissing));
    System.out.flush();
    return 0;
  }

  private void validate() {
    require(blobMib >= 1 && blobMib <= 1024, "--blob-mib must be between 1 and 1024");
    require(
        chunkKib >= 1 && chunkKib <= 3 * 1024,
        "--chunk-kib must be between 1 and 3072 (gRPC's 4 MiB message limit)");
    require(
        clientReadyKib >= 0 && clientReadyKib <= 1024 * 1024,
        "--client-ready-kib must be between 0 and 1048576");
    require(warmup >= 0 && iterations >= 1, "--warmup must be >= 0 and --iterations >= 1");
    require(
        storeMib == 0 || storeMib >= blobMib + 1,
        "--store-mib must be 0 (the default) or larger than --blob-mib, or no blob fits");
    require(
        findMissingWarmup >= 0 && findMissingIterations >= 1,
        "--fmb-warmup must be >= 0 and --fmb-iterations >= 1");
    require(digests >= 2 && digests <= 100_000, "--digests must be between 2 and 100000");
    require(
        shaMib >= 1 && shaMib <= 1024 && shaPasses >= 1,
        "--sha-mib must be between 1 and 1024, --sha-passes >= 1");
  }

  private void require(boolean condition, String message) {
    if (!condition) {
      throw new CommandLine.ParameterException(spec.commandLine(), message);
    }
  }

  private String storeNote() {
    return store == Store.filesystem
        ? " (a fresh directory under " + tmp + ", maxSize " + storeMib() + " MiB)"
        : " (maxSize " + storeMib() + " MiB, on the heap)";
  }

  /**
   * The store's maxSize, by default four blobs: from the fifth Write on the store is full and every
   * upload evicts the oldest blob, as in a cache that has been running for a while. The run then
   * measures the server, not how fast the kernel finds fresh memory for a page cache or a heap that
   * only grows (see docs/benchmarks.md). Both stores evict strictly least recently used first and
   * admit every write, so the blob just written is always there to be read back.
   */
  private long storeMib() {
    return storeMib > 0 ? storeMib : 4L * blobMib + 64;
  }

  private Map<String, String> storeSettings(Path dir) {
    String maxSize = storeMib() + "MiB";
    return store == Store.filesystem
        ? Map.of("type", "filesystem", "path", dir.resolve("cas").toString(), "maxSize", maxSize)
        : Map.of("type", "memory", "maxSize", maxSize);
  }

  /** The memory store holds its blobs on this heap; say so up front rather than fail later. */
  private void warnIfHeapTooSmall() {
    if (store != Store.memory) {
      return;
    }
    // The store, the client's blob buffer, an upload buffer growing by doubling, the SHA buffer.
    long neededMib = storeMib() + 3L * blobMib + shaMib + 256;
    long maxMib = Runtime.getRuntime().maxMemory() / MIB;
    if (maxMib < neededMib) {
      progress.printf(
          Locale.ROOT,
          "warning: the memory store needs about %d MiB of heap, this JVM has %d MiB;"
              + " run java with -Xmx%dm or use a smaller --store-mib or --blob-mib%n",
          neededMib,
          maxMib,
          neededMib);
    }
  }

  private Running start(Path dir) {
    return start(dir, null, null);
  }

  /** A server over {@code dir}; over TLS with {@code certificate} and {@code key} when given. */
  private Running start(Path dir, Path certificate, Path key) {
    Map<String, String> settings = storeSettings(dir);
    if (mode == Mode.embedded) {
      Map<String, String> withoutType = new LinkedHashMap<>(settings);
      String type = withoutType.remove("type");
      return new Running(null, new EmbeddedCasTarget(type, withoutType));
    }
    String json =
        "{\"blobStores\": {\"cas\": "
            + jsonObject(settings)
            + "}, \"actionCacheStores\": {\"ac\": {\"type\": \"memory\"}}, \"servers\":"
            + " [{\"listen\": \"127.0.0.1:0\", \"instances\": {\"\": {\"cas\": \"cas\","
            + " \"actionCache\": \"ac\"}}"
            + (certificate == null
                ? ""
                : ", \"tls\": {\"certificateChain\": "
                    + jsonString(certificate.toString())
                    + ", \"privateKey\": "
                    + jsonString(key.toString())
                    + "}")
            + "}]}";
    HearthServer server =
        HearthServer.start(HearthConfig.parse(json, "the load driver's configuration"));
    try {
      return new Running(
          server,
          new GrpcCasTarget(
              certificate == null ? "127.0.0.1" : "localhost",
              server.port(),
              clientReadyKib * 1024,
              certificate));
    } catch (RuntimeException e) {
      server.close();
      throw e;
    }
  }

  /**
   * Write and Read once more against a fresh server of the same store whose port speaks TLS: the
   * same JVM, the same JIT state and the same content sizes, so the ratio to the plaintext rates is
   * what TLS costs.
   */
  private void measureOverTls(Report report, CasTarget plaintext, byte[] blob) throws IOException {
    try (ScratchDirectory dir = ScratchDirectory.create(tmp, "hearth-bench-tls-")) {
      Path certificate = dir.path().resolve("server.pem");
      Path key = dir.path().resolve("server.key");
      selfSignedCertificate(certificate, key);
      try (Running running = start(dir.path(), certificate, key)) {
        CasTarget target = running.target();
        report.setting("Client over TLS", target.description());
        CpuTimes writeCpu = new CpuTimes();
        WriteResult written = measureWrite(target, blob, writeCpu, " over TLS");
        report.add(written.measurement(), writeCpu);
        CpuTimes readCpu = new CpuTimes();
        report.add(measureRead(target, written.last(), readCpu, " over TLS"), readCpu);
        // The verdict comes from Writes that alternate between the two servers, so that a
        // neighbour's load on this shared machine weighs on both sides alike.
        long[] plainNanos = new long[iterations];
        long[] tlsNanos = new long[iterations];
        for (int i = 0; i < iterations; i++) {
          plainNanos[i] = timedWrite(plaintext, blob);
          tlsNanos[i] = timedWrite(target, blob);
          logIteration("Paired", i, 0, plainNanos[i] + tlsNanos[i], 2.0 * blob.length);
        }
        Measurement plain =
            new Measurement(
                "ByteStream Write, alternating: plaintext",
                blobMib + " MiB, " + chunkKib + " KiB chunks",
                "MB/s",
                blob.length / 1e6,
                0,
                plainNanos);
        Measurement secured =
            new Measurement(
                "ByteStream Write, alternating: TLS",
                blobMib + " MiB, " + chunkKib + " KiB chunks",
                "MB/s",
                blob.length / 1e6,
                0,
                tlsNanos);
        report.add(plain);
        report.add(secured);
        report.setting(
            "TLS Write / plaintext Write (alternating Writes)",
            String.format(
                Locale.ROOT,
                "%.2f (%.0f MB/s over TLS, %.0f MB/s plaintext; target >= 0.6, goal 0.8)",
                secured.medianRate() / plain.medianRate(),
                secured.medianRate(),
                plain.medianRate()));
      }
    }
  }

  private long timedWrite(CasTarget target, byte[] blob) {
    fillRandom(blob);
    Digest digest = Digest.of(blob);
    long start = System.nanoTime();
    target.write(blob, digest, chunkKib * 1024);
    return System.nanoTime() - start;
  }

  /** An EC P-256 certificate for localhost and 127.0.0.1 and its PKCS#8 key, made by openssl. */
  private static void selfSignedCertificate(Path certificate, Path key) throws IOException {
    ProcessBuilder openssl =
        new ProcessBuilder(
                "openssl",
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:prime256v1",
                "-nodes",
                "-days",
                "1",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-keyout",
                key.toString(),
                "-out",
                certificate.toString())
            .redirectErrorStream(true);
    Process process = openssl.start();
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    try {
      if (process.waitFor() != 0) {
        throw new IOException("openssl could not make the run's certificate: " + output);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while openssl made the run's certificate", e);
    }
  }

  private Measurement measureSha(String name) {
    byte[] buffer = new byte[shaMib * MIB];
    fillRandom(buffer);
    MessageDigest sha = Digest.newMessageDigest();
    byte[][] sink = new byte[1][];
    double bytes = (double) shaPasses * buffer.length;
    long[] nanos =
        loop(
            "SHA-256",
            warmup,
            iterations,
            bytes,
            null,
            () -> {},
            () -> {
              for (int pass = 0; pass < shaPasses; pass++) {
                for (int offset = 0; offset < buffer.length; offset += SHA_PIECE_BYTES) {
                  sha.update(buffer, offset, Math.min(SHA_PIECE_BYTES, buffer.length - offset));
                }
              }
              sink[0] = sha.digest();
            });
    // Keeps the result observable, so no compiler can drop the hashing.
    if (sink[0].length != 32) {
      throw new IllegalStateException("SHA-256 returned " + sink[0].length + " bytes");
    }
    return new Measurement(
        name, shaPasses + " x " + shaMib + " MiB", "MB/s", bytes / 1e6, warmup, nanos);
  }

  private record WriteResult(Measurement measurement, Digest last) {}

  /** Content and digest are made before the clock starts; only the upload is timed. */
  private WriteResult measureWrite(CasTarget target, byte[] blob, CpuTimes cpu) {
    return measureWrite(target, blob, cpu, "");
  }

  private WriteResult measureWrite(CasTarget target, byte[] blob, CpuTimes cpu, String suffix) {
    Digest[] digest = new Digest[1];
    long[] nanos =
        loop(
            "Write",
            warmup,
            iterations,
            blob.length,
            cpu,
            () -> {
              fillRandom(blob);
              digest[0] = Digest.of(blob);
            },
            () -> target.write(blob, digest[0], chunkKib * 1024));
    Measurement m =
        new Measurement(
            "ByteStream Write" + suffix,
            blobMib + " MiB, " + chunkKib + " KiB chunks",
            "MB/s",
            blob.length / 1e6,
            warmup,
            nanos);
    return new WriteResult(m, digest[0]);
  }

  /** Times the whole Read call; the bytes are counted as they arrive, not hashed or kept. */
  private Measurement measureRead(CasTarget target, Digest digest, CpuTimes cpu) {
    return measureRead(target, digest, cpu, "");
  }

  private Measurement measureRead(CasTarget target, Digest digest, CpuTimes cpu, String suffix) {
    long[] nanos =
        loop(
            "Read",
            warmup,
            iterations,
            digest.sizeBytes(),
            cpu,
            () -> {},
            () -> {
              long received = target.read(digest);
              if (received != digest.sizeBytes()) {
                throw new IllegalStateException(
                    "Read of "
                        + digest
                        + " returned "
                        + received
                        + " bytes, expected "
                        + digest.sizeBytes());
              }
            });
    return new Measurement(
        "ByteStream Read" + suffix,
        blobMib + " MiB",
        "MB/s",
        digest.sizeBytes() / 1e6,
        warmup,
        nanos);
  }

  /**
   * Half the digests name blobs uploaded beforehand with BatchUpdateBlobs, half name blobs that
   * were never uploaded; the order is shuffled so neither half is served as a run.
   */
  private Measurement measureFindMissing(CasTarget target, CpuTimes cpu) {
    int present = digests / 2;
    Map<Digest, byte[]> uploaded = new LinkedHashMap<>();
    List<Digest> all = new ArrayList<>(digests);
    for (int i = 0; i < digests; i++) {
      byte[] content = new byte[SMALL_BLOB];
      fillRandom(content);
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
    long[] nanos =
        loop(
            "FindMissingBlobs",
            findMissingWarmup,
            findMissingIterations,
            0,
            cpu,
            () -> {},
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
    progress.printf(
        Locale.ROOT,
        "FindMissingBlobs: %d warm-up and %d measured calls done%n",
        findMissingWarmup,
        findMissingIterations);
    return new Measurement(
        "FindMissingBlobs",
        String.format(Locale.ROOT, "%,d digests (%,d present)", digests, present),
        "digests/s",
        digests,
        findMissingWarmup,
        nanos);
  }

  /**
   * Runs {@code warmups} then {@code measured} iterations of {@code timed}, each after an untimed
   * {@code prepare}, and returns the durations of the measured ones. Their CPU time goes to {@code
   * cpu} unless it is null; the snapshots are taken outside the timed region.
   */
  private long[] loop(
      String label,
      int warmups,
      int measured,
      double bytesForLog,
      CpuTimes cpu,
      Runnable prepare,
      Runnable timed) {
    long[] nanos = new long[measured];
    for (int i = -warmups; i < measured; i++) {
      prepare.run();
      // Snapshots in the warm-up too (and thrown away), so that the JIT has compiled the sampler
      // before the measured iterations instead of during them.
      CpuTimes.Snapshot before = cpu != null ? CpuTimes.snapshot() : null;
      long start = System.nanoTime();
      timed.run();
      long elapsed = System.nanoTime() - start;
      if (before != null) {
        CpuTimes.Snapshot after = CpuTimes.snapshot();
        if (i >= 0) {
          cpu.add(before, after);
        }
      }
      if (i >= 0) {
        nanos[i] = elapsed;
      }
      if (bytesForLog > 0) {
        logIteration(label, i, warmups, elapsed, bytesForLog);
      }
    }
    return nanos;
  }

  /** Random bytes, eight at a time: much faster than RandomGenerator's byte-wise default. */
  private void fillRandom(byte[] bytes) {
    ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.nativeOrder());
    while (buffer.remaining() >= Long.BYTES) {
      buffer.putLong(random.nextLong());
    }
    while (buffer.hasRemaining()) {
      buffer.put((byte) random.nextInt());
    }
  }

  private void logIteration(String what, int i, int warmups, long nanos, double bytes) {
    progress.printf(
        Locale.ROOT,
        "%-8s %s %d: %8.1f ms, %s MB/s%n",
        what,
        i < 0 ? "warm-up" : "measured",
        i < 0 ? i + warmups + 1 : i + 1,
        nanos / 1e6,
        Report.number(bytes / 1e6 / (nanos / 1e9)));
  }

  private static String jsonObject(Map<String, String> fields) {
    StringBuilder json = new StringBuilder("{");
    fields.forEach(
        (key, value) -> {
          if (json.length() > 1) {
            json.append(", ");
          }
          json.append(jsonString(key)).append(": ").append(jsonString(value));
        });
    return json.append('}').toString();
  }

  static String jsonString(String text) {
    StringBuilder out = new StringBuilder("\"");
    for (char c : text.toCharArray()) {
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < 0x20) {
        out.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.append('"').toString();
  }

  /** The server (absent in embedded mode) and the client of one run, closed together. */
  private record Running(HearthServer server, CasTarget target) implements AutoCloseable {
    @Override
    public void close() {
      try {
        target.close();
      } finally {
        if (server != null) {
          server.close();
        }
      }
    }
  }
}
