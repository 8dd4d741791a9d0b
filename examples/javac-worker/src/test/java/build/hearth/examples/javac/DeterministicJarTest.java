package build.hearth.examples.javac;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The same sources give the same jar, byte for byte, wherever and whenever they are compiled. */
class DeterministicJarTest {
  @TempDir Path first;
  @TempDir Path second;

  @Test
  void sameSourcesInDifferentDirectoriesGiveIdenticalJars() throws Exception {
    Javac javac = new Javac();
    Path jar1 = compile(javac, first);
    Path jar2 = compile(javac, second);

    assertThat(Files.readAllBytes(jar1)).isEqualTo(Files.readAllBytes(jar2));
    List<String> names = Sources.entryNames(jar1);
    assertThat(names.subList(0, 2)).containsExactly("META-INF/", "META-INF/MANIFEST.MF");
    assertThat(names.subList(2, names.size()))
        .isSorted()
        .contains("m/A.class", "m/B.class", "m/B$Inner.class", "z/Z.class");
    assertThat(Sources.entryTimes(jar1).values())
        .containsOnly(Sources.entryTimes(jar1).firstEntry().getValue());
    Map<String, String> contents = Sources.entryContents(jar1);
    assertThat(contents.get("META-INF/MANIFEST.MF"))
        .isEqualTo("Manifest-Version: 1.0\r\nCreated-By: hearth-javac-worker\r\n\r\n");
    assertThat(contents.values()).noneMatch(content -> content.contains(first.toString()));
  }

  private static Path compile(Javac javac, Path root) {
    Path z = Sources.write(root, "src/z/Z.java", "package z;\npublic class Z {}\n");
    Path b =
        Sources.write(
            root, "src/m/B.java", "package m;\npublic class B { class Inner {} z.Z z; A a; }\n");
    Path a = Sources.write(root, "src/m/A.java", "package m;\npublic class A {}\n");
    Path jar = root.resolve("out/m.jar");
    CompileRequest request =
        CompileRequest.parse(Sources.arguments(jar, List.of(), z, b, a), Path.of(""));
    Javac.Outcome outcome = javac.compile(request, 0, () -> false);
    assertThat(outcome.exitCode()).as(outcome.output()).isZero();
    return jar;
  }
}
