package build.hearth.core.worker;

import build.hearth.api.HearthException;
import build.hearth.core.process.ProcessLauncher;
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
 * directory and the worker's cache stay visible, since the mount namespace starts as a copy. A
 * process whose directory or command lies under {@code /tmp} keeps the host's {@code /tmp}, which a
 * private one would hide from it (logged once).
 *
 * <p>A decorator of the runner's {@link ProcessLauncher}: it prefixes the command line and lets the
 * launcher it wraps start the result. {@code --kill-child} makes the tool die with its {@code
 * unshare} parent, so killing the process Hearth started (and its descendants) ends the tool. Needs
 * the right to create namespaces: root, or unprivileged user namespaces (then {@code
 * --map-root-user --user} are added).
 */
final class NamespaceSandbox implements ProcessLauncher {
  private static final String PRIVATE_TMP = "mount -t tmpfs -o mode=1777 tmpfs /tmp && exec \"$@\"";

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(NamespaceSandbox.class);

  private final ProcessLauncher delegate;
  private final List<String> prefix;
  private final List<String> prefixKeepingTmp;
  private final java.util.concurrent.atomic.AtomicBoolean keptTmpLogged =
      new java.util.concurrent.atomic.AtomicBoolean();

  private NamespaceSandbox(ProcessLauncher delegate, List<String> prefix) {
    this.delegate = delegate;
    this.prefix = prefix;
    // The same namespaces without the private /tmp: for a tool whose own files live under /tmp,
    // which the private mount would hide.
    List<String> keeping = new ArrayList<>(prefix.subList(0, prefix.indexOf("--") + 1));
    this.prefixKeepingTmp = List.copyOf(keeping);
  }

  /**
   * Whether a process with this command and working directory needs the host's {@code /tmp}: its
   * directory or a path on its command line (a class path entry included) lies there.
   */
  static boolean needsHostTmp(List<String> command, java.nio.file.Path directory) {
    if (directory != null && directory.toAbsolutePath().startsWith("/tmp")) {
      return true;
    }
    for (String argument : command) {
      for (String part : argument.split("[:=]")) {
        if (part.equals("/tmp") || part.startsWith("/tmp/")) {
          return true;
        }
      }
    }
    return false;
  }

  /**
   * A sandbox that this machine supports, found by trying {@code unshare} once as root and once in
   * a user namespace, that starts the wrapped commands through {@code delegate}. The trials
   * themselves run through the JDK directly: they ask the kernel, not the launcher.
   *
   * @throws HearthException FAILED_PRECONDITION naming what failed, when neither works
   */
  static NamespaceSandbox probe(ProcessLauncher delegate) {
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
        return new NamespaceSandbox(delegate, List.copyOf(prefix));
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
  public Process launch(Request request) throws IOException {
    boolean keepTmp = needsHostTmp(request.arguments(), request.workingDirectory());
    if (keepTmp && keptTmpLogged.compareAndSet(false, true)) {
      log.info(
          "A persistent worker's directory or command lies under /tmp, so its sandbox keeps the"
              + " host's /tmp (move the worker's workDirectory and tools elsewhere for a private"
              + " one)");
    }
    List<String> command = new ArrayList<>(keepTmp ? prefixKeepingTmp : prefix);
    command.addAll(request.arguments());
    return delegate.launch(request.withArguments(command));
  }

  @Override
  public String toString() {
    return "NamespaceSandbox" + prefix.subList(0, prefix.indexOf("--"));
  }
}
