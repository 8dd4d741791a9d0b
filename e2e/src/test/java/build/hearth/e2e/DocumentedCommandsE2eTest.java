package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.fail;

import build.hearth.api.ConfigException;
import build.hearth.core.config.HearthConfig;
import build.hearth.core.config.WorkerConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Runs the documentation as written: every block marked to run or to parse ({@link MarkdownBlocks})
 * in {@code README.md}, {@code examples/*}{@code /README.md} and {@code docs/*.md}.
 *
 * <p>Configuration blocks are read with Hearth's own readers. Shell blocks run with {@code bash} in
 * a fresh copy of the checkout's tracked files (as a {@code git clone} would give, but with
 * uncommitted edits), with nothing built beforehand: the first {@code ./hearth} builds the server
 * as it would for a new user. Commands that keep running ({@code hearth serve}, {@code
 * worker-wrapper.sh}, {@code hearth worker}) are started, waited for (the server listens on the
 * documented port, the worker says it connected) and stopped at the end of their group; the others
 * must exit with status 0 and print what their text promises. The documents run in {@link #GROUPS};
 * a document with run blocks that no group names fails the test, so a new one cannot be forgotten.
 *
 * <p>The commands use the documented port, {@value #PORT}, on the loopback address; the test fails
 * at once if something else holds it. Their {@code ~} (Hearth's stores and work directories) is a
 * directory of the test, through {@code HEARTH_JAVA_OPTS=-Duser.home=...}, which the launcher
 * passes to Java; Maven's environment ({@code MAVEN_ARGS}, the local repository) is passed through.
 */
class DocumentedCommandsE2eTest {
  private static final int PORT = 50052;
  private static final Duration FIRST_BUILD = Duration.ofMinutes(10);
  private static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(10);
  private static final Duration WORKER_CONNECT = Duration.ofMinutes(2);
  private static final Duration BUILD_TIMEOUT = Duration.ofMinutes(6);
  private static final String SERVING = "Serving REAPI over gRPC";

  /**
   * Documents run together, in order: long-running commands stay up until the end of their group.
   * {@code docs/operations.md} assumes the deployment of {@code examples/persistent-workers}. The
   * deployment comes first, so that its {@code ../../hearth serve} is the command that builds the
   * server, from the example's directory (issue 19: that first build failed there).
   */
  private static final List<List<String>> GROUPS =
      List.of(
          List.of("examples/persistent-workers/README.md", "docs/operations.md"),
          List.of("README.md"),
          List.of("examples/javac-worker/README.md"),
          List.of("examples/custom-storage/README.md"),
          List.of("examples/embedded-build-server/README.md"));

  /** Files a build command's text promises, by a piece of that text; relative to the checkout. */
  private static final Map<String, List<String>> PRODUCES =
      Map.of(
          "-pl examples/javac-worker -am package",
          List.of("examples/javac-worker/target/javac-worker.jar"),
          "-f examples/custom-storage/pom.xml verify",
          List.of(
              "examples/custom-storage/target/hearth-sqlite-storage.jar",
              "examples/custom-storage/target/lib/sqlite-jdbc.jar"),
          "-f examples/embedded-build-server/pom.xml package",
          List.of("examples/embedded-build-server/target/embedded-build-server.jar"));

  /** What the embedded build server prints last: its third round, all from the action cache. */
  private static final Pattern CACHED_ROUND =
      Pattern.compile(
          "(?m)^cached +(\\d+) compiles in +\\d+ ms: \\1 from the action cache, 0 executed$");

  @Test
  void configurationBlocksParseWithTheRealReaders() {
    Path root = checkout();
    int servers = 0;
    int workers = 0;
    for (Path document : documents(root)) {
      for (MarkdownBlocks.Block block : MarkdownBlocks.read(document)) {
        try {
          if (block.marker().equals(MarkdownBlocks.CONFIG)) {
            HearthConfig.parse(block.text(), block.where());
            servers++;
          } else if (block.marker().equals(MarkdownBlocks.WORKER_CONFIG)) {
            WorkerConfig.parseStandalone(block.text(), block.where());
            workers++;
          }
        } catch (ConfigException e) {
          fail(block.where() + ": the documented configuration is refused: " + e.getMessage());
        }
      }
    }
    // The convention is in use: without marked blocks this test would check nothing.
    assertThat(servers).as("blocks marked '%s'", MarkdownBlocks.CONFIG).isPositive();
    assertThat(workers).as("blocks marked '%s'", MarkdownBlocks.WORKER_CONFIG).isPositive();
  }

  @Test
  void commandsRunAsWrittenOnAFreshClone() {
    Path root = checkout();
    List<String> grouped = GROUPS.stream().flatMap(List::stream).toList();
    for (Path document : documents(root)) {
      String name = root.relativize(document).toString();
      if (!shellBlocks(document).isEmpty()) {
        assertThat(grouped)
            .as("%s has blocks marked to run; name it in %s.GROUPS", name, getClass().getName())
            .contains(name);
      }
    }

    Path directory =
        E2eDirectories.target()
            .resolve("documented-commands")
            .resolve(Long.toString(System.nanoTime()));
    Path clone = copyTrackedFiles(root, directory.resolve("hearth"));
    assertThat(clone.resolve("server/target"))
        .as("nothing is built in the fresh copy")
        .doesNotExist();
    Run run = new Run(clone, directory);
    try {
      for (List<String> group : GROUPS) {
        run.group(group);
      }
    } finally {
      System.out.println("documented commands, with their times:\n" + run.report);
    }
  }

  /** One run of all groups over one fresh copy. */
  private static final class Run {
    private final Path clone;
    private final Path directory;
    private final Map<String, String> environment = new LinkedHashMap<>();
    private final StringBuilder report = new StringBuilder();
    private int logs;

    Run(Path clone, Path directory) {
      this.clone = clone;
      this.directory = directory;
      environment.put("HEARTH_JAVA_OPTS", "-Duser.home=" + directory.resolve("home"));
    }

    void group(List<String> documents) {
      awaitPortFree(Duration.ZERO);
      List<Process> running = new ArrayList<>();
      boolean built = false;
      try {
        for (String name : documents) {
          Path document = clone.resolve(name);
          for (MarkdownBlocks.Block block : shellBlocks(document)) {
            Path workingDirectory =
                block.marker().equals(MarkdownBlocks.RUN) ? document.getParent() : clone;
            for (String command : block.commands()) {
              String where = clone.relativize(block.file()) + ":" + block.line();
              boolean longRunning = isServer(command) || isWorker(command);
              if (!longRunning && !built && name.startsWith("examples/persistent-workers/")) {
                built = true;
                buildWithTheExampleBazelrc();
              }
              Instant start = Instant.now();
              if (longRunning) {
                running.add(startLongRunning(where, command, workingDirectory));
              } else {
                runOnce(where, command, workingDirectory);
              }
              report.append(
                  String.format(
                      "  %5.1f s  %s: %s%n",
                      Duration.between(start, Instant.now()).toMillis() / 1000.0, where, command));
            }
          }
        }
      } finally {
        List<ProcessHandle> leftBehind = new ArrayList<>();
        for (int i = running.size() - 1; i >= 0; i--) {
          Processes.stop(running.get(i), Duration.ofSeconds(70), leftBehind);
        }
        awaitPortFree(Duration.ofSeconds(30));
      }
    }

    /** Starts {@code command} and waits until it does what it is for. */
    private Process startLongRunning(String where, String command, Path workingDirectory) {
      Path log = nextLog();
      Process process = start(command, workingDirectory, log);
      if (isServer(command)) {
        awaitLog(where, command, process, log, SERVING, FIRST_BUILD);
        awaitListening(where, command, log);
        assertThat(get("/healthz").statusCode())
            .as("%s: %s answers /healthz", where, command)
            .isEqualTo(200);
      } else {
        awaitLog(where, command, process, log, WorkerProcess.CONNECTED, WORKER_CONNECT);
      }
      return process;
    }

    /** Runs {@code command} to its end and checks its status and what it printed. */
    private void runOnce(String where, String command, Path workingDirectory) {
      Path log = nextLog();
      // Standard output alone is what a pipe or the reader sees as the command's result;
      // standard error (curl's progress meter, say) is kept beside it for the message.
      Path errors = log.resolveSibling(log.getFileName() + ".stderr");
      ProcessBuilder builder = builder(command, workingDirectory, log);
      builder.redirectErrorStream(false).redirectError(errors.toFile());
      Process process = Processes.start(builder);
      int status;
      try {
        if (!process.waitFor(COMMAND_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
          Processes.stop(process, Duration.ofSeconds(10), new ArrayList<>());
          fail(where + ": still running after " + COMMAND_TIMEOUT + ": " + command);
        }
        status = process.exitValue();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      String output = read(log);
      String context =
          where
              + ": "
              + command
              + "\nprinted:\n"
              + BazelResult.lastLines(output, 40)
              + "\nand on standard error:\n"
              + BazelResult.lastLines(read(errors), 20);
      assertThat(status).as("exit status of %s", context).isZero();
      PRODUCES.forEach(
          (text, files) -> {
            if (command.contains(text)) {
              files.forEach(
                  file ->
                      assertThat(clone.resolve(file))
                          .as("what %s promises", context)
                          .isRegularFile());
            }
          });
      if (command.contains("| grep persistent_worker")) {
        List<String> lines = output.lines().filter(line -> !line.isBlank()).toList();
        assertThat(lines).as("lines of %s", context).isNotEmpty();
        assertThat(lines).as(context).allMatch(line -> line.contains("persistent_worker"));
        assertThat(sum(output, "persistent_worker_requests_total"))
            .as("persistent-worker requests after the build, in %s", context)
            .isPositive();
      } else if (command.contains("/readyz")) {
        assertThat(output).as(context).contains(" 200");
      } else if (command.contains("embedded-build-server.jar")) {
        assertThat(output)
            .as("the rounds printed by %s", context)
            .containsPattern(CACHED_ROUND)
            .contains("persistent workers: ");
      } else if (command.contains("admin worker-stats")) {
        assertThat(output)
            .as("the worker of worker.json and the key of .bazelrc in %s", context)
            .contains(exampleValue("worker.json", "\"name\": \"([^\"]+)\""))
            .contains(exampleValue(".bazelrc", "persistentWorkerKey=(\\S+)"));
      }
    }

    /**
     * The prose step of the deployment example: its {@code .bazelrc}, unchanged, in a Bazel
     * workspace, then {@code bazel build //...}.
     */
    private void buildWithTheExampleBazelrc() {
      Instant start = Instant.now();
      BazelWorkspace workspace = JavacWorkspaceLocalE2eTest.prepare();
      JavaWorkspace.generate(workspace.root(), JavacWorkspaceLocalE2eTest.LIBRARIES);
      workspace.writeFile(".bazelrc", read(clone.resolve("examples/persistent-workers/.bazelrc")));
      try (Bazel bazel = Bazel.open(workspace, DocumentedCommandsE2eTest.class, BUILD_TIMEOUT)) {
        ProcessSummary summary = bazel.build("//...").processSummary();
        assertThat(summary.remotelyExecuted())
            .as("actions run on Hearth with the example's .bazelrc: %s", summary)
            .isPositive();
      }
      report.append(
          String.format(
              "  %5.1f s  (prose) bazel build //... with examples/persistent-workers/.bazelrc%n",
              Duration.between(start, Instant.now()).toMillis() / 1000.0));
    }

    private String exampleValue(String file, String regex) {
      Matcher matcher =
          Pattern.compile(regex)
              .matcher(read(clone.resolve("examples/persistent-workers/" + file)));
      assertThat(matcher.find()).as("%s in examples/persistent-workers/%s", regex, file).isTrue();
      return matcher.group(1);
    }

    private Process start(String command, Path workingDirectory, Path log) {
      return Processes.start(builder(command, workingDirectory, log));
    }

    /** {@code bash -c command} in {@code workingDirectory}, printing into {@code log}. */
    private ProcessBuilder builder(String command, Path workingDirectory, Path log) {
      ProcessBuilder builder =
          Processes.logging(List.of("bash", "-c", command), log)
              .directory(workingDirectory.toFile());
      // Nothing but what the docs say: no launcher or checkout chosen for the wrapper.
      builder.environment().remove("HEARTH_LAUNCHER");
      builder.environment().remove("HEARTH_HOME");
      builder.environment().putAll(environment);
      return builder;
    }

    private Path nextLog() {
      try {
        Files.createDirectories(directory.resolve("logs"));
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return directory.resolve("logs").resolve(String.format("%02d.log", ++logs));
    }
  }

  /**
   * Waits up to {@code limit} for {@code log} (what {@code process} prints) to hold {@code line};
   * fails at once, with the log, if the process ends first.
   */
  private static void awaitLog(
      String where, String command, Process process, Path log, String line, Duration limit) {
    String context = where + ": " + command + "\n";
    try {
      await()
          .atMost(limit)
          .pollInterval(Duration.ofMillis(100))
          .until(
              () -> {
                if (!process.isAlive()) {
                  fail(
                      context
                          + "exited with "
                          + process.exitValue()
                          + " before printing '"
                          + line
                          + "'; it printed:\n"
                          + BazelResult.lastLines(read(log), 40));
                }
                return read(log).contains(line);
              });
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      fail(
          context
              + "did not print '"
              + line
              + "' within "
              + limit
              + "; it printed:\n"
              + BazelResult.lastLines(read(log), 40));
    }
  }

  private static void awaitListening(String where, String command, Path log) {
    if (!accepts()) {
      fail(
          where
              + ": "
              + command
              + "\nsaid it serves but 127.0.0.1:"
              + PORT
              + " refuses connections; it printed:\n"
              + BazelResult.lastLines(read(log), 40));
    }
  }

  /** Fails unless nothing listens on the documented port, now or within {@code limit}. */
  private static void awaitPortFree(Duration limit) {
    String message =
        "something listens on 127.0.0.1:"
            + PORT
            + ", the port the documentation uses; stop it before running this test";
    if (limit.isZero()) {
      assertThat(accepts()).as(message).isFalse();
      return;
    }
    try {
      await().atMost(limit).pollInterval(Duration.ofMillis(200)).until(() -> !accepts());
    } catch (org.awaitility.core.ConditionTimeoutException e) {
      fail(message);
    }
  }

  private static boolean accepts() {
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress("127.0.0.1", PORT), 1000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private static HttpResponse<String> get(String path) {
    HttpClient client =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(10))
            .build();
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + PORT + path))
            .timeout(Duration.ofSeconds(20))
            .GET()
            .build();
    try {
      return client.send(request, HttpResponse.BodyHandlers.ofString());
    } catch (IOException e) {
      return fail("GET " + path + " failed: " + e, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** The sum of the samples of {@code metric} in Prometheus text ({@code grep}'s output). */
  private static double sum(String metrics, String metric) {
    double total = 0;
    for (String line : metrics.lines().toList()) {
      if (line.startsWith(metric + "{") || line.startsWith(metric + " ")) {
        int brace = line.lastIndexOf('}');
        String rest = brace < 0 ? line.substring(metric.length()) : line.substring(brace + 1);
        total += Double.parseDouble(rest.trim().split("\\s+")[0]);
      }
    }
    return total;
  }

  private static boolean isServer(String command) {
    return command.matches(".*\\bhearth serve\\b.*");
  }

  private static boolean isWorker(String command) {
    return command.contains("worker-wrapper.sh") || command.matches(".*\\bhearth worker\\b.*");
  }

  private static List<MarkdownBlocks.Block> shellBlocks(Path document) {
    return MarkdownBlocks.read(document).stream()
        .filter(
            block ->
                block.marker().equals(MarkdownBlocks.RUN)
                    || block.marker().equals(MarkdownBlocks.RUN_FROM_CHECKOUT))
        .toList();
  }

  /** The root of the checkout this test was built from. */
  private static Path checkout() {
    return E2eDirectories.target().getParent().getParent();
  }

  /**
   * {@code README.md}, {@code examples/*}{@code /README.md} and {@code docs/*.md} of {@code root}.
   */
  private static List<Path> documents(Path root) {
    List<Path> documents = new ArrayList<>(List.of(root.resolve("README.md")));
    try (Stream<Path> examples = Files.list(root.resolve("examples"));
        Stream<Path> docs = Files.list(root.resolve("docs"))) {
      examples
          .map(example -> example.resolve("README.md"))
          .filter(Files::isRegularFile)
          .sorted()
          .forEach(documents::add);
      docs.filter(file -> file.toString().endsWith(".md")).sorted().forEach(documents::add);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return documents;
  }

  /**
   * Copies the files git tracks in {@code root}, as they are in the working tree, to {@code
   * target}: what a clone gives, plus uncommitted edits, and no build output.
   */
  private static Path copyTrackedFiles(Path root, Path target) {
    try {
      Process git =
          new ProcessBuilder("git", "-C", root.toString(), "ls-files", "-z")
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      String names = new String(git.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!git.waitFor(1, TimeUnit.MINUTES) || git.exitValue() != 0) {
        fail("git ls-files failed in " + root);
      }
      for (String name : names.split("\0")) {
        Path source = root.resolve(name);
        if (name.isEmpty() || !Files.exists(source, LinkOption.NOFOLLOW_LINKS)) {
          continue; // deleted in the working tree
        }
        Path copy = target.resolve(name);
        Files.createDirectories(copy.getParent());
        Files.copy(source, copy, StandardCopyOption.COPY_ATTRIBUTES, LinkOption.NOFOLLOW_LINKS);
      }
      return target;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy " + root + " to " + target, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static String read(Path file) {
    try {
      return Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      return "(cannot read " + file + ": " + e + ")";
    }
  }
}
