package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The files of {@code examples/persistent-workers} as the tests use them: read from the checkout,
 * copied with the few values a test must change (the port, the directories), and a launcher that
 * stands in for the checkout's {@code ./hearth}. Stateless.
 */
final class DeploymentExample {
  /** The address the example's files name; a test replaces it with a free port of its own. */
  static final String EXAMPLE_ADDRESS = "localhost:50052";

  private DeploymentExample() {}

  /** The example's directory in this checkout. */
  static Path directory() {
    Path directory =
        E2eDirectories.target().getParent().getParent().resolve("examples/persistent-workers");
    if (!Files.isDirectory(directory)) {
      fail("the deployment example is missing: " + directory);
    }
    return directory;
  }

  /** The example's wrapper script. */
  static Path wrapper() {
    return directory().resolve("worker-wrapper.sh");
  }

  /** One of the example's files, as text. */
  static String read(String name) {
    try {
      return Files.readString(directory().resolve(name), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * {@code text} with every {@code from} replaced by {@code to}; fails the test if {@code from}
   * does not occur, so that a change to the example cannot silently leave a test on the example's
   * values.
   */
  static String replace(String text, String from, String to) {
    assertThat(text).as("the example's text to rewrite").contains(from);
    return text.replace(from, to);
  }

  /** A port nothing listens on right now. */
  static int freePort() {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Writes an executable {@code hearth} into {@code directory} that runs this build's Hearth (the
   * server module on the test class path) with its arguments, as the checkout's {@code ./hearth}
   * runs the jar it builds: the wrapper finds it through {@code HEARTH_LAUNCHER}. Building the jar
   * from a test would rewrite the classes the test itself runs on.
   */
  static Path writeLauncher(Path directory) {
    String classPath = System.getProperty("surefire.test.class.path");
    if (classPath == null || classPath.isBlank()) {
      classPath = System.getProperty("java.class.path");
    }
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String script =
        "#!/usr/bin/env bash\n"
            + "# Hearth of the build under test; written by "
            + DeploymentExample.class.getSimpleName()
            + ".\n"
            + "exec "
            + shellQuoted(java)
            + " -Xmx512m -cp "
            + shellQuoted(classPath)
            + " build.hearth.server.Main \"$@\"\n";
    try {
      Files.createDirectories(directory);
      Path launcher = directory.resolve("hearth");
      Files.writeString(launcher, script, StandardCharsets.UTF_8);
      Files.setPosixFilePermissions(launcher, PosixFilePermissions.fromString("rwxr-xr-x"));
      return launcher;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Starts {@code bash worker-wrapper.sh <args>} with {@code environment} added to this process's
   * own (a value of null removes the variable), its output and errors into {@code log}.
   */
  static Process startWrapper(List<String> args, Map<String, String> environment, Path log) {
    List<String> command = new ArrayList<>(List.of("bash", wrapper().toString()));
    command.addAll(args);
    ProcessBuilder builder = Processes.logging(command, log);
    environment.forEach(
        (name, value) -> {
          if (value == null) {
            builder.environment().remove(name);
          } else {
            builder.environment().put(name, value);
          }
        });
    return Processes.start(builder);
  }

  /** Runs {@code process} to its end (at most a minute) and returns its exit status. */
  static int await(Process process) {
    try {
      if (!process.waitFor(1, TimeUnit.MINUTES)) {
        process.destroyForcibly();
        return fail("still running after a minute: " + process.info().commandLine().orElse("?"));
      }
      return process.exitValue();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** {@code text} in single quotes for bash. */
  static String shellQuoted(String text) {
    return "'" + text.replace("'", "'\\''") + "'";
  }
}
