package build.hearth.examples.buildserver;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.Platform;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.core.Hearth;
import build.hearth.api.PoolStats;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * A build server in miniature. Hearth runs inside this process (CAS, action cache, scheduler, one
 * local worker and its persistent-worker pool) and compiles a chain of Java libraries with the
 * javac persistent worker, three times over:
 *
 * <ol>
 *   <li><b>build</b>: an ordinary build; on the first run the first compile starts the javac
 *       process and the others reuse it, on a later run every compile is an action-cache hit;
 *   <li><b>rebuild</b>: the same compiles with the action-cache lookup skipped, all on warm javac
 *       processes;
 *   <li><b>cached</b>: the same compiles again, answered from the action cache.
 * </ol>
 *
 * <p>The stores live under the work directory, so a second run of the program finds the first run's
 * results. Everything goes through Hearth's public Java API; there are no sockets.
 *
 * <pre>
 * java -jar embedded-build-server.jar WORK_DIRECTORY JAVAC_WORKER_JAR [LIBRARIES]
 * </pre>
 *
 * <p>Not thread-safe: one build runs at a time on an instance.
 */
public final class EmbeddedBuildServer {
  /**
   * Names the kind of persistent worker; actions with the same key (and the same tool files and
   * startup arguments) share warm processes.
   */
  private static final String WORKER_KEY = "embedded-build-server-javac";

  private final Hearth hearth;
  private final Digest workerJar;
  private final Path sources;
  private final Path outputs;
  private final PrintStream out;

  /**
   * @param hearth an instance built with {@link Hearth.Builder#localExecution}
   * @param workerJar the javac worker's jar on disk; it is uploaded to the CAS
   * @param sources where {@link SampleProject} wrote the libraries
   * @param outputs where the built jars are downloaded to
   */
  EmbeddedBuildServer(Hearth hearth, Path workerJar, Path sources, Path outputs, PrintStream out) {
    this.hearth = hearth;
    this.workerJar = hearth.cas().put(readAll(workerJar));
    this.sources = sources;
    this.outputs = outputs;
    this.out = out;
  }

  public static void main(String[] args) {
    if (args.length < 2 || args.length > 3) {
      System.err.println(
          "usage: java -jar embedded-build-server.jar WORK_DIRECTORY JAVAC_WORKER_JAR [LIBRARIES]\n"
              + "  WORK_DIRECTORY    holds the sources, Hearth's stores and the built jars\n"
              + "  JAVAC_WORKER_JAR  Hearth's examples/javac-worker/target/javac-worker.jar\n"
              + "  LIBRARIES         how many libraries to build, 10 by default");
      System.exit(2);
    }
    Path work = Path.of(args[0]).toAbsolutePath();
    Path workerJar = Path.of(args[1]);
    if (!Files.isRegularFile(workerJar)) {
      System.err.println(
          "no javac worker jar at "
              + workerJar.toAbsolutePath()
              + "; build it with ./mvnw install -DskipTests at the root of Hearth's repository");
      System.exit(2);
    }
    int libraries = args.length > 2 ? Integer.parseInt(args[2]) : 10;
    SampleProject.write(work.resolve("src"), libraries);
    try (Hearth hearth = open(work)) {
      new EmbeddedBuildServer(
              hearth, workerJar, work.resolve("src"), work.resolve("out"), System.out)
          .build(libraries);
    }
  }

  /**
   * Opens Hearth with its stores on disk under {@code work}, so that results outlive the process,
   * and with a local worker whose exec roots and javac processes live under {@code work/exec}.
   */
  static Hearth open(Path work) {
    return Hearth.newBuilder()
        .blobStore("filesystem", Map.of("path", work.resolve("cas").toString(), "maxSize", "2GiB"))
        .actionCacheStore(
            "filesystem", Map.of("path", work.resolve("ac").toString(), "maxSize", "64MiB"))
        .localExecution(work.resolve("exec"))
        .workerSlots(2)
        .build();
  }

  /** Builds the libraries three times, printing a line per round; returns the pool's stats. */
  PoolStats build(int libraries) {
    round("build", libraries, false);
    round("rebuild", libraries, true);
    round("cached", libraries, false);
    PoolStats stats = hearth.persistentWorkerStats().orElseThrow();
    out.printf(
        Locale.ROOT,
        "persistent workers: %d process(es) started, %d requests (%d warm, %d cold)%n",
        stats.totals().spawns(),
        stats.totals().requests(),
        stats.totals().warmRequests(),
        stats.totals().coldRequests());
    out.println("jars in " + outputs);
    return stats;
  }

