package build.hearth.benchmarks;

import build.hearth.core.config.SandboxConfig;
import build.hearth.core.process.ProcessLauncher;
import build.hearth.core.sandbox.ConfinedProcess;
import build.hearth.core.sandbox.Confinement;
import build.hearth.core.sandbox.Sandbox;
import build.hearth.core.sandbox.SandboxCapabilities;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalInt;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * What the action sandbox adds to one process start, with nothing else of Hearth in the way: {@code
 * /bin/true} started and waited for from this JVM directly, through Hearth's {@link Sandbox}
 * (bubblewrap, the switch to {@code nobody}, a network namespace; then again with the cgroup limits
 * every action gets by default), and through Bazel's own {@code linux-sandbox} binary with the
 * nearest options (its own network namespace, {@code nobody}), the anchor. The variants take turns
 * in rounds, so a change in the machine's speed during the run touches all of them alike. One
 * thread: this measures the cost of a start, not throughput.
 *
 * <pre>
 * java -jar benchmarks/target/hearth-benchmarks.jar sandbox-spawn [--spawns 200] [--rounds 3]
 * </pre>
 */
@Command(
    name = "sandbox-spawn",
    mixinStandardHelpOptions = true,
    description =
        "Measures the start of /bin/true directly, in Hearth's sandbox and in Bazel's"
            + " linux-sandbox, in one run; prints a Markdown table. Needs root and bubblewrap.")
final class SandboxSpawnDriver implements Callable<Integer> {
  private static final Path DEBIAN_LINUX_SANDBOX =
      Path.of("/usr/libexec/x86_64-linux-gnu/bazel/linux-sandbox");

  @Option(
      names = "--spawns",
      paramLabel = "N",
      description = "Measured starts per variant and round (default: ${DEFAULT-VALUE}).")
  int spawns = 200;

  @Option(
      names = "--rounds",
      paramLabel = "N",
      description = "Rounds; each runs every variant once, after one unmeasured round.")
  int rounds = 3;

  @Option(
      names = "--linux-sandbox",
      paramLabel = "PATH",
      description = "Bazel's linux-sandbox binary (default: Debian's, ${DEFAULT-VALUE}).")
  Path linuxSandbox = DEBIAN_LINUX_SANDBOX;

  /** One way of starting the command. */
  private interface Variant {
    void spawn(Path directory) throws IOException, InterruptedException;
  }

  @Override
  public Integer call() throws Exception {
    if (!Files.isExecutable(linuxSandbox)) {
      System.err.println(
          "no Bazel linux-sandbox at "
              + linuxSandbox
              + " (Debian: apt-get install -y bazel-bootstrap); pass --linux-sandbox PATH");
      return 2;
    }
    SandboxConfig required = SandboxConfig.DEFAULT.withMode(SandboxConfig.Mode.REQUIRED);
    try (ScratchDirectory scratch =
            ScratchDirectory.create(Path.of(System.getProperty("java.io.tmpdir")), "spawn-");
        Sandbox sandbox = Sandbox.start(required, "spawn-benchmark")) {
      Path directory = Files.createDirectories(scratch.path().resolve("exec"));
      SandboxCapabilities capabilities = sandbox.capabilities();
      Map<String, Variant> variants = new LinkedHashMap<>();
      variants.put("direct (ProcessBuilder)", dir -> waitFor(start(List.of("/bin/true"), dir)));
      variants.put(
          "Hearth sandbox, no limits (as a tool process)",
          dir -> confined(sandbox, dir, Confinement.of(dir)));
      variants.put(
          "Hearth sandbox, default limits (as an action)",
          dir ->
              confined(
                  sandbox,
                  dir,
                  new Confinement(
                      dir,
                      List.of(),
                      false,
                      OptionalLong.empty(),
                      OptionalInt.of(SandboxConfig.DEFAULT_PROCESS_LIMIT))));
      variants.put(
          "Bazel linux-sandbox -N -U (anchor)",
          dir ->
              waitFor(
                  start(
                      List.of(
                          linuxSandbox.toString(),
                          "-W",
                          dir.toString(),
                          "-w",
                          dir.toString(),
                          "-H",
                          "-N",
                          "-U",
                          "--",
                          "/bin/true"),
                      dir)));
      Map<String, List<Long>> times = new LinkedHashMap<>();
      variants.keySet().forEach(name -> times.put(name, new ArrayList<>()));
      for (int round = 0; round <= rounds; round++) {
        for (Map.Entry<String, Variant> variant : variants.entrySet()) {
          for (int i = 0; i < spawns; i++) {
            long start = System.nanoTime();
            variant.getValue().spawn(directory);
            long elapsed = System.nanoTime() - start;
            if (round > 0) {
              times.get(variant.getKey()).add(elapsed);
            }
          }
          System.err.printf(
              Locale.ROOT, "round %d of %d: %s done%n", round, rounds, variant.getKey());
        }
      }
      System.out.println(report(times, capabilities));
    }
    return 0;
  }

