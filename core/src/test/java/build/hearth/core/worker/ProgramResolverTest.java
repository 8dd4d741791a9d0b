package build.hearth.core.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProgramResolverTest {
  @TempDir Path root;

  private Path executable(Path file) throws IOException {
    Files.createDirectories(file.getParent());
    Files.writeString(file, "#!/bin/sh\n");
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rwxr-xr-x"));
    return file;
  }

  @Test
  void aBareNameInTheWorkingDirectoryRunsAsReapi22Says() throws IOException {
    Path work = root.resolve("work");
    Path script = executable(work.resolve("cmd.sh"));

    assertThat(ProgramResolver.resolve("cmd.sh", Map.of(), work)).isEqualTo(script);
  }

  @Test
  void theWorkingDirectoryComesBeforePath() throws IOException {
    Path work = root.resolve("work");
    Path local = executable(work.resolve("tool"));
    executable(root.resolve("bin/tool"));

    assertThat(
            ProgramResolver.resolve("tool", Map.of("PATH", root.resolve("bin").toString()), work))
        .isEqualTo(local);
  }

  @Test
  void aBareNameNotInTheWorkingDirectoryIsLookedUpInPath() throws IOException {
    Path work = Files.createDirectories(root.resolve("work"));
    Path tool = executable(root.resolve("bin/tool"));

    assertThat(
            ProgramResolver.resolve("tool", Map.of("PATH", root.resolve("bin").toString()), work))
        .isEqualTo(tool);
    assertThat(ProgramResolver.resolve("sh", Map.of(), work).toString()).endsWith("/sh");
  }

  @Test
  void aNonExecutableFileInTheWorkingDirectoryFallsBackToPathAndIsNamedInTheError()
      throws IOException {
    Path work = Files.createDirectories(root.resolve("work"));
    Files.writeString(work.resolve("cmd.sh"), "echo\n");

    assertThatThrownBy(
            () -> ProgramResolver.resolve("cmd.sh", Map.of("PATH", "/nonexistent"), work))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION))
        .hasMessageContaining("cannot run program 'cmd.sh'")
        .hasMessageContaining(
            "the file of that name in the working directory is not an executable file")
        .hasMessageContaining("not found in the action's PATH '/nonexistent'");
  }

  @Test
  void theErrorForAMissingProgramNamesEveryPlaceTried() throws IOException {
    Path work = Files.createDirectories(root.resolve("work"));

    assertThatThrownBy(() -> ProgramResolver.resolve("no-such-tool", Map.of(), work))
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> assertThat(e.code()).isEqualTo(StatusCode.FAILED_PRECONDITION))
        .hasMessageContaining(
            "cannot run program 'no-such-tool': no such file in the input tree, relative to the"
                + " working directory, and not found in the default PATH (the action sets none)"
                + " '/bin:/usr/bin'");
  }

  @Test
  void pathsWithASeparatorAreNotSearched() throws IOException {
    Path work = Files.createDirectories(root.resolve("work"));
    Path script = executable(work.resolve("tools/run.sh"));
    executable(root.resolve("bin/tools/other.sh"));

    assertThat(ProgramResolver.resolve("tools/run.sh", Map.of(), work)).isEqualTo(script);
    assertThatThrownBy(
            () ->
                ProgramResolver.resolve(
                    "tools/other.sh", Map.of("PATH", root.resolve("bin").toString()), work))
        .hasMessageContaining("no such file in the input tree, relative to the working directory");
  }
}
