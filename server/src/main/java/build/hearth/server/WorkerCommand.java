package build.hearth.server;

import build.hearth.agent.WorkerAgent;
import build.hearth.core.config.WorkerConfig;
import build.hearth.core.worker.WorkerRuntime;
import build.hearth.spi.storage.StoreProviderRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code hearth worker}: runs actions for a scheduler on another machine (or this one). */
@Command(
    name = "worker",
    mixinStandardHelpOptions = true,
    description = {
      "Connects to a Hearth scheduler and runs the actions it assigns, until stopped (SIGTERM or"
          + " Ctrl-C). Reconnects with back-off when the scheduler restarts.",
      "On SIGTERM it drains: takes no new actions, lets the running ones finish (up to"
          + " --drain-timeout; the rest go back to the scheduler's queue), stops its persistent"
          + " worker processes and exits with status 0.",
      "Inputs are fetched from the scheduler's CAS into a local cache and hard-linked into each"
          + " action's directory; outputs are uploaded back."
    })
final class WorkerCommand implements Callable<Integer> {
  @Option(
      names = "--scheduler-endpoint",
      required = true,
      paramLabel = "URL",
      description =
          "The server whose worker API to join, such as http://localhost:50052, or"
              + " grpcs://scheduler.example:8980 over TLS. Several servers of one service (a"
              + " shared scheduler state) go comma-separated: the worker tries the next when its"
              + " stream ends or a connection fails, and re-attaches with the actions it still"
              + " runs.")
  String endpoint;

  @Mixin ClientCredentialOptions credentials;

  @Option(
      names = "--config",
      paramLabel = "FILE",
      description =
          "A worker JSON file (name, slots, properties, workDirectory, cache,"
              + " persistentWorkers, sandbox, tls, tokenFile, maxMessageSize); see"
              + " docs/configuration.md. Every"
              + " field is optional; the --tls-* and --token-file options take the place of the file's values.")
  Path config;

  @Option(
      names = "--drain-timeout",
      paramLabel = "SECONDS",
      defaultValue = "60",
      description =
          "How long a stopping worker waits for its running actions to finish (default:"
              + " ${DEFAULT-VALUE}); 0 hands them back to the scheduler at once.")
  long drainTimeoutSeconds;

  @Override
  public Integer call() throws InterruptedException {
    WorkerConfig worker =
        config == null
            ? WorkerConfig.parseStandalone("{}", "(defaults)")
            : WorkerConfig.loadStandalone(config);
    StoreProviderRegistry registry =
        StoreProviderRegistry.discover(WorkerCommand.class.getClassLoader());
    AtomicReference<WorkerAgent> self = new AtomicReference<>();
    AtomicReference<WorkerRuntime> started = new AtomicReference<>();
    WorkerAgent.Builder builder = WorkerAgent.newBuilder();
    credentials.tls(worker.credentials()).ifPresent(builder::tls);
    credentials.token(worker.credentials(), System.getenv()).ifPresent(builder::bearerToken);
    WorkerAgent agent =
        builder
            .endpoints(java.util.Arrays.stream(endpoint.split(",")).map(String::strip).toList())
            .name(worker.name())
            .slots(worker.slots())
            .maxInboundMessageBytes(worker.maxMessageBytes())
            .properties(worker.offeredProperties())
            .runner(
                casForInstance -> {
                  WorkerRuntime runtime = WorkerRuntime.open(worker, registry, casForInstance);
                  // The scheduler routes actions of a key to workers with idle warm processes.
                  runtime.onWarmProcessesChanged(idle -> self.get().reportWarmProcesses(idle));
                  started.set(runtime);
                  return runtime;
                })
            // The network its sandbox gives actions, and the sandbox itself for the server's
            // `hearth admin status`, as the runtime found them at start.
            .runnerProperties(() -> started.get().offeredProperties(Map.of()))
            .sandbox(() -> started.get().sandboxCapabilities())
            // The server's metrics and `hearth admin worker-stats` show this worker's pool.
            .statusSupplier(
                () -> {
                  WorkerRuntime runtime = started.get();
                  return runtime == null ? Optional.empty() : runtime.persistentWorkerStats();
                })
            .build();
    self.set(agent);
    if (drainTimeoutSeconds < 0) {
      throw new picocli.CommandLine.ParameterException(
          new picocli.CommandLine(this),
          "--drain-timeout must be 0 or more seconds, not " + drainTimeoutSeconds);
    }
    Duration drainTimeout = Duration.ofSeconds(drainTimeoutSeconds);
    CountDownLatch stopped = new CountDownLatch(1);
    AtomicBoolean running = new AtomicBoolean();
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  agent.drain(drainTimeout);
                  agent.close();
                  stopped.countDown();
                  if (running.get()) {
                    // A worker asked to stop that has drained has done its job: exit 0, not the
                    // 143 the JVM reports after SIGTERM, so service managers see a clean stop.
                    Runtime.getRuntime().halt(0);
                  }
                },
                "hearth-worker-shutdown"));
    agent.start();
    running.set(true);
    stopped.await();
    return 0;
  }
}
