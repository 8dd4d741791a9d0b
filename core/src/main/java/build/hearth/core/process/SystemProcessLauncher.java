package build.hearth.core.process;

import java.io.File;
import java.io.IOException;
import java.util.Map;

/** {@link ProcessLauncher#system()}: the JDK's {@link ProcessBuilder}. Stateless. */
final class SystemProcessLauncher implements ProcessLauncher {
  static final SystemProcessLauncher INSTANCE = new SystemProcessLauncher();

  private static final File NULL_DEVICE = new File("/dev/null");

  private SystemProcessLauncher() {}

  @Override
  public Process launch(Request request) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(request.arguments());
    Map<String, String> environment = builder.environment();
    // The JDK starts from a copy of this JVM's environment; a process must see only its own.
    environment.clear();
    environment.putAll(request.environment());
    builder.directory(request.workingDirectory().toFile());
    builder.redirectOutput(request.stdout());
    builder.redirectError(request.stderr());
    boolean closeInput = request.stdin().equals(Request.NO_INPUT) && !NULL_DEVICE.exists();
    // Without /dev/null, a closed pipe gives the same immediate end of input.
    builder.redirectInput(closeInput ? ProcessBuilder.Redirect.PIPE : request.stdin());
    Process process = builder.start();
    if (closeInput) {
      process.getOutputStream().close();
    }
    return process;
  }

  @Override
  public String toString() {
    return "ProcessLauncher.system()";
  }
}
