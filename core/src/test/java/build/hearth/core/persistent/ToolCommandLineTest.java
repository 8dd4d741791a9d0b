package build.hearth.core.persistent;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.hearth.api.HearthException;
import build.hearth.api.StatusCode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ToolCommandLineTest {
  @TempDir Path directory;

  private static ToolCommandLine split(String... arguments) {
    return ToolCommandLine.split(List.of(arguments)).orElseThrow();
  }

  private void file(String name, String... lines) throws IOException {
    Path path = directory.resolve(name);
    Files.createDirectories(path.getParent());
    Files.write(path, List.of(lines), StandardCharsets.UTF_8);
  }

  private static void assertInvalid(Runnable call, String... fragments) {
    assertThatThrownBy(call::run)
        .isInstanceOfSatisfying(
            HearthException.class,
            e -> {
              assertThat(e.code()).isEqualTo(StatusCode.INVALID_ARGUMENT);
              assertThat(e.getMessage()).contains(fragments);
            });
  }

  @Test
  void takesFlagFilesFromAnywhereAndAppendsPersistentWorkerLast() {
    ToolCommandLine line =
        split(
            "external/local_jdk/bin/java",
            "@first.params",
            "-jar",
            "tools/JavaBuilder_deploy.jar",
            "--flagfile=second.params",
            "-Xmx1g",
            "-flagfile=third.params",
            "@last.params");

    assertThat(line.startupArguments())
        .containsExactly(
            "external/local_jdk/bin/java",
            "-jar",
            "tools/JavaBuilder_deploy.jar",
            "-Xmx1g",
            "--persistent_worker");
    assertThat(line.flagFiles())
        .containsExactly(
            "@first.params", "--flagfile=second.params", "-flagfile=third.params", "@last.params");
  }

  @Test
  void withoutAFlagFileOrWithoutAProgramThereIsNothingToSplit() {
    assertThat(ToolCommandLine.split(List.of("javac", "-d", "out", "A.java"))).isEmpty();
    assertThat(ToolCommandLine.split(List.of())).isEmpty();
    assertThat(ToolCommandLine.split(List.of("@only.params"))).isEmpty();
    // "@" alone and "--flagfile=" with no name do not match Bazel's pattern.
    assertThat(ToolCommandLine.split(List.of("tool", "@", "--flagfile="))).isEmpty();
  }

  @Test
  void escapedAndLabelLookingArgumentsGoToTheRequestUnexpanded() throws IOException {
    file("a.params", "--real");
    ToolCommandLine line =
        split("tool", "@@literal", "@repo//pkg:target", "@//pkg:local", "@a.params");

    assertThat(line.startupArguments()).containsExactly("tool", "--persistent_worker");
    assertThat(line.requestArguments(directory))
        .containsExactly("@@literal", "@repo//pkg:target", "@//pkg:local", "--real");
  }

  @Test
  void expandsFlagFilesRecursivelyLineByLine() throws IOException {
    file(
        "a.params",
        "-d",
        "out dir",
        "@nested/b.params",
        "",
        "@@escaped",
        "--flagfile=not/expanded");
    file("nested/b.params", "-source", "@nested/c.params", "17");
    file("nested/c.params", "--deepest");
    file("d.params", "Ünïcode");

    ToolCommandLine line = split("tool", "@a.params", "--flagfile=kept.params", "@d.params");

    assertThat(line.requestArguments(directory))
        .containsExactly(
            "-d",
            "out dir",
            "-source",
            "--deepest",
            "17",
            "",
            "@@escaped",
            "--flagfile=not/expanded",
            "--flagfile=kept.params",
            "Ünïcode");
  }

  @Test
  void theSameFileMayBeIncludedTwiceWithoutACycle() throws IOException {
    file("a.params", "@common.params", "@common.params");
    file("common.params", "-g");

    assertThat(split("tool", "@a.params", "@common.params").requestArguments(directory))
        .containsExactly("-g", "-g", "-g");
  }

  @Test
  void aMissingFlagFileIsAnInvalidArgument() throws IOException {
    file("a.params", "@missing.params");

    assertInvalid(
        () -> split("tool", "@absent.params").requestArguments(directory),
        "flag file 'absent.params' does not exist");
    assertInvalid(
        () -> split("tool", "@a.params").requestArguments(directory),
        "flag file 'missing.params' (included from a.params) does not exist");
  }

  @Test
  void aCycleIsAnInvalidArgumentNamingTheChain() throws IOException {
    file("a.params", "-x", "@b.params");
    file("b.params", "@./a.params");
    file("self.params", "@self.params");

    assertInvalid(
        () -> split("tool", "@a.params").requestArguments(directory),
        "cycle",
        "a.params -> b.params -> ./a.params");
    assertInvalid(
        () -> split("tool", "@self.params").requestArguments(directory), "cycle", "self.params");
  }

  @Test
  void nestingIsLimited() throws IOException {
    for (int i = 0; i <= ToolCommandLine.MAX_DEPTH; i++) {
      file("p" + i + ".params", "@p" + (i + 1) + ".params");
    }
    file("p" + (ToolCommandLine.MAX_DEPTH + 1) + ".params", "-end");

    assertInvalid(
        () -> split("tool", "@p0.params").requestArguments(directory), "nest more than 16 deep");
  }

  @Test
  void flagFilesOutsideTheDirectoryAreRefused() throws IOException {
    Path outside = Files.writeString(directory.resolve("outside.params"), "--secret\n");
    Path root = Files.createDirectories(directory.resolve("root"));
    Files.createSymbolicLink(root.resolve("link.params"), outside);
    Files.writeString(root.resolve("inner.params"), "@../outside.params\n");

    assertInvalid(() -> split("tool", "@" + outside).requestArguments(root), "is an absolute path");
    assertInvalid(
        () -> split("tool", "@../outside.params").requestArguments(root),
        "lies outside the action's input tree");
    assertInvalid(
        () -> split("tool", "@sub/../../outside.params").requestArguments(root),
        "lies outside the action's input tree");
    assertInvalid(
        () -> split("tool", "@inner.params").requestArguments(root),
        "'../outside.params' (included from inner.params) lies outside");
    assertInvalid(
        () -> split("tool", "@link.params").requestArguments(root),
        "symbolic link leading outside");
  }

  @Test
  void aDirectoryIsNotAFlagFile() throws IOException {
    Files.createDirectories(directory.resolve("dir.params"));

    assertInvalid(
        () -> split("tool", "@dir.params").requestArguments(directory), "is not a regular file");
  }

  @Test
  void aFlagFileThatIsNotUtf8IsRefused() throws IOException {
    Files.write(directory.resolve("latin1.params"), new byte[] {'-', (byte) 0xe9, '\n'});

    assertInvalid(
        () -> split("tool", "@latin1.params").requestArguments(directory), "is not valid UTF-8");
  }

  @Test
  void toolFileCandidatesAreTheRelativePathsOfTheStartupCommand() {
    ToolCommandLine line =
        split(
            "external/local_jdk/bin/java",
            "-Xmx1g",
            "-cp",
            "tools/a.jar:./tools/b.jar::/abs/c.jar",
            "--add-opens=x=y",
            "tools/../Main.jar",
            "/usr/bin/abs",
            "../escape.jar",
            "KEY=value",
            "@flags.params");

    assertThat(line.toolFileCandidates())
        .containsExactly("external/local_jdk/bin/java", "tools/a.jar", "tools/b.jar", "Main.jar");
  }

  @Test
  void equalCommandLinesAreEqual() {
    assertThat(split("tool", "@a"))
        .isEqualTo(split("tool", "@a"))
        .hasSameHashCodeAs(split("tool", "@a"));
    assertThat(split("tool", "@a")).isNotEqualTo(split("tool", "@b"));
    assertThat(split("tool", "@a").toString()).contains("tool", "@a");
  }
}
