package build.hearth.core.worker;

import java.io.File;
import java.io.IOException;
import java.lang.ProcessBuilder.Redirect;
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
    // The JDK starts from a copy of this JVM's environment; an action must see only its own.
    environment.clear();
    environment.putAll(request.environment());
    builder.directory(request.workingDirectory().toFile());
    builder.redirectOutput(Redirect.appendTo(request.stdout().toFile()));
    builder.redirectError(Redirect.appendTo(request.stderr().toFile()));
    boolean nullDevice = NULL_DEVICE.exists();
    if (nullDevice) {
      builder.redirectInput(Redirect.from(NULL_DEVICE));
    }
    Process process = builder.start();
    if (!nullDevice) {
      // Without /dev/null, a closed pipe gives the same immediate end of input.
      process.getOutputStream().close();
    }
    return process;
  }

  @Override
  public String toString() {
    return "ProcessLauncher.system()";
  }
}
