package build.hearth.core.worker;

import build.hearth.api.HearthException;
import build.hearth.core.persistent.PipedToolProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Starts each persistent worker process in Linux namespaces of its own, with {@code unshare(1)}:
 * new mount, pid, ipc and uts namespaces, {@code /proc} remounted for the new pid namespace, and an
 * empty private {@code /tmp}. The tool then sees none of the host's other processes, cannot signal
 * them, shares no System V IPC with them, and keeps its temporary files to itself; its working
 * directory and the worker's cache stay visible, since the mount namespace starts as a copy.
 *
 * <p>{@code --kill-child} makes the tool die with its {@code unshare} parent, so killing the
 * process Hearth started (and its descendants) ends the tool. Needs the right to create namespaces:
 * root, or unprivileged user namespaces (then {@code --map-root-user --user} are added).
 */
final class NamespaceSandbox implements PipedToolProcess.Launcher {
  private static final String PRIVATE_TMP = "mount -t tmpfs -o mode=1777 tmpfs /tmp && exec \"$@\"";

  private final List<String> prefix;

  private NamespaceSandbox(List<String> prefix) {
    this.prefix = prefix;
  }

  /**
   * A sandbox that this machine supports, found by trying {@code unshare} once as root and once in
   * a user namespace.
   *
   * @throws HearthException FAILED_PRECONDITION naming what failed, when neither works
   */
  static NamespaceSandbox probe() {
    List<String> failures = new ArrayList<>();
    for (List<String> userFlags :
        List.of(List.<String>of(), List.of("--map-root-user", "--user"))) {
      List<String> prefix = new ArrayList<>();
      prefix.add("unshare");
      prefix.addAll(userFlags);
      prefix.addAll(
          List.of(
              "--mount",
              "--pid",
              "--ipc",
              "--uts",
              "--fork",
              "--kill-child",
              "--mount-proc",
              "--"));
      prefix.addAll(List.of("/bin/sh", "-c", PRIVATE_TMP, "hearth-sandbox"));
      String failure = tryRun(prefix);
      if (failure == null) {
        return new NamespaceSandbox(List.copyOf(prefix));
      }
      failures.add(String.join(" ", prefix.subList(0, prefix.indexOf("--"))) + ": " + failure);
    }
    throw HearthException.failedPrecondition(
        "persistentWorkers.sandbox is \"namespaces\", but this machine cannot create Linux"
            + " namespaces (%s); run the worker as root, enable unprivileged user namespaces"
            + " (sysctl kernel.unprivileged_userns_clone=1), or set \"sandbox\": \"none\"",
        String.join("; ", failures));
  }

  private static String tryRun(List<String> prefix) {
    List<String> command = new ArrayList<>(prefix);
    command.add("/bin/true");
    try {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      process.getOutputStream().close();
      byte[] output = process.getInputStream().readAllBytes();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return "did not finish within 10 seconds";
      }
      if (process.exitValue() != 0) {
        return "exit "
            + process.exitValue()
            + ": "
            + new String(output, StandardCharsets.UTF_8).trim();
      }
      return null;
    } catch (IOException e) {
      return e.getMessage();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    }
  }

  @Override
  public Process launch(ProcessBuilder builder) throws IOException {
    List<String> command = new ArrayList<>(prefix);
    command.addAll(builder.command());
    builder.command(command);
    return builder.start();
  }

  @Override
  public String toString() {
    return "NamespaceSandbox" + prefix.subList(0, prefix.indexOf("--"));
  }
}
