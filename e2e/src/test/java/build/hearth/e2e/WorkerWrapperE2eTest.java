package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The checks of {@code examples/persistent-workers/worker-wrapper.sh}, run with bash as a user runs
 * the script: each problem of the troubleshooting list gives one line that names the fix, and the
 * worker is not started. A listening socket stands in for the server where the endpoint must be
 * reachable; {@code --check-only} keeps the successful case from starting a worker.
 */
class WorkerWrapperE2eTest {
  @TempDir Path directory;
  private ServerSocket server;
  private Path launcher;

  @BeforeEach
  void listenAndWriteLauncher() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    launcher = DeploymentExample.writeLauncher(directory.resolve("bin"));
  }

  @AfterEach
  void stopListening() throws IOException {
    server.close();
  }

  @Test
  void passesWhenJavaTheLauncherMemoryAndTheEndpointAreFine() {
    Result result = run(List.of("--check-only"), Map.of());
    assertThat(result.status()).as(result.output()).isZero();
    assertThat(result.output()).contains("all checks passed").doesNotContain("FAIL");
  }

  @Test
  void saysHowToInstallJavaWhenNoneIsOnPath() throws IOException {
    // A PATH with the tools the script calls, and no java.
    Path bin = Files.createDirectories(directory.resolve("path-without-java"));
    for (String tool : List.of("timeout", "unshare", "head")) {
      Path found = which(tool);
      Files.createSymbolicLink(bin.resolve(tool), found);
    }
    Result result = run(List.of("--check-only"), Map.of("PATH", bin.toString()));
    assertThat(result.status()).isEqualTo(1);
    assertThat(result.failures())
        .singleElement()
        .asString()
        .contains("no 'java' on PATH", "install a JDK 17 or newer");
  }

  @Test
  void saysToStartTheServerWhenTheEndpointIsUnreachable() {
    int closed = DeploymentExample.freePort();
    Result result = run(List.of("--check-only"), Map.of(), "http://localhost:" + closed);
    assertThat(result.status()).isEqualTo(1);
    assertThat(result.failures())
        .singleElement()
        .asString()
        .contains("cannot connect to localhost:" + closed, "start the server first");
  }

  @Test
  void saysToChmodALauncherThatIsNotExecutable() throws IOException {
    Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rw-r--r--"));
    Result result = run(List.of(), Map.of());
    assertThat(result.status()).isEqualTo(1);
    assertThat(result.failures())
        .singleElement()
        .asString()
        .contains("is not executable", "chmod +x " + launcher);
    assertThat(result.output()).contains("the worker was not started");
  }

  @Test
  void refusesToStartWithTooLittleMemory() {
    Result result =
        run(List.of("--check-only"), Map.of("HEARTH_WRAPPER_MIN_MEMORY_MB", "100000000"));
    assertThat(result.status()).isEqualTo(1);
    assertThat(result.failures())
        .singleElement()
        .asString()
        .contains("below the minimum of 100000000 MiB", "maxProcessesPerKey");
  }

  @Test
  void warnsButStartsBelowTheWarningThreshold() {
    Result result =
        run(List.of("--check-only"), Map.of("HEARTH_WRAPPER_WARN_MEMORY_MB", "100000000"));
    assertThat(result.status()).as(result.output()).isZero();
    assertThat(result.output()).contains("WARN: only", "memoryLimit");
  }

  /** The README's first troubleshooting case does not arise with the checkout as shipped. */
  @Test
  void theExampleWrapperIsExecutable() {
    assertThat(Files.isExecutable(DeploymentExample.wrapper()))
        .as("%s is executable (chmod +x)", DeploymentExample.wrapper())
        .isTrue();
  }

  private Result run(List<String> args, Map<String, String> environment) {
    return run(args, environment, "http://localhost:" + server.getLocalPort());
  }

  private Result run(List<String> args, Map<String, String> environment, String endpoint) {
    List<String> all = new ArrayList<>(args);
    all.addAll(List.of("--scheduler-endpoint", endpoint));
    Map<String, String> env = new HashMap<>(environment);
    env.put("HEARTH_LAUNCHER", launcher.toString());
    env.put("HEARTH_WRAPPER_CONNECT_TIMEOUT", "5");
    Path log = directory.resolve("wrapper-" + System.nanoTime() + ".log");
    int status = DeploymentExample.await(DeploymentExample.startWrapper(all, env, log));
    try {
      return new Result(status, Files.readString(log, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static Path which(String tool) {
    for (String dir : System.getenv("PATH").split(":")) {
      Path candidate = Path.of(dir, tool);
      if (!dir.isEmpty() && Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    throw new IllegalStateException(tool + " is not on PATH");
  }

  private record Result(int status, String output) {
    /** The lines that report a failed check: exactly one per problem. */
    List<String> failures() {
      return output.lines().filter(line -> line.startsWith("worker-wrapper: FAIL:")).toList();
    }
  }
}
