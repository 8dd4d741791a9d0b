package build.hearth.examples.embedded;

import build.bazel.remote.execution.v2.Action;
import build.bazel.remote.execution.v2.Command;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.ExecuteRequest;
import build.bazel.remote.execution.v2.ExecuteResponse;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.Platform;
import build.hearth.api.ContentAddressableStorage;
import build.hearth.api.Digest;
import build.hearth.core.Hearth;
import build.hearth.core.persistent.PoolStats;
import com.google.protobuf.ByteString;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A build server in miniature: Hearth embedded in this process compiles a chain of Java libraries
 * (each using the one before) with the javac persistent worker, three times over:
 *
 * <ol>
 *   <li><b>cold</b>: the first compile starts the javac worker process;
 *   <li><b>warm</b>: the same compiles again with the action cache skipped, all on the warm
 *       process;
 *   <li><b>cached</b>: the same compiles, answered from the action cache.
 * </ol>
 *
 * <p>Everything goes through Hearth's public Java API: the CAS, the execution service, and the
 * persistent-worker statistics. No sockets, no gRPC.
 *
 * <pre>
 * java -cp ... build.hearth.examples.embedded.EmbeddedJavac WORK_DIRECTORY JAVAC_WORKER_JAR [LIBRARIES]
 * </pre>
 */
public final class EmbeddedJavac {
  private static final String KEY = "embedded-javac";

  private final Hearth hearth;
  private final byte[] workerJar;
  private final PrintStream out;

  EmbeddedJavac(Hearth hearth, byte[] workerJar, PrintStream out) {
    this.hearth = hearth;
    this.workerJar = workerJar;
    this.out = out;
  }

  public static void main(String[] args) throws IOException {
    if (args.length < 2) {
      System.err.println(
          "usage: EmbeddedJavac WORK_DIRECTORY JAVAC_WORKER_JAR [LIBRARIES]\n"
              + "  JAVAC_WORKER_JAR: examples/javac-worker/target/javac-worker.jar");
      System.exit(2);
    }
    Path work = Path.of(args[0]);
    int libraries = args.length > 2 ? Integer.parseInt(args[2]) : 10;
    try (Hearth hearth =
        Hearth.newBuilder()
            .blobStore(
                "filesystem", Map.of("path", work.resolve("cas").toString(), "maxSize", "2GiB"))
            .localExecution(work.resolve("exec"))
            .workerSlots(2)
            .build()) {
      new EmbeddedJavac(hearth, Files.readAllBytes(Path.of(args[1])), System.out).run(libraries);
    }
  }

  /** Compiles the chain three times and prints what happened; returns the persistent stats. */
  PoolStats run(int libraries) {
    round("cold", libraries, true);
    round("warm", libraries, true);
    round("cached", libraries, false);
    PoolStats stats = hearth.persistentWorkerStats().orElseThrow();
    out.printf(
        Locale.ROOT,
        "persistent workers: %d process(es) started, %d requests (%d warm, %d cold)%n",
        stats.totals().spawns(),
        stats.totals().requests(),
        stats.totals().warmRequests(),
        stats.totals().coldRequests());
    return stats;
  }

  private void round(String name, int libraries, boolean skipCache) {
    long start = System.nanoTime();
    int cached = 0;
    ByteString previousJar = null;
    for (int i = 0; i < libraries; i++) {
      ExecuteResponse response = compile(i, previousJar, skipCache);
      if (response.getStatus().getCode() != 0 || response.getResult().getExitCode() != 0) {
        throw new IllegalStateException(
            "compiling lib" + i + " failed: " + response.getStatus().getMessage());
      }
      cached += response.getCachedResult() ? 1 : 0;
      previousJar =
          hearth.cas().get(Digest.fromProto(response.getResult().getOutputFiles(0).getDigest()));
    }
    out.printf(
        Locale.ROOT,
        "%-6s %2d compiles in %5d ms (%d from the action cache)%n",
        name,
        libraries,
        (System.nanoTime() - start) / 1_000_000,
        cached);
  }

  /** Compiles library {@code i} against the jar of library {@code i - 1}. */
  private ExecuteResponse compile(int i, ByteString previousJar, boolean skipCache) {
    ContentAddressableStorage cas = hearth.cas();
    String source =
        "package lib"
            + i
            + ";\npublic final class Lib"
            + i
            + " {\n  public static int value() { return "
            + (i == 0 ? "1" : "lib" + (i - 1) + ".Lib" + (i - 1) + ".value() * 2")
            + "; }\n}\n";
    List<String> params = new ArrayList<>(List.of("--output", "out/lib" + i + ".jar"));
    Directory.Builder deps = Directory.newBuilder();
    if (previousJar != null) {
      params.addAll(List.of("--classpath", "deps/lib" + (i - 1) + ".jar"));
      deps.addFiles(file(cas, "lib" + (i - 1) + ".jar", previousJar, false));
    }
    params.addAll(List.of("--source", "src/Lib" + i + ".java"));

    Directory tools =
        Directory.newBuilder()
            .addFiles(file(cas, "javac-worker.jar", ByteString.copyFrom(workerJar), false))
            .build();
    Directory.Builder root =
        Directory.newBuilder()
            .addFiles(file(cas, "lib.params", utf8(String.join("\n", params) + "\n"), false));
    if (previousJar != null) {
      root.addDirectories(directory(cas, "deps", deps.build()));
    }
    root.addDirectories(
            directory(
                cas,
                "src",
                Directory.newBuilder()
                    .addFiles(file(cas, "Lib" + i + ".java", utf8(source), false))
                    .build()))
        .addDirectories(directory(cas, "tools", tools));
    Command command =
        Command.newBuilder()
            .addArguments(Path.of(System.getProperty("java.home"), "bin", "java").toString())
            .addArguments("-jar")
            .addArguments("tools/javac-worker.jar")
            .addArguments("@lib.params")
            .addOutputPaths("out/lib" + i + ".jar")
            .build();
    Action action =
        Action.newBuilder()
            .setCommandDigest(cas.put(command.toByteString()).toProto())
            .setInputRootDigest(cas.put(root.build().toByteString()).toProto())
            .setPlatform(
                Platform.newBuilder()
                    .addProperties(
                        Platform.Property.newBuilder()
                            .setName("persistentWorkerKey")
                            .setValue(KEY)))
            .build();
    Digest actionDigest = cas.put(action.toByteString());
    return hearth
        .execution()
        .execute(
            ExecuteRequest.newBuilder()
                .setActionDigest(actionDigest.toProto())
                .setSkipCacheLookup(skipCache)
                .build())
        .result()
        .join();
  }

  private static FileNode file(
      ContentAddressableStorage cas, String name, ByteString content, boolean executable) {
    return FileNode.newBuilder()
        .setName(name)
        .setDigest(cas.put(content).toProto())
        .setIsExecutable(executable)
        .build();
  }

  private static DirectoryNode directory(
      ContentAddressableStorage cas, String name, Directory directory) {
    return DirectoryNode.newBuilder()
        .setName(name)
        .setDigest(cas.put(directory.toByteString()).toProto())
        .build();
  }

  private static ByteString utf8(String text) {
    return ByteString.copyFrom(text, StandardCharsets.UTF_8);
  }
}
