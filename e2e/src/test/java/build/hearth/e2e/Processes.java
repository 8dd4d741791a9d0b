package build.hearth.e2e;

import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starting, signals, liveness, logs and stopping of the processes end-to-end tests start. Linux
 * only.
 */
final class Processes {
  private Processes() {}

  /** What a process that ran to its end left: its exit code and its output and errors. */
  record Finished(int exitCode, String output) {}

  /**
   * Runs {@code command} in {@code directory} to its end, its output and errors together into
   * {@code log}; fails the test (killing it and what it started) if it runs past {@code
   * timeoutMinutes}.
   */
  static Finished runToEnd(List<String> command, Path directory, Path log, long timeoutMinutes) {
    try {
      Process process =
          new ProcessBuilder(command)
              .directory(directory.toFile())
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      if (!process.waitFor(timeoutMinutes, TimeUnit.MINUTES)) {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        fail(String.join(" ", command) + " did not finish in " + timeoutMinutes + " minutes");
      }
      return new Finished(process.exitValue(), Files.readString(log, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + String.join(" ", command), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * A builder for {@code command} that reads nothing (standard input from {@code /dev/null}) and
   * writes its output and errors into {@code log}, for the caller to add a directory or an
   * environment to and pass to {@link #start}.
   */
  static ProcessBuilder logging(List<String> command, Path log) {
    return new ProcessBuilder(command)
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectErrorStream(true)
        .redirectOutput(log.toFile());
  }

  /** Starts {@code builder}'s command; a failure to start is unchecked, naming the command. */
  static Process start(ProcessBuilder builder) {
    try {
      return builder.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run " + builder.command(), e);
    }
  }

  /**
   * Sends {@code signal} (a name such as {@code INT}) to process {@code pid} with {@code kill},
   * since {@link ProcessHandle} offers only SIGTERM and SIGKILL. Fails the test if it cannot.
   */
  static void signal(long pid, String signal) {
    try {
      Process kill =
          new ProcessBuilder("kill", "-" + signal, Long.toString(pid))
              .redirectErrorStream(true)
              .start();
      if (!kill.waitFor(10, TimeUnit.SECONDS)) {
        kill.destroyForcibly();
        fail("kill -" + signal + " " + pid + " did not finish");
      }
      if (kill.exitValue() != 0) {
        String output = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        fail("kill -" + signal + " " + pid + " failed: " + output.trim());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot run kill", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /**
   * Whether process {@code pid} exists and has not terminated. Unlike {@link
   * ProcessHandle#isAlive()}, a zombie (killed, but not yet reaped by its parent, which in a
   * container may never happen for orphans) counts as terminated.
   */
  static boolean isRunning(long pid) {
    String stat;
    try {
      stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      return false;
    } catch (IOException e) {
      // The process went away between the lookup and the read.
      return false;
    }
    // "pid (comm) S ...": the command name may hold spaces and parentheses, the state follows
    // the last ')'.
    int end = stat.lastIndexOf(')');
    if (end < 0 || end + 2 >= stat.length()) {
      return fail("cannot read the state in /proc/" + pid + "/stat: " + stat);
    }
    char state = stat.charAt(end + 2);
    return state != 'Z' && state != 'X' && state != 'x';
  }

  /**
   * The host's processes whose command line, its arguments joined by NUL bytes and ended by one as
   * in {@code /proc/<pid>/cmdline}, satisfies {@code matches}. An action in a sandbox sees pids of
   * its own namespace, so tests find its processes on the host by what they run.
   */
  static java.util.Set<Long> withCommandLine(java.util.function.Predicate<String> matches) {
    try (java.util.stream.Stream<Path> procs = Files.list(Path.of("/proc"))) {
      return procs
          .filter(p -> p.getFileName().toString().chars().allMatch(Character::isDigit))
          .filter(p -> matches.test(commandLine(p)))
          .map(p -> Long.parseLong(p.getFileName().toString()))
          .collect(java.util.stream.Collectors.toSet());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String commandLine(Path proc) {
    try {
      return new String(Files.readAllBytes(proc.resolve("cmdline")), StandardCharsets.ISO_8859_1);
    } catch (IOException e) {
      return ""; // the process has gone
    }
  }

  /** Reads a process id that an action wrote to {@code file}. */
  static long readPid(Path file) {
    try {
      return Long.parseLong(Files.readString(file, StandardCharsets.UTF_8).trim());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    } catch (NumberFormatException e) {
      return fail(file + " does not hold a process id: " + e.getMessage());
    }
  }

  /**
   * Stops {@code process} with SIGTERM, then SIGKILL after {@code patience}, and kills whatever
   * descendants it had (remembered in {@code leftBehind}, which may already hold earlier ones).
   */
  static void stop(Process process, Duration patience, List<ProcessHandle> leftBehind) {
    leftBehind.addAll(process.descendants().toList());
    process.destroy();
    try {
      if (!process.waitFor(patience.toMillis(), TimeUnit.MILLISECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      leftBehind.forEach(ProcessHandle::destroyForcibly);
    }
  }

  /**
   * Waits up to a minute for {@code log} (what {@code process} writes) to hold {@code line}; fails
   * at once, with the log, if the process ends first.
   */
  static void awaitLogLine(Process process, Path log, String line) {
    await()
        .alias(log.getFileName() + " to say '" + line + "'")
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(100))
        .until(
            () -> {
              String text = Files.readString(log, StandardCharsets.UTF_8);
              if (!process.isAlive()) {
                fail("exited with " + process.exitValue() + "; " + log + ":\n" + text);
              }
              return text.contains(line);
            });
  }
}
