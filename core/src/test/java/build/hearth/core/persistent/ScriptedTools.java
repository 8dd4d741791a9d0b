package build.hearth.core.persistent;

import build.hearth.api.ToolProtocol;
import build.hearth.proto.worker.WorkRequest;
import com.fasterxml.jackson.core.JsonFactory;
import com.google.protobuf.Message;
import java.io.File;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Starts {@link ScriptedTool} in a JVM of its own, for tests of anything that drives persistent
 * workers (the process, the pool, the runner).
 *
 * <pre>{@code
 * PipedToolProcess process = ScriptedTools.start(directory, ToolProtocol.JSON, true);
 * WorkResponse response = process.send(ScriptedTools.request(1, "echo", "hi")).join();
 * }</pre>
 */
public final class ScriptedTools {
  private ScriptedTools() {}

  /**
   * The JVM and class path that run the tool, up to and including its main class; the tool's flags
   * and {@code --persistent_worker} follow.
   */
  public static List<String> javaCommand() {
    return List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        // A small, quickly started JVM: tests start many of them on few cores.
        "-XX:+UseSerialGC",
        "-XX:TieredStopAtLevel=1",
        "-XX:-UsePerfData",
        "-Xshare:auto",
        "-cp",
        classPath(),
        ScriptedTool.class.getName());
  }

  /**
   * The whole command line: {@link #javaCommand()}, {@code flags}, then {@code
   * --persistent_worker}.
   */
  static List<String> command(String... flags) {
    List<String> command = new ArrayList<>(javaCommand());
    command.addAll(List.of(flags));
    command.add(ToolCommandLine.PERSISTENT_WORKER_FLAG);
    return command;
  }

  /**
   * A spec for the tool running in {@code directory}, logging to {@code directory/stderr.log}, with
   * the protocol and multiplex flags set on both sides.
   */
  static PipedToolProcess.Spec spec(
      Path directory, ToolProtocol protocol, boolean multiplex, String... flags) {
    List<String> toolFlags = new ArrayList<>();
    if (protocol == ToolProtocol.JSON) {
      toolFlags.add("--protocol=json");
    }
    if (multiplex) {
      toolFlags.add("--multiplex");
    }
    toolFlags.addAll(List.of(flags));
    return PipedToolProcess.Spec.newBuilder()
        .command(command(toolFlags.toArray(String[]::new)))
        .environment(Map.of("HEARTH_SCRIPTED_TOOL", "yes"))
        .workingDirectory(directory.toAbsolutePath())
        .logFile(directory.resolve("stderr.log").toAbsolutePath())
        .protocol(protocol)
        .multiplex(multiplex)
        .build();
  }

  static PipedToolProcess start(
      Path directory, ToolProtocol protocol, boolean multiplex, String... flags) {
    return PipedToolProcess.start(spec(directory, protocol, multiplex, flags));
  }

  /** A request with id {@code id} whose arguments are the script {@code arguments}. */
  static WorkRequest request(int id, String... arguments) {
    return WorkRequest.newBuilder().setRequestId(id).addAllArguments(List.of(arguments)).build();
  }

  /**
   * Only what the tool needs (its own classes, the worker protocol, protobuf, jackson-core), found
   * where this JVM loaded them from: smaller and sturdier than this JVM's class path, which under
   * surefire may be a manifest-only jar.
   */
  private static String classPath() {
    Set<String> entries = new LinkedHashSet<>();
    Stream.of(ScriptedTool.class, WorkRequest.class, Message.class, JsonFactory.class)
        .forEach(type -> entries.add(location(type)));
    return String.join(File.pathSeparator, entries);
  }

  private static String location(Class<?> type) {
    try {
      return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
    } catch (URISyntaxException e) {
      throw new IllegalStateException("cannot locate the classes of " + type, e);
    }
  }
}
