package build.hearth.benchmarks;

import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * The runnable jar's entry point: one subcommand per load driver, {@code cas} ({@link
 * CasLoadDriver}), {@code execute} ({@link ExecuteLoadDriver}), {@code sandbox-spawn} ({@link
 * SandboxSpawnDriver}), {@code input-tree} ({@link InputTreeDriver}), issue 15's fault and load
 * drivers {@code crash} ({@link CrashLoadDriver}) and {@code overload} ({@link OverloadDriver}),
 * see docs/reliability.md, and {@code redis} ({@link RedisStoreDriver}), issue 16's Redis store
 * rates.
 *
 * <pre>
 * java -jar benchmarks/target/hearth-benchmarks.jar cas [--help]
 * java -jar benchmarks/target/hearth-benchmarks.jar execute [--help]
 * </pre>
 */
@Command(
    name = "hearth-benchmarks",
    mixinStandardHelpOptions = true,
    description =
        "Load drivers that measure Hearth (see docs/benchmarks.md); name one of the commands.")
public final class Benchmarks implements Callable<Integer> {
  @Spec CommandSpec spec;

  /** Runs the named load driver with the rest of the arguments. */
  public static void main(String[] args) {
    quietServerLogs();
    System.exit(commandLine().execute(args));
  }

  static CommandLine commandLine() {
    return new CommandLine(new Benchmarks())
        .addSubcommand("cas", new CasLoadDriver())
        .addSubcommand("execute", new ExecuteLoadDriver())
        .addSubcommand("sandbox-spawn", new SandboxSpawnDriver())
        .addSubcommand("input-tree", new InputTreeDriver())
        .addSubcommand("crash", new CrashLoadDriver())
        .addSubcommand("overload", new OverloadDriver())
        .addSubcommand("redis", new RedisStoreDriver());
  }

  /**
   * The server logs every start at INFO; that would interleave with the progress lines. Only if the
   * user did not choose a level.
   */
  static void quietServerLogs() {
    if (System.getProperty("org.slf4j.simpleLogger.defaultLogLevel") == null) {
      System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    }
  }

  @Override
  public Integer call() {
    throw new CommandLine.ParameterException(
        spec.commandLine(),
        "name a load driver: cas, execute, sandbox-spawn, input-tree, crash, overload or redis"
            + " (see --help)");
  }
}
