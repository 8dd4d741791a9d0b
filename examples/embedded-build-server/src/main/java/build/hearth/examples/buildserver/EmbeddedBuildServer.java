package build.hearth.examples.buildserver;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.Platform;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.api.PoolStats;
import build.hearth.core.Hearth;
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
  private final Path workerJar;
  private final Path sources;
  private final Path outputs;
  private final PrintStream out;

  /**
   * @param hearth an instance built with {@link Hearth.Builder#localExecution}
   * @param workerJar the javac worker's jar on disk; each action's input root holds a copy
   * @param sources where {@link SampleProject} wrote the libraries
   * @param outputs where the built jars are downloaded to; each action's input root is laid out
   *     beside them, under {@code outputs/../inputs}
   */
  EmbeddedBuildServer(Hearth hearth, Path workerJar, Path sources, Path outputs, PrintStream out) {
    this.hearth = hearth;
    this.workerJar = workerJar;
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
        .name("embedded-build-server")
        .filesystemBlobStore(work.resolve("cas"), 2L << 30)
        .filesystemActionCache(work.resolve("ac"), 64L << 20)
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
    Path previousJar = null;
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
      previousJar = outputs.resolve(SampleProject.library(i) + ".jar");
      download(Digest.fromProto(result.getOutputFiles(0).getDigest()), previousJar);
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
  private ExecuteResponse compile(int i, Path previousJar, boolean skipCacheLookup) {
    ContentAddressableStorage cas = hearth.cas();
    String library = SampleProject.library(i);

    // 1. The input root, laid out on disk as the action will see it (the sources, the jar compiled
    // before, the tool and a flag file) and uploaded in one call: putDirectory sorts the entries,
    // hashes and streams the files, and skips those the CAS already holds.
    Path root = outputs.resolveSibling("inputs").resolve(library);
    List<String> params = new ArrayList<>(List.of("--output", "out/" + library + ".jar"));
    copy(sources.resolve(library), root.resolve("src"));
    if (previousJar != null) {
      copy(previousJar, root.resolve("deps").resolve(previousJar.getFileName()));
      params.addAll(List.of("--classpath", "deps/" + previousJar.getFileName()));
    }
    for (String source : javaFiles(root.resolve("src"))) {
      params.addAll(List.of("--source", "src/" + source));
    }
    copy(workerJar, root.resolve("tools/javac-worker.jar"));
    write(root.resolve("lib.params"), String.join("\n", params) + "\n");
    Digest inputRoot = cas.putDirectory(root);

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
    Digest action =
        cas.putMessage(
            Action.newBuilder()
                .setCommandDigest(cas.putMessage(command).toProto())
                .setInputRootDigest(inputRoot.toProto())
                .setPlatform(
                    Platform.newBuilder()
                        .addProperties(
                            Platform.Property.newBuilder()
                                .setName("persistentWorkerKey")
                                .setValue(WORKER_KEY)))
                .build());

    // 4. Execute: an action-cache hit completes at once; otherwise the scheduler queues it for the
    // local worker. result() never completes exceptionally; failures are in the response's status.
    return hearth
        .execution()
        .execute(
            ExecuteRequest.newBuilder()
                .setActionDigest(action.toProto())
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
    return result.hasStderrDigest()
        ? hearth.cas().get(result.getStderrDigest()).toStringUtf8()
        : result.getStderrRaw().toStringUtf8();
  }

  /** Copies a file, or a directory's files, to {@code target}, replacing what is there. */
  private static void copy(Path source, Path target) {
    try (Stream<Path> files = Files.walk(source)) {
      for (Path file : files.filter(Files::isRegularFile).toList()) {
        Path to = target.resolve(source.relativize(file).toString());
        Files.createDirectories(to.getParent());
        Files.copy(file, to, StandardCopyOption.REPLACE_EXISTING);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy " + source + " to " + target, e);
    }
  }

  private static void write(Path file, String text) {
    try {
      Files.writeString(file, text, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + file, e);
    }
  }
}
