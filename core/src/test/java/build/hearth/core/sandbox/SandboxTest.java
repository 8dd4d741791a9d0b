package build.hearth.core.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import build.hearth.core.config.SandboxConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.OptionalInt;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Starting a {@link Sandbox} on this machine (bubblewrap installed, as root on CI). */
class SandboxTest {
  @TempDir Path tempDir;

  private static SandboxConfig config(String user, List<Path> readOnlyPaths) {
    return new SandboxConfig(
        SandboxConfig.Mode.OPTIONAL,
        user,
        "",
        false,
        OptionalLong.empty(),
        OptionalLong.empty(),
        OptionalInt.empty(),
        OptionalInt.empty(),
        readOnlyPaths,
        Path.of("bwrap"));
  }

  @Test
  void aRootWorkerRefusesToStartForAUserThatDoesNotExist() {
    assertThat(System.getProperty("user.name")).isEqualTo("root");

    assertThatThrownBy(
            () -> Sandbox.start(config("no-such-user-hearth", List.of(Path.of("/usr"))), "w"))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION))
        .hasMessageContaining("sandbox.user \"no-such-user-hearth\" does not exist");
  }

  @Test
  void warnsWhenTheWorkDirectoryIsVisibleToActions() throws IOException {
    assertThat(SandboxProbe.findProgram(Path.of("bwrap"))).isPresent();
    List<Path> system = new java.util.ArrayList<>(SandboxConfig.DEFAULT_READ_ONLY_PATHS);
    system.add(tempDir);
    try (Sandbox sandbox = Sandbox.start(config("nobody", system), "w")) {
      assertThat(sandbox.capabilities().has(SandboxCapabilities.Part.MOUNT)).isTrue();

      assertThat(sandbox.warnIfVisible(Files.createDirectories(tempDir.resolve("work")))).isTrue();
      assertThat(sandbox.warnIfVisible(Path.of("/var/lib/hearth/work"))).isFalse();
    }
  }

  @Test
  void aToolSeesTheAbsolutePathsOfItsCommandLineAndTheJvm() throws IOException {
    Path jar = Files.createFile(tempDir.resolve("tool.jar"));
    Path classes = Files.createDirectories(tempDir.resolve("classes"));

    List<Path> paths =
        Sandbox.toolPaths(
            List.of(
                "/usr/bin/java",
                "-cp",
                jar + ":" + classes + ":relative/dir",
                "--flag=" + jar,
                tempDir.resolve("missing").toString()));

    assertThat(paths)
        .containsExactly(
            Path.of("/usr/bin/java"), jar, classes, jar, Path.of(System.getProperty("java.home")));
  }

  @Test
  void onlyWhatEveryUserCouldReadIsBoundForATool() throws IOException {
    Path open = Files.createDirectories(tempDir.resolve("open"));
    Path file = Files.createFile(open.resolve("tool.jar"));
    Path hidden = Files.createDirectories(tempDir.resolve("private"));
    Path secret = Files.createFile(hidden.resolve("blob"));
    Files.setPosixFilePermissions(tempDir, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-r--r--"));
    Files.setPosixFilePermissions(hidden, PosixFilePermissions.fromString("rwx------"));
    Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-r--r--"));

    assertThat(Sandbox.publiclyReadable(file)).isTrue();
    assertThat(Sandbox.publiclyReadable(secret)).isFalse();
    assertThat(Sandbox.publiclyReadable(tempDir.resolve("missing"))).isFalse();
  }

  @Test
  void aToolMayNotBindTheWorkDirectoryNorAnythingAboveOrInsideIt() throws IOException {
    Path open = Files.createDirectories(tempDir.resolve("open"));
    Path work = Files.createDirectories(open.resolve("work"));
    Path inside = Files.createDirectories(work.resolve("persistent/other-key"));
    Path tool = Files.createFile(open.resolve("tool.jar"));
    for (Path p : List.of(tempDir, open, work, work.resolve("persistent"), inside)) {
      Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
    }
    Files.setPosixFilePermissions(tool, PosixFilePermissions.fromString("rw-r--r--"));

    assertThat(Sandbox.bindable(tool, work)).isTrue();
    assertThat(Sandbox.bindable(Path.of("/"), work)).as("the root, which holds it").isFalse();
    assertThat(Sandbox.bindable(open, work)).as("its parent").isFalse();
    assertThat(Sandbox.bindable(work, work)).as("itself").isFalse();
    assertThat(Sandbox.bindable(inside, work)).as("another key's directory").isFalse();
  }
}
