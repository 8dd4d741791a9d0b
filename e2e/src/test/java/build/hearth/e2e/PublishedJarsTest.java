package build.hearth.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.jar.JarFile;
import org.junit.jupiter.api.Test;

/**
 * Every published module's build leaves a {@code -sources} and a {@code -javadoc} jar beside its
 * jar (which install and deploy then publish), so an IDE shows Hearth's code and documentation; and
 * the javac worker is published as a runnable jar. Runs after those modules in the reactor.
 */
class PublishedJarsTest {
  private static final String VERSION = "0.1.0-SNAPSHOT";

  /** Module directory and artifact id of every published module. */
  private static final List<List<String>> PUBLISHED =
      List.of(
          List.of("proto", "hearth-proto"),
          List.of("api", "hearth-api"),
          List.of("spi", "hearth-spi"),
          List.of("testing", "hearth-testing"),
          List.of("testing-transport", "hearth-testing-transport"),
          List.of("core", "hearth-core"),
          List.of("grpc", "hearth-grpc"),
          List.of("worker-agent", "hearth-worker-agent"),
          List.of("server", "hearth-server"),
          List.of("examples/javac-worker", "hearth-javac-worker"));

  @Test
  void everyPublishedModuleHasSourcesAndJavadocJars() throws IOException {
    Path root = E2eDirectories.target().getParent().getParent();
    for (List<String> module : PUBLISHED) {
      Path target = root.resolve(module.get(0)).resolve("target");
      String base = module.get(1) + "-" + VERSION;
      for (String classifier : List.of("sources", "javadoc")) {
        Path jar = target.resolve(base + "-" + classifier + ".jar");
        assertThat(jar).as("%s's %s jar", module.get(1), classifier).isNotEmptyFile();
      }
    }
    Path javadoc = root.resolve("core/target/hearth-core-" + VERSION + "-javadoc.jar");
    try (JarFile jar = new JarFile(javadoc.toFile())) {
      assertThat(jar.getEntry("build.hearth.core/build/hearth/core/Hearth.html"))
          .as("Hearth's page in the core javadoc jar")
          .isNotNull();
    }
  }

  @Test
  void theJavacWorkerIsPublishedAsARunnableJar() throws IOException {
    Path root = E2eDirectories.target().getParent().getParent();
    Path all =
        root.resolve("examples/javac-worker/target/hearth-javac-worker-" + VERSION + "-all.jar");
    try (JarFile jar = new JarFile(all.toFile())) {
      assertThat(jar.getManifest().getMainAttributes().getValue("Main-Class"))
          .as("Main-Class of %s", all)
          .isEqualTo("build.hearth.examples.javac.Main");
      assertThat(jar.getEntry("com/google/protobuf/Message.class"))
          .as("protobuf inside the runnable jar")
          .isNotNull();
    }
  }
}