  private String report(Map<String, List<Long>> times, SandboxCapabilities capabilities) {
    StringBuilder out = new StringBuilder();
    out.append(
        "## Starting one process: direct, in Hearth's sandbox, in Bazel's linux-sandbox\n\n");
    out.append(
        String.format(
            Locale.ROOT,
            "- Command: `/bin/true`, started and waited for from one thread of this JVM; %d rounds"
                + " of %d starts per variant, after one unmeasured round, variants in turn%n",
            rounds,
            spawns));
    out.append("- Hearth's sandbox here: ")
        .append(capabilities.available())
        .append(", cgroups ")
        .append(capabilities.cgroups())
        .append(", actions as ")
        .append(capabilities.actionUser())
        .append('\n');
    out.append(
        String.format(
            Locale.ROOT, "- Load average (1, 5, 15 min) after: %s%n%n", Report.loadAverage()));
    out.append("| Variant | Starts | p50 | min | p90 | p50 added over direct |\n");
    out.append("|---|---:|---:|---:|---:|---:|\n");
    double direct = -1;
    for (Map.Entry<String, List<Long>> entry : times.entrySet()) {
      long[] sorted = entry.getValue().stream().mapToLong(Long::longValue).sorted().toArray();
      double p50 = millis(sorted[sorted.length / 2]);
      if (direct < 0) {
        direct = p50;
      }
      out.append(
          String.format(
              Locale.ROOT,
              "| %s | %d | %.2f ms | %.2f ms | %.2f ms | %s |%n",
              entry.getKey(),
              sorted.length,
              p50,
              millis(sorted[0]),
              millis(sorted[(int) (sorted.length * 0.9)]),
              p50 == direct ? "" : String.format(Locale.ROOT, "%.2f ms", p50 - direct)));
    }
    return out.toString();
  }

  private static void confined(Sandbox sandbox, Path directory, Confinement confinement)
      throws IOException, InterruptedException {
    ProcessLauncher.Request request =
        new ProcessLauncher.Request(
            List.of("/bin/true"),
            Map.of("PATH", TrivialActions.PATH),
            directory,
            ProcessLauncher.Request.NO_INPUT,
            Redirect.DISCARD,
            Redirect.DISCARD);
    try (ConfinedProcess confined =
        sandbox.launch(ProcessLauncher.system(), request, confinement)) {
      waitFor(confined.process());
    }
  }

  private static Process start(List<String> command, Path directory) throws IOException {
    ProcessBuilder builder =
        new ProcessBuilder(command)
            .directory(directory.toFile())
            .redirectInput(ProcessLauncher.Request.NO_INPUT)
            .redirectOutput(Redirect.DISCARD)
            .redirectError(Redirect.DISCARD);
    builder.environment().clear();
    builder.environment().put("PATH", TrivialActions.PATH);
    return builder.start();
  }

  private static void waitFor(Process process) throws InterruptedException {
    int exit = process.waitFor();
    if (exit != 0) {
      throw new IllegalStateException(process.info().command().orElse("?") + " exited " + exit);
    }
  }

  private static double millis(long nanos) {
    return nanos / 1e6;
  }
}