  private void round(String name, int libraries, boolean skipCacheLookup) {
    long start = System.nanoTime();
    int cached = 0;
    Digest previousJar = null;
    for (int i = 0; i < libraries; i++) {
      ExecuteResponse response = compile(i, previousJar, skipCacheLookup);
      ActionResult result = response.getResult();
      if (response.getStatus().getCode() != 0 || result.getExitCode() != 0) {
        throw new IllegalStateException(
            "compiling "
                + SampleProject.library(i)
                + " failed: "
                + response.getStatus().getMessage()
                + " "
                + stderr(result));
      }
      cached += response.getCachedResult() ? 1 : 0;
      // The jar stays in the CAS: the next compile names it by digest, with no copy.
      previousJar = Digest.fromProto(result.getOutputFiles(0).getDigest());
      download(previousJar, outputs.resolve(SampleProject.library(i) + ".jar"));
    }
    out.printf(
        Locale.ROOT,
        "%-7s %2d compiles in %5d ms: %d from the action cache, %d executed%n",
        name,
        libraries,
        (System.nanoTime() - start) / 1_000_000,
        cached,
        libraries - cached);
  }

  /** Compiles library {@code i} against the jar of library {@code i - 1}, if there is one. */
  private ExecuteResponse compile(int i, Digest previousJar, boolean skipCacheLookup) {
    ContentAddressableStorage cas = hearth.cas();
    String library = SampleProject.library(i);

    // 1. The input root: the sources, the jar compiled before, the tool, and a flag file.
    Path sourceRoot = sources.resolve(library);
    List<String> params = new ArrayList<>(List.of("--output", "out/" + library + ".jar"));
    Directory.Builder root = Directory.newBuilder();
    if (previousJar != null) {
      String dependency = SampleProject.library(i - 1) + ".jar";
      params.addAll(List.of("--classpath", "deps/" + dependency));
      root.addDirectories(
          CasTrees.directory(
              cas,
              "deps",
              Directory.newBuilder()
                  .addFiles(CasTrees.file(dependency, previousJar, false))
                  .build()));
    }
    for (String source : javaFiles(sourceRoot)) {
      params.addAll(List.of("--source", "src/" + source));
    }
    Digest paramsFile =
        cas.put(ByteString.copyFrom(String.join("\n", params) + "\n", StandardCharsets.UTF_8));
    // Directory entries must be sorted by name: deps, lib.params, src, tools.
    root.addFiles(CasTrees.file("lib.params", paramsFile, false))
        .addDirectories(
            DirectoryNode.newBuilder()
                .setName("src")
                .setDigest(CasTrees.upload(cas, sourceRoot).toProto()))
        .addDirectories(
            CasTrees.directory(
                cas,
                "tools",
                Directory.newBuilder()
                    .addFiles(CasTrees.file("javac-worker.jar", workerJar, false))
                    .build()));

    // 2. The command: an ordinary command line whose arguments are in a flag file (@lib.params).
    // With persistentWorkerKey on the platform, the worker sends the flag file's lines to a warm
    // javac process as a WorkRequest instead of starting java for each action.
    Command command =
        Command.newBuilder()
            .addArguments(Path.of(System.getProperty("java.home"), "bin", "java").toString())
            .addArguments("-jar")
            .addArguments("tools/javac-worker.jar")
            .addArguments("@lib.params")
            .addOutputPaths("out/" + library + ".jar")
            .build();

    // 3. The action: the command and the input root by digest, and the platform.
    Action action =
        Action.newBuilder()
            .setCommandDigest(cas.put(command.toByteString()).toProto())
            .setInputRootDigest(cas.put(root.build().toByteString()).toProto())
            .setPlatform(
                Platform.newBuilder()
                    .addProperties(
                        Platform.Property.newBuilder()
                            .setName("persistentWorkerKey")
                            .setValue(WORKER_KEY)))
            .build();
    Digest actionDigest = cas.put(action.toByteString());

    // 4. Execute: an action-cache hit completes at once; otherwise the scheduler queues it for the
    // local worker. result() never completes exceptionally; failures are in the response's status.
    return hearth
        .execution()
        .execute(
            ExecuteRequest.newBuilder()
                .setActionDigest(actionDigest.toProto())
                .setSkipCacheLookup(skipCacheLookup)
                .build())
        .result()
        .join();
  }

  /** The {@code .java} files under {@code directory}, as sorted paths relative to it. */
  private static List<String> javaFiles(Path directory) {
    try (Stream<Path> files = Files.walk(directory)) {
      return files
          .filter(file -> file.getFileName().toString().endsWith(".java"))
          .map(file -> directory.relativize(file).toString().replace('\\', '/'))
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list the sources in " + directory, e);
    }
  }

  /** Streams a blob from the CAS to a file, so that no jar has to fit in memory. */
  private void download(Digest digest, Path file) {
    try (InputStream in = hearth.cas().read(digest, 0, 0)) {
      Files.createDirectories(file.getParent());
      Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }

  /** What the compiler said, for an error message. */
  private String stderr(ActionResult result) {
    if (result.hasStderrDigest()) {
      return hearth.cas().get(Digest.fromProto(result.getStderrDigest())).toStringUtf8();
    }
    return result.getStderrRaw().toStringUtf8();
  }

  private static ByteString readAll(Path file) {
    try {
      return ByteString.copyFrom(Files.readAllBytes(file));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }
}
