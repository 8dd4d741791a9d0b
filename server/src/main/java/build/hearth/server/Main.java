package build.hearth.server;

import build.hearth.api.HearthException;
import build.hearth.core.config.HearthConfig;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** The {@code hearth} command line. */
@Command(
    name = "hearth",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = "Remote execution for build tools that keeps compilers warm.",
    subcommands = {Main.Serve.class, WorkerCommand.class, AdminCommand.class})
public final class Main implements Callable<Integer> {

  /**
   * Runs the command line and exits the JVM with its exit code.
   *
   * @param args the command line's arguments
   */
  public static void main(String[] args) {
    System.exit(run(args));
  }

  static int run(String... args) {
    return commandLine().execute(args);
  }

  /** The command line with its error handling; tests redirect its output. */
  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new Main());
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          if (e instanceof HearthException) {
            commandLine.getErr().println("hearth: " + e.getMessage());
            return 2;
          }
          throw e;
        });
    return cli;
  }

  @Override
  public Integer call() {
    new CommandLine(this).usage(System.out);
    return 0;
  }

  @Command(
      name = "serve",
      mixinStandardHelpOptions = true,
      description = {
        "Serves remote execution, the CAS, action cache and ByteStream over gRPC until stopped"
            + " (SIGTERM or Ctrl-C).",
        "Without CONFIG, uses the embedded default: everything on 127.0.0.1:50052, with an"
            + " in-process worker and filesystem stores under ~/.cache/hearth."
      })
  static final class Serve implements Callable<Integer> {
    @Parameters(
        arity = "0..1",
        paramLabel = "CONFIG",
        description = "A JSON configuration file (see docs/configuration.md).")
    Path config;

    @Override
    public Integer call() throws InterruptedException {
      HearthConfig parsed =
          config == null ? HearthConfig.embeddedDefault() : HearthConfig.load(config);
      HearthServer server = HearthServer.start(parsed);
      Thread hook = new Thread(server::close, "hearth-shutdown");
      Runtime.getRuntime().addShutdownHook(hook);
      server.awaitShutdown();
      return 0;
    }
  }

  /** Reads the version from the jar's manifest. */
  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      String version = Main.class.getPackage().getImplementationVersion();
      return new String[] {"hearth " + (version == null ? "(development build)" : version)};
    }
  }
}
