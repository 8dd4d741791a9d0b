package build.hearth.examples.javac;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** One-shot mode: {@code java -jar javac-worker.jar @flagfile} compiles once and exits. */
@Timeout(value = 2, unit = TimeUnit.MINUTES)
class OneShotTest {
  @TempDir Path dir;
  private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();

  @Test
  void compilesAFlagFileIntoAJarAndExitsWithZero() throws Exception {
    Path base = Sources.simpleClass(dir, "base", "Base", 40);
    Path baseJar = dir.resolve("out/base.jar");
    assertThat(run("@" + flagFile("base.params", Sources.arguments(baseJar, List.of(), base))))
        .as(stderr())
        .isZero();
    Path user =
        Sources.write(
            dir,
            "src/user/User.java",
            "package user;\n\npublic class User {\n"
                + "  public static int value() {\n    return base.Base.value() + 2;\n  }\n}\n");
    Path userJar = dir.resolve("out/user.jar");
    assertThat(
            run("@" + flagFile("user.params", Sources.arguments(userJar, List.of(baseJar), user))))
        .as(stderr())
        .isZero();

    assertThat(Sources.entryNames(userJar))
        .containsExactly("META-INF/", "META-INF/MANIFEST.MF", "user/User.class");
    try (URLClassLoader loader =
        new URLClassLoader(new URL[] {baseJar.toUri().toURL(), userJar.toUri().toURL()}, null)) {
      Object value = loader.loadClass("user.User").getMethod("value").invoke(null);
      assertThat(value).isEqualTo(42);
    }
  }

  @Test
  void warningsAreShownAndDoNotFailTheCompilation() {
    Path raw =
        Sources.write(
            dir,
            "src/w/Raw.java",
            "package w;\n\npublic class Raw {\n  java.util.List list = new java.util.ArrayList();\n}\n");
    List<String> args = new ArrayList<>(Sources.arguments(dir.resolve("w.jar"), List.of(), raw));
    args.addAll(List.of("--javacopt", "-Xlint:all"));
    assertThat(run("@" + flagFile("w.params", args))).isZero();
    assertThat(stderr()).contains("Raw.java:4: warning: [rawtypes]");
    assertThat(dir.resolve("w.jar")).exists();
  }

  @Test
  void compileErrorsExitWithOneAndPrintDiagnostics() {
    Path broken =
        Sources.write(
            dir, "src/bad/Broken.java", "package bad;\n\npublic class Broken {\n  Missing m;\n}\n");
    Path jar = dir.resolve("bad.jar");
    assertThat(run("@" + flagFile("bad.params", Sources.arguments(jar, List.of(), broken))))
        .isEqualTo(1);
    assertThat(stderr()).contains("Broken.java:4: error: cannot find symbol");
    assertThat(jar).doesNotExist();
  }

  @Test
  void badArgumentsExitWithTwoAndSayWhatIsWrong() {
    Path source = Sources.simpleClass(dir, "p", "P", 1);
    assertBadArguments(List.of(), "usage: java -jar javac-worker.jar");
    assertBadArguments(List.of("@" + dir.resolve("missing.params")), "cannot read flag file");
    assertBadArguments(List.of("--source", source.toString()), "--output PATH.jar is required");
    assertBadArguments(
        List.of("--output", "x.jar", "--srcs", source.toString()), "unknown argument '--srcs'");
    assertBadArguments(List.of("--output", "x.jar", "--source"), "--source needs a value");
    assertBadArguments(
        List.of("--output", "x.jar", "--source", dir.resolve("Nope.java").toString()),
        "source file " + dir.resolve("Nope.java") + " does not exist");
    assertBadArguments(
        List.of("--output", "x.jar", "--javacopt", "-d", "--source", source.toString()),
        "--javacopt -d is not allowed");
    assertBadArguments(List.of("--protocol=xml", "@x"), "--protocol=xml is not a protocol");
  }

  @Test
  void theProtocolFlagIsIgnoredWhenCompilingOnce() {
    Path source = Sources.simpleClass(dir, "p", "P", 1);
    Path params = flagFile("p.params", Sources.arguments(dir.resolve("p.jar"), List.of(), source));
    assertThat(run("--protocol=json", "@" + params)).as(stderr()).isZero();
    assertThat(dir.resolve("p.jar")).exists();
  }

  @Test
  void aRealProcessExitsWithTheCompilersStatus() {
    Path good = Sources.simpleClass(dir, "g", "Good", 1);
    Path bad = Sources.write(dir, "src/b/Bad.java", "package b;\nclass Bad { oops }\n");
    Path goodParams =
        flagFile("good.params", Sources.arguments(dir.resolve("good.jar"), List.of(), good));
    Path badParams =
        flagFile("bad.params", Sources.arguments(dir.resolve("bad.jar"), List.of(), bad));

    assertThat(WorkerJvm.runOnce(dir, "@" + goodParams)).isZero();
    assertThat(WorkerJvm.runOnce(dir, "@" + badParams)).isEqualTo(1);
    assertThat(WorkerJvm.runOnce(dir, "--output")).isEqualTo(2);
    assertThat(dir.resolve("good.jar")).exists();
  }

  private void assertBadArguments(List<String> args, String message) {
    stderr.reset();
    assertThat(run(args.toArray(String[]::new))).as("exit status for %s", args).isEqualTo(2);
    assertThat(stderr()).as("stderr for %s", args).contains(message);
  }

  private int run(String... args) {
    return Main.run(
        List.of(args),
        new ByteArrayInputStream(new byte[0]),
        new ByteArrayOutputStream(),
        new PrintStream(stderr, true, StandardCharsets.UTF_8));
  }

  private String stderr() {
    return stderr.toString(StandardCharsets.UTF_8);
  }

  private Path flagFile(String name, List<String> lines) {
    try {
      return Files.write(dir.resolve(name), lines, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
